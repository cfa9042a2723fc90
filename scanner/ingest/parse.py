"""Feed bytes to normalized items: RSS, Atom and RDF through feedparser, JSON Feed by hand.

A malformed feed is not an error: feedparser's `bozo` flag and reason are kept and
the entries it salvaged are normalized. Only a body that is no feed at all (an HTML
page, an empty body, unparseable JSON) yields no items, with the reason recorded.

One bad entry never loses the feed: an entry that cannot be made an item is skipped
and counted (`rejected`), a field of the wrong type is coerced or dropped with a note
naming it. Parsing is bounded: a body with more markup than `max_elements` is refused
unparsed (`too_large`), and feedparser's tag handling, quadratic in the tags of one
entry, is replaced by a linear one that keeps the first MAX_TAGS_PER_ENTRY
(scanner.ingest.parse_worker adds a deadline on top).
"""

from __future__ import annotations

import calendar
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser
import feedparser.mixin

from scanner.ingest.encoding import repair_gb_bytes
from scanner.ingest.normalize import clean_text, make_item

_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")
#: Markup characters ('<' in XML, '{' in JSON) above which a body is refused unparsed:
#: about 500,000 elements, some 15 s of feedparser. [fetch] max_elements overrides it.
MAX_ELEMENTS = 1_000_000
#: Tags (categories, subjects, keywords) kept per entry or feed; 200 are stored.
MAX_TAGS_PER_ENTRY = 1_000
#: Longest text of the notes kept on a fetch row.
MAX_NOTES_CHARS = 2_000


def _add_tag_linear(self: Any, term: Any, scheme: Any, label: Any) -> None:
    """feedparser's _add_tag with a set beside the list: the same tags, in linear time.

    The original checks each new tag against every tag so far (FeedParserDict
    comparisons): 60,000 categories in one Atom entry took 104 s. Tags past
    MAX_TAGS_PER_ENTRY are dropped and counted on the entry (scanner_tags_dropped).
    """
    context = self._get_context()
    tags = context.setdefault("tags", [])
    if (not term) and (not scheme) and (not label):
        return
    sets = self.__dict__.setdefault("_scanner_tag_sets", {})
    known = sets.get(id(context))
    if known is None or known[0] is not tags:
        known = sets[id(context)] = (tags, {(t.get("term"), t.get("scheme"), t.get("label"))
                                            for t in tags})
    key = (term, scheme, label)
    if key in known[1]:
        return
    if len(tags) >= MAX_TAGS_PER_ENTRY:
        context["scanner_tags_dropped"] = context.get("scanner_tags_dropped", 0) + 1
        return
    known[1].add(key)
    tags.append(feedparser.FeedParserDict(term=term, scheme=scheme, label=label))


# Both of feedparser's parsers (strict and loose) take _add_tag from this mixin; when
# a feedparser release renames it, the original stays and
# tests/test_parse_robust.py::test_linear_tags_are_feedparser_tags fails.
_MIXIN = getattr(feedparser.mixin, "_FeedParserMixin", None)
FEEDPARSER_ADD_TAG = getattr(_MIXIN, "_add_tag", None)  # the original, for the tests
if FEEDPARSER_ADD_TAG is not None:
    _MIXIN._add_tag = _add_tag_linear


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
    too_large: str | None = None  # why the body was refused unparsed, if it was
    rejected: int = 0  # entries that could not be made items (skipped, counted)
    notes: Counter[str] = field(default_factory=Counter)  # coercions and skips, by kind

    def note(self, text: str) -> None:
        """Count one coercion, skip or trim under its description."""
        self.notes[text] += 1

    def notes_text(self) -> str | None:
        """The notes as one line for the fetch row ('3x title is a list: strings joined')."""
        if not self.notes:
            return None
        text = "; ".join(f"{n}x {what}" if n > 1 else what
                         for what, n in self.notes.most_common())
        return text[:MAX_NOTES_CHARS]


def looks_like_html(body: bytes, content_type: str | None = None) -> bool:
    """True when the body is an HTML page rather than a feed."""
    head = body[:2048].lstrip().lower()
    if content_type and "html" in content_type.lower() and b"<rss" not in head \
            and b"<feed" not in head:
        return True
    return head.startswith(_HTML_MARKERS)


