"""The minimum-content rule."""

from __future__ import annotations

import pytest

from scanner.assign.content import MIN_CONTENT_UNITS, content_units, has_minimum_content


@pytest.mark.parametrize(("title", "text"), [
    ("国内联播快讯", ""), ("Untitled", None), ("Update 3", ""), ("", ""), (None, None),
    ("a b c d e f g h i", ""),  # single letters are not words
    ("2024", "!!! ??? ..."),
])
def test_near_empty_items_are_not_judged(title: str | None, text: str | None) -> None:
    assert not has_minimum_content(title, text)


@pytest.mark.parametrize(("title", "text"), [
    ("Deep learning for legged robots", "We train a locomotion policy in simulation."),
    ("人形机器人产业加快发展", "工信部今天发布人形机器人创新发展指导意见"),
    ("GaN power devices", "Gallium nitride transistors switch at 10 MHz with low loss."),
])
def test_a_sentence_of_content_is_enough(title: str, text: str) -> None:
    assert has_minimum_content(title, text)
    assert content_units(title, text) >= MIN_CONTENT_UNITS
