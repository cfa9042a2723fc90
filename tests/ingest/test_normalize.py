"""Normalizing untrusted feed text into the one item shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanner.ingest.normalize import (
    arxiv_id,
    canonical_url,
    clean_text,
    detect_language,
    make_item,
    normalize_doi,
    resolve_published,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_clean_text_strips_markup_scripts_and_controls() -> None:
    hostile = '<p onclick="x()">Hi <b>there</b><script>alert(1)</script>\x00\x07 &amp; you</p>'
    assert clean_text(hostile) == "Hi there & you"


def test_plain_text_keeps_angle_brackets() -> None:
    assert clean_text("for x<y and z>w", html=False) == "for x<y and z>w"


@pytest.mark.parametrize(("text", "lang"), [
    ("上海发布加快推进未来产业的若干措施", "zh"),
    ("A tokamak with high-temperature superconducting magnets", "en"),
    ("脑机接口 brain-computer interface 临床试验进展顺利", "zh"),
    ("We study 量子 error correction codes for superconducting qubits in depth", "en"),
    ("", "und"),
])
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(("value", "expected"), [
    ("http://arxiv.org/abs/2104.12255v1", ("2104.12255", 1)),
    ("https://arxiv.org/pdf/2104.12255v3", ("2104.12255", 3)),
    ("oai:arXiv.org:2501.01234v2", ("2501.01234", 2)),
    ("http://arxiv.org/abs/cond-mat/0603029v1", ("cond-mat/0603029", 1)),
    ("1001.0225", ("1001.0225", None)),
    ("https://example.org/abs/1234", (None, None)),
])
def test_arxiv_id(value: str, expected: tuple) -> None:
    assert arxiv_id(value) == expected


def test_canonical_url_drops_trackers_and_fragments() -> None:
    assert canonical_url("HTTP://Example.ORG:80/a/b/?utm_source=x&id=3#top") == \
        "https://example.org/a/b?id=3"


def test_doi_normalized() -> None:
    assert normalize_doi("https://doi.org/10.1103/PhysRevB.74.144509.") == \
        "10.1103/physrevb.74.144509"


def test_dates_missing_future_and_implausible_are_flagged() -> None:
    assert resolve_published(None, NOW) == (NOW, "missing")
    assert resolve_published(NOW + timedelta(days=30), NOW) == (NOW, "future")
    assert resolve_published(datetime(1, 1, 1, tzinfo=UTC), NOW) == (NOW, "implausible")
    real = datetime(2025, 9, 26, tzinfo=UTC)
    assert resolve_published(real, NOW) == (real, "ok")


def test_id_precedence_arxiv_doi_url_guid() -> None:
    base = dict(source_id="s", kind="paper", title="t", summary="s", fetched_at=NOW)
    assert make_item(**base, url="http://arxiv.org/abs/2104.12255v2", doi="10.1234/x")["id"] == \
        "arxiv:2104.12255"
    assert make_item(**base, url="https://j.org/p", doi="10.1234/X")["id"] == "doi:10.1234/x"
    by_url = make_item(**base, url="https://j.org/p?utm_medium=rss")
    assert by_url["id"] == make_item(**base, url="https://J.org/p")["id"]
    assert make_item(**base, guid="tag:1")["id"].startswith("guid:")
    assert make_item(**base)["id"].startswith("hash:")


def test_versions_share_one_item_but_change_the_record() -> None:
    base = dict(source_id="s", kind="paper", title="t", summary="s", fetched_at=NOW)
    v1 = make_item(**base, url="http://arxiv.org/abs/2104.12255v1")
    v2 = make_item(**base, url="http://arxiv.org/abs/2104.12255v2")
    assert v1["id"] == v2["id"] and v1["content_hash"] == v2["content_hash"]
    assert v1["record_hash"] != v2["record_hash"]


def test_lengths_are_bounded() -> None:
    item = make_item(source_id="s", kind="news", title="x" * 5000, summary="y" * 100_000,
                     fetched_at=NOW, url="https://e.org/" + "z" * 10_000)
    assert len(item["title"]) == 1000 and len(item["summary"]) == 20_000
    assert len(item["url"]) <= 2048