def looks_like_json(body: bytes, content_type: str | None = None) -> bool:
    """True when the body should be read as JSON Feed (markup served as JSON is not)."""
    start = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if content_type and "json" in content_type.lower():
        return not start.startswith(b"<")
    return start.startswith(b"{")


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
    base_url: str | None = None,
    max_elements: int = MAX_ELEMENTS,
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
        base_url: the feed's URL, against which relative links are resolved (after
            the entry's xml:base, which feedparser applies).
        max_elements: markup characters above which the body is refused unparsed.
    """
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = lowered.get("content-type")
    if not body.strip():
        return ParsedFeed(format="", not_a_feed="empty response body")
    is_json = looks_like_json(body, content_type)
    marks = body.count(b"{" if is_json else b"<")
    if marks > max_elements:
        return ParsedFeed(format="json" if is_json else "", too_large=(
            f"{marks:,} {'{' if is_json else '<'} characters in the body, more than the "
            f"cap of {max_elements:,} (max_elements): refused unparsed"))
    if is_json:
        from scanner.ingest.jsonfeed import parse_json_feed

        return parse_json_feed(body, source_id, item_kind, fetched_at, language, origin,
                               base_url)
    if looks_like_html(body, content_type):
        return ParsedFeed(
            format="html", bozo=True, bozo_class="NotAFeed",
            not_a_feed=f"response is an HTML page, not a feed (Content-Type {content_type!r})",
        )

    body, lowered, repaired = repair_gb_bytes(body, lowered, language)
    parsed = feedparser.parse(io.BytesIO(body), response_headers=lowered)
    exc = parsed.get("bozo_exception")
    result = ParsedFeed(
        format=parsed.get("version") or "",
        bozo=bool(parsed.get("bozo")),
        bozo_class=type(exc).__name__ if exc else None,
        bozo_message=str(exc)[:1000] if exc else None,
        title=clean_text(parsed.get("feed", {}).get("title", ""), 500),
        encoding=parsed.get("encoding"),
        entries_seen=len(parsed.entries),
    )
    if repaired:
        result.note(repaired)
    feed = parsed.get("feed", {})
    declared = feed.get("language") if isinstance(feed.get("language"), str) else None
    feed_language = (declared or language or "")[:2].lower()
    if feed.get("scanner_tags_dropped"):
        result.note(f"{feed['scanner_tags_dropped']:,} feed-level tags past "
                    f"{MAX_TAGS_PER_ENTRY:,} dropped")
    for index, entry in enumerate(parsed.entries):
        try:
            result.items.append(_feed_item(entry, source_id, item_kind, fetched_at,
                                           feed_language or None, origin, base_url))
        except Exception as error:  # one bad entry must not lose the others
            result.rejected += 1
            result.note(f"entry skipped: {type(error).__name__}: {str(error)[:120]}")
            continue
        if entry.get("scanner_tags_dropped"):
            result.note(f"entry {index}: {entry['scanner_tags_dropped']:,} tags past "
                        f"{MAX_TAGS_PER_ENTRY:,} dropped (the first "
                        f"{MAX_TAGS_PER_ENTRY:,} kept)")
    if not result.format and not result.items:
        result.not_a_feed = (
            f"no feed found in the response ({result.bozo_class or 'unknown format'}: "
            f"{result.bozo_message or 'no RSS, Atom or RDF root element'})"
        )
    return result


def _feed_item(entry: Mapping[str, Any], source_id: str, item_kind: str,
               fetched_at: datetime, language: str | None, origin: str | None,
               base_url: str | None) -> dict[str, Any]:
    """One feedparser entry as an item."""
    arxiv_primary = entry.get("arxiv_primary_category") or {}
    raw_date = entry.get("published") or entry.get("updated")
    date = _struct_to_datetime(entry.get("published_parsed") or entry.get("updated_parsed"))
    summary, is_html = _entry_summary(entry)
    return make_item(
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
        language=language,
        primary_category=arxiv_primary.get("term") if arxiv_primary else None,
        doi=entry.get("arxiv_doi") or entry.get("prism_doi") or entry.get("dc_identifier"),
        origin=origin,
        html=is_html,
        base_url=base_url,
    )
