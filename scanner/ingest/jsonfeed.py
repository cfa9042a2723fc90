"""JSON Feed 1.0/1.1 (jsonfeed.org), read item by item: feedparser does not read it.

JSON gives any type anywhere. Each field is read for what it should be: text (a
number becomes its digits, a list its strings joined), a URL (a list gives its first
string), authors (objects with a name, or strings), tags (strings), a date (RFC 3339
text, or a number read as a Unix time). Anything else is ignored with a note naming the
field, so a Python repr is never stored; an item that is not an object, or fails, is
skipped and counted, and the other items are kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from scanner.ingest.datecheck import parse_date_text, unix_time
from scanner.ingest.normalize import clean_text, make_item
from scanner.ingest.parse import ParsedFeed


def _json_text(entry: Mapping[str, Any], name: str, result: ParsedFeed) -> str | None:
    """A JSON Feed text field: a string; numbers as text; a list's strings joined."""
    value = entry.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        parts = [v for v in value if isinstance(v, str)]
        result.note(f"{name} is a list: its strings joined")
        return " ".join(parts) or None
    result.note(f"{name} is {type(value).__name__}, not text: ignored")
    return None


def _json_url(entry: Mapping[str, Any], result: ParsedFeed) -> str | None:
    """`url`, else `external_url`: a string, or a list's first string."""
    for name in ("url", "external_url"):
        value = entry.get(name)
        if isinstance(value, list):
            result.note(f"{name} is a list: its first string used")
            value = next((v for v in value if isinstance(v, str)), None)
        elif value is not None and not isinstance(value, str):
            result.note(f"{name} is {type(value).__name__}, not a URL: ignored")
            value = None
        if value:
            return value
    return None


def _json_authors(entry: Mapping[str, Any], result: ParsedFeed) -> list[str]:
    """Names from `authors` (1.1) or `author` (1.0): objects with a name, or strings."""
    value = entry.get("authors")
    if value is None:
        value = entry.get("author")
    if value is None:
        return []
    if isinstance(value, dict | str):
        value = [value]
    if not isinstance(value, list):
        result.note(f"authors is {type(value).__name__}, not a list: ignored")
        return []
    names = []
    for author in value:
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str):
            names.append(name)
    return names


def _json_date(entry: Mapping[str, Any], result: ParsedFeed) -> tuple[datetime | None,
                                                                      str | None]:
    """(date, raw text) from date_published or date_modified.

    JSON Feed asks for RFC 3339 text. A number is read as a Unix time in seconds (in
    milliseconds when above 10^11, i.e. past the year 5138 in seconds), the raw text
    kept as the number's digits (one beyond the calendar reads as future or
    implausible); anything else is no date.
    """
    for name in ("date_published", "date_modified"):
        value = entry.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            return parse_date_text(value), value
        if isinstance(value, int | float) and not isinstance(value, bool):
            result.note(f"{name} is a number: read as a Unix time")
            # beyond the calendar (1e20 s): a date, but never a real one; the extremes
            # make it "future" or "implausible", not "missing"
            extreme = (datetime.max if value > 0 else datetime.min).replace(tzinfo=UTC)
            return unix_time(value) or extreme, str(value)
        result.note(f"{name} is {type(value).__name__}, not a date: ignored")
    return None, None


def _json_tags(entry: Mapping[str, Any], result: ParsedFeed) -> list[str]:
    value = entry.get("tags")
    if value is None:
        return []
    if not isinstance(value, list):
        result.note(f"tags is {type(value).__name__}, not a list: ignored")
        return []
    return [str(v) for v in value if isinstance(v, str | int | float)
            and not isinstance(v, bool)]


def parse_json_feed(
    body: bytes, source_id: str, item_kind: str, fetched_at: datetime,
    language: str | None, origin: str | None, base_url: str | None = None,
) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (jsonfeed.org), which feedparser does not read.

    Each item is read field by field: a field of the wrong type is coerced or
    ignored with a note, an item that is not an object (or fails) is skipped and
    counted, and the other items are kept.
    """
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return ParsedFeed(
            format="json", bozo=True, bozo_class=type(exc).__name__,
            bozo_message=str(exc)[:1000], not_a_feed=f"invalid JSON: {str(exc)[:300]}",
        )
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return ParsedFeed(
            format="json", bozo=True, bozo_class="NotAFeed",
            not_a_feed="JSON document without an 'items' list is not a JSON Feed",
        )
    version = data.get("version") if isinstance(data.get("version"), str) else ""
    result = ParsedFeed(
        format="json" + ("11" if version.endswith("1.1") else "10"),
        bozo="jsonfeed.org" not in version,
        title=clean_text(_json_text(data, "title", ParsedFeed(format="")), 500),
        encoding="utf-8",
        entries_seen=len(data["items"]),
    )
    if result.bozo:
        result.bozo_class, result.bozo_message = "JSONFeedVersion", f"unknown version {version!r}"
    declared = data.get("language") if isinstance(data.get("language"), str) else None
    feed_language = (declared or language or "")[:2].lower() or None
    for entry in data["items"]:
        if not isinstance(entry, dict):
            result.rejected += 1
            result.note(f"item skipped: {type(entry).__name__}, not an object")
            continue
        try:
            date, raw_date = _json_date(entry, result)
            item_id = entry.get("id")
            if item_id is not None and (isinstance(item_id, bool)
                                        or not isinstance(item_id, str | int)):
                result.note(f"id is {type(item_id).__name__}, not text: ignored")
            result.items.append(make_item(
                source_id=source_id,
                kind=item_kind,
                title=_json_text(entry, "title", result),
                summary=_json_text(entry, "content_html", result)
                or _json_text(entry, "content_text", result) or _json_text(entry, "summary",
                                                                           result),
                fetched_at=fetched_at,
                url=_json_url(entry, result),
                guid=item_id if isinstance(item_id, str | int)
                and not isinstance(item_id, bool) else None,
                published=date,
                published_raw=raw_date,
                authors=_json_authors(entry, result),
                categories=_json_tags(entry, result),
                language=feed_language,
                origin=origin,
                base_url=base_url,
            ))
        except Exception as exc:  # one bad item must not lose the others
            result.rejected += 1
            result.note(f"item skipped: {type(exc).__name__}: {str(exc)[:120]}")
    return result
