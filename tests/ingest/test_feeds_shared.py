"""Every recorded feed under ../shared/data/feeds goes through parse + normalize.

The oracle for entry counts is independent of feedparser: a count of <item>/<entry>
start tags in the raw bytes (or of JSON Feed items). For feedparser's own documents
the `Expect:` header says whether the document is ill-formed (bozo).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.ingest.parse import parse_feed
from tests.support.paths import SHARED_DATA, shared_path

FETCHED_AT = datetime(2026, 11, 23, tzinfo=UTC)
FEEDS = SHARED_DATA / "feeds"


def _files(folder: str) -> list[Path]:
    root = FEEDS / folder
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _header_text(raw: bytes) -> str:
    """The document's text for reading its comment header (UTF-16/32 files included)."""
    for encoding in ("utf-8", "utf-16", "utf-32"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "Expect:" in text:
            return text
    return raw.decode("latin-1")


def _recorded_headers(text: str) -> dict[str, str]:
    """HTTP headers the feedparser test declares; servers always send a Content-Type."""
    headers = {m.group(1).strip(): m.group(2).strip()
               for m in re.finditer(r"^Header:\s*([^:]+):\s*(.*)$", text, re.MULTILINE)}
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/xml"
    return headers


def _independent_count(raw: bytes, path: Path) -> int:
    if path.suffix == ".json":
        return len(json.loads(raw)["items"])
    return len(re.findall(rb"<(?:item|entry)[\s>]", raw))


def _arxiv_body(path: Path) -> bytes:
    raw = path.read_bytes()
    return json.loads(raw)["body"].encode("utf-8") if path.suffix == ".json" else raw


FEEDPARSER_FILES = _files("feedparser_tests")


@pytest.mark.parametrize("path", FEEDPARSER_FILES, ids=lambda p: str(p.relative_to(FEEDS)))
def test_feedparser_documents_bozo_agrees_with_expectation(path: Path) -> None:
    raw = path.read_bytes()
    text = _header_text(raw)
    parsed = parse_feed(raw, _recorded_headers(text), source_id="t", item_kind="news",
                        fetched_at=FETCHED_AT)
    expect = re.search(r"Expect:\s*(not\s+)?bozo", text)
    if expect:
        assert parsed.bozo == (expect.group(1) is None), (parsed.bozo_class, parsed.bozo_message)
    for item in parsed.items:
        assert item["id"] and item["content_hash"] and item["published"]


def test_feedparser_corpus_is_complete_enough() -> None:
    shared_path("feeds", "feedparser_tests")
    assert len(FEEDPARSER_FILES) > 2000


@pytest.mark.parametrize("path", _files("feedjira_sample_feeds") + _files("zh_real_feeds"),
                         ids=lambda p: p.name)
def test_real_world_feeds_entry_counts_titles_dates(path: Path) -> None:
    raw = path.read_bytes()
    parsed = parse_feed(raw, {}, source_id="t", item_kind="news", fetched_at=FETCHED_AT)
    assert len(parsed.items) == _independent_count(raw, path)
    for item in parsed.items:
        assert item["title"], "every real-world entry has a title"
        assert item["published_flag"] in ("ok", "missing")
        datetime.fromisoformat(item["published"])
    if parsed.bozo:
        assert parsed.bozo_class  # the reason is recorded, not just the flag


def test_chinese_feeds_are_chinese_and_mostly_salvaged() -> None:
    files = _files("zh_real_feeds") or [shared_path("feeds", "zh_real_feeds")]
    total = 0
    for path in files:
        parsed = parse_feed(path.read_bytes(), {}, source_id="zh", item_kind="news",
                            fetched_at=FETCHED_AT)
        assert parsed.items, f"{path.name}: no entries salvaged"
        zh = sum(item["language"] == "zh" for item in parsed.items)
        assert zh >= 0.8 * len(parsed.items), f"{path.name}: {zh}/{len(parsed.items)} zh"
        dated = sum(item["published_flag"] == "ok" for item in parsed.items)
        assert dated == len(parsed.items)
        total += len(parsed.items)
    assert total == 259  # 3 + 50 + 190 + 10 + 6 entries in the five recorded feeds


ARXIV_FILES = _files("arxiv_api_responses")


@pytest.mark.parametrize("path", ARXIV_FILES, ids=lambda p: p.name[:50])
def test_arxiv_responses_yield_ids_categories_versions(path: Path) -> None:
    body = _arxiv_body(path)
    parsed = parse_feed(body, {"Content-Type": "application/atom+xml"}, source_id="arxiv",
                        item_kind="paper", fetched_at=FETCHED_AT)
    assert parsed.format == "atom10" and not parsed.bozo
    expected_ids = re.findall(rb"<id>https?://arxiv\.org/abs/([^<]+?)v(\d+)</id>", body)
    papers = [item for item in parsed.items if item["id"].startswith("arxiv:")]
    assert len(papers) == len(expected_ids)
    for item, (raw_id, version) in zip(papers, expected_ids, strict=True):
        assert item["id"] == "arxiv:" + raw_id.decode()
        assert item["version"] == int(version)
        assert item["primary_category"], item["id"]
        assert item["url"].startswith("http")
        assert item["authors"]


def test_arxiv_old_style_and_doi() -> None:
    path = FEEDS / "arxiv_api_responses" / "search_query=au:del_maestro+AND+ti:checkerboard.xml"
    if not path.exists():
        pytest.skip(f"shared data {path} is missing")
    (item,) = parse_feed(path.read_bytes(), {}, source_id="arxiv", item_kind="paper",
                         fetched_at=FETCHED_AT).items
    assert item["id"] == "arxiv:cond-mat/0603029"
    assert item["primary_category"] == "cond-mat.str-el"
    assert item["doi"] and item["doi"].startswith("10.")
