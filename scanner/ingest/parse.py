"""Feed bytes to normalized items: RSS, Atom and RDF through feedparser, JSON Feed by hand.

A malformed feed is not an error: feedparser's `bozo` flag and reason are kept and
the entries it salvaged are normalized. Only a body that is no feed at all (an HTML
page, an empty body, unparseable JSON) yields no items, with the reason recorded.
"""

from __future__ import annotations

import calendar
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from scanner.ingest.normalize import make_item, parse_date_text

_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")


@dataclass
class ParsedFeed:
    """The result of parsing one response body."""

    format: str
    bozo: bool = False
    bozo_class: str | None = None
    bozo_message: str | None = None
    title: str = ""
    encoding: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    entries_seen: int = 0
    not_a_feed: str | None = None  # why the body is not a feed at all, if it is not


def looks_like_html(body: bytes, content_type: str | None = None) -> bool:
    """True when the body is an HTML page rather than a feed."""
    head = body[:2048].lstrip().lower()
    if content_type and "html" in content_type.lower() and b"<rss" not in head \
            and b"<feed" not in head:
        return True
    return head.startswith(_HTML_MARKERS)


def looks_like_json(body: bytes, content_type: str | None = None) -> bool:
    """True when the body should be read as JSON Feed."""
    if content_type and "json" in content_type.lower():
        return True
    return body[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _struct_to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        try:
            return datetime(*value[:6], tzinfo=UTC)
        except (TypeError, ValueError):
            return None


def _entry_link(entry: Mapping[str, Any]) -> str | None:
    for link in entry.get("links", []) or []:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    link = entry.get("link")
    return str(link) if link else None


def _entry_summary(entry: Mapping[str, Any]) -> tuple[str, bool]:
    """The entry's longest text and whether it is markup (False for text/plain)."""
    summary = entry.get("summary") or ""
    detail = entry.get("summary_detail") or {}
    is_html = detail.get("type", "text/html") != "text/plain"
    for content in entry.get("content") or []:
        value = content.get("value") or ""
        if len(value) > len(summary):
            summary, is_html = value, content.get("type", "text/html") != "text/plain"
    return summary, is_html


def _entry_authors(entry: Mapping[str, Any]) -> list[str]:
    names = [a.get("name") for a in entry.get("authors", []) or [] if a.get("name")]
    if not names and entry.get("author"):
        names = [entry["author"]]
    return names


def parse_feed(
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    source_id: str,
    item_kind: str,
    fetched_at: datetime,
    language: str | None = None,
    origin: str | None = None,
) -> ParsedFeed:
    """Parse a feed body and normalize its entries into items.

    Args:
        body: the raw (already decompressed) response body.
        headers: the HTTP response headers; Content-Type decides the charset.
        source_id: the source the items belong to.
        item_kind: paper, news or policy.
        fetched_at: when the body was fetched (stands in for missing dates).
        language: the source's declared language, used when text gives no clue.
        origin: provenance written on every item.
    """
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = lowered.get("content-type")
    if not body.strip():
        return ParsedFeed(format="", not_a_feed="empty response body")
    if looks_like_json(body, content_type):
        return _parse_json_feed(body, source_id, item_kind, fetched_at, language, origin)
    if looks_like_html(body, content_type):
        return ParsedFeed(
            format="html", bozo=True, bozo_class="NotAFeed",
            not_a_feed=f"response is an HTML page, not a feed (Content-Type {content_type!r})",
        )

    parsed = feedparser.parse(io.BytesIO(body), response_headers=lowered)
    exc = parsed.get("bozo_exception")
    result = ParsedFeed(
        format=parsed.get("version") or "",
        bozo=bool(parsed.get("bozo")),
        bozo_class=type(exc).__name__ if exc else None,
        bozo_message=str(exc)[:1000] if exc else None,
        title=str(parsed.get("feed", {}).get("title", ""))[:500],
        encoding=parsed.get("encoding"),
        entries_seen=len(parsed.entries),
    )
    feed_language = (parsed.get("feed", {}).get("language") or language or "")[:2].lower()
    for entry in parsed.entries:
        arxiv_primary = entry.get("arxiv_primary_category") or {}
        raw_date = entry.get("published") or entry.get("updated")
        date = _struct_to_datetime(entry.get("published_parsed") or entry.get("updated_parsed"))
        summary, is_html = _entry_summary(entry)
        result.items.append(
            make_item(
                source_id=source_id,
                kind=item_kind,
                title=entry.get("title"),
                summary=summary,
                fetched_at=fetched_at,
                url=_entry_link(entry),
                guid=entry.get("id"),
                published=date,
                published_raw=raw_date,
                authors=_entry_authors(entry),
                categories=[t.get("term") for t in entry.get("tags", []) or []],
                language=feed_language or None,
                primary_category=arxiv_primary.get("term") if arxiv_primary else None,
                doi=entry.get("arxiv_doi") or entry.get("prism_doi") or entry.get("dc_identifier"),
                origin=origin,
                html=is_html,
            )
        )
    if not result.format and not result.items:
        result.not_a_feed = (
            f"no feed found in the response ({result.bozo_class or 'unknown format'}: "
            f"{result.bozo_message or 'no RSS, Atom or RDF root element'})"
        )
    return result


def _parse_json_feed(
    body: bytes, source_id: str, item_kind: str, fetched_at: datetime,
    language: str | None, origin: str | None,
) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (jsonfeed.org), which feedparser does not read."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ParsedFeed(
            format="json", bozo=True, bozo_class=type(exc).__name__,
            bozo_message=str(exc)[:1000], not_a_feed=f"invalid JSON: {exc}",
        )
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return ParsedFeed(
            format="json", bozo=True, bozo_class="NotAFeed",
            not_a_feed="JSON document without an 'items' list is not a JSON Feed",
        )
    version = str(data.get("version", ""))
    result = ParsedFeed(
        format="json" + ("11" if version.endswith("1.1") else "10"),
        bozo="jsonfeed.org" not in version,
        title=str(data.get("title", ""))[:500],
        encoding="utf-8",
        entries_seen=len(data["items"]),
    )
    if result.bozo:
        result.bozo_class, result.bozo_message = "JSONFeedVersion", f"unknown version {version!r}"
    feed_language = str(data.get("language") or language or "")[:2].lower() or None
    for entry in data["items"]:
        if not isinstance(entry, dict):
            continue
        authors = entry.get("authors") or ([entry["author"]] if entry.get("author") else [])
        raw_date = entry.get("date_published") or entry.get("date_modified")
        result.items.append(
            make_item(
                source_id=source_id,
                kind=item_kind,
                title=entry.get("title"),
                summary=entry.get("content_html") or entry.get("content_text")
                or entry.get("summary"),
                fetched_at=fetched_at,
                url=entry.get("url") or entry.get("external_url"),
                guid=str(entry.get("id")) if entry.get("id") is not None else None,
                published=parse_date_text(raw_date),
                published_raw=raw_date if isinstance(raw_date, str) else None,
                authors=[a.get("name") for a in authors if isinstance(a, dict)],
                categories=entry.get("tags") if isinstance(entry.get("tags"), list) else [],
                language=feed_language,
                origin=origin,
            )
        )
    return result
