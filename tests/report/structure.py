"""The structure a panel's report must have, checked on HTML text (from the renderer or
from a browser's DOM): summary first, every internal link resolves, every chart has
axis labels, and a Chinese report's reasons hold no English."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Names that stay as they are in a Chinese text.
PROPER_NAMES = {"arXiv", "EScore"}


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.sections: list[str] = []
        self.links: list[str] = []
        self.svgs: list[dict[str, object]] = []
        self.reasons: list[str] = []
        self._reason_depth = 0
        self._svg: dict[str, object] | None = None
        self._text_class = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
            if tag == "section":
                self.sections.append(a["id"] or "")
        if tag == "a" and (a.get("href") or "").startswith("#"):
            self.links.append((a.get("href") or "")[1:])
        if tag == "svg" and "chart" in (a.get("class") or ""):
            self._svg = {"class": a.get("class"), "x": 0, "y": 0}
            self.svgs.append(self._svg)
        if tag == "text" and self._svg is not None:
            self._text_class = a.get("class") or ""
        if "reason" in (a.get("class") or "").split():
            self._reason_depth = 1
            self.reasons.append("")
        elif self._reason_depth and tag not in ("br",):
            self._reason_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._svg = None
        if tag == "text":
            self._text_class = ""
        if self._reason_depth:
            self._reason_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._svg is not None and data.strip():
            if "axis-x" in self._text_class:
                self._svg["x"] = int(self._svg["x"]) + 1  # type: ignore[call-overload]
            if "axis-y" in self._text_class:
                self._svg["y"] = int(self._svg["y"]) + 1  # type: ignore[call-overload]
        if self._reason_depth:
            self.reasons[-1] += data


def check_structure(html: str, lang: str) -> dict[str, int]:
    """Assert the report's structure; returns counts of what was checked."""
    outline = _Outline()
    outline.feed(html)
    assert outline.sections and outline.sections[0] == "summary", outline.sections[:3]
    assert "toc" in outline.ids
    assert len(outline.ids) == len(set(outline.ids)), "duplicate ids"
    missing = sorted(set(outline.links) - set(outline.ids))
    assert not missing, f"links to no anchor: {missing[:10]}"
    for svg in outline.svgs:
        assert svg["x"] and svg["y"], f"a chart without axis labels: {svg}"
    if lang == "zh":
        for text in outline.reasons:
            words = [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in PROPER_NAMES]
            assert not words, f"English in a Chinese reason: {words} in {text!r}"
    return {"links": len(outline.links), "charts": len(outline.svgs),
            "reasons": len(outline.reasons)}
