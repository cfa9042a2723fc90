"""The minimum-content rule: an item whose title and text together are too short to
judge is stored, but not assigned, not clustered as evidence and not shown as evidence.

A unit is a word of two or more letters or digits, or two CJK characters; an item needs
MIN_CONTENT_UNITS of them over its title and text. A bare headline ("国内联播快讯",
"Untitled", "Update 3") has too few; any paper with an abstract, and any news story with
a sentence of body, has enough.
"""

from __future__ import annotations

import re

#: Units (words, or pairs of CJK characters) an item needs over title and text.
MIN_CONTENT_UNITS = 8

_WORD = re.compile(r"[^\W\d_\u3400-\u9fff][^\W_\u3400-\u9fff]+|\d{2,}")
_CJK = re.compile(r"[\u3400-\u9fff]")


def content_units(title: str | None, text: str | None) -> float:
    """Words of 2+ letters or digits plus half the CJK characters, over title and text."""
    joined = f"{title or ''} {text or ''}"
    return len(_WORD.findall(joined)) + len(_CJK.findall(joined)) / 2


def has_minimum_content(title: str | None, text: str | None) -> bool:
    """Whether an item says enough to be judged (see the module's docstring)."""
    return content_units(title, text) >= MIN_CONTENT_UNITS
