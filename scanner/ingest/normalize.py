"""One item shape for everything that comes in: feeds, APIs and bulk dumps.

Feed text is untrusted. Normalizing strips markup to plain text, folds whitespace,
drops control characters and bounds lengths; the text is stored as data and is
escaped wherever it is shown.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scanner.ingest.datecheck import date_problem
from scanner.ingest.links import safe_href

ITEM_KINDS = ("paper", "news", "policy")

MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 20_000
MAX_URL_CHARS = 2_048
MAX_LIST_ENTRIES = 200

#: Dates this far ahead of the fetch time are treated as wrong, not as the future.
FUTURE_TOLERANCE = timedelta(days=1)
#: Dates before this are treated as wrong (year-1 placeholders, epoch zero, ...).
EARLIEST_PLAUSIBLE = datetime(1980, 1, 1, tzinfo=UTC)

_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7}"
_ARXIV_IN_URL = re.compile(
    rf"arxiv\.org/(?:abs|pdf|html)/({_ARXIV_NEW}|{_ARXIV_OLD})(?:v(\d+))?", re.IGNORECASE
)
_ARXIV_OAI = re.compile(rf"oai:arxiv\.org:({_ARXIV_NEW}|{_ARXIV_OLD})(?:v(\d+))?", re.IGNORECASE)
_ARXIV_BARE = re.compile(rf"^(?:arxiv:)?({_ARXIV_NEW}|{_ARXIV_OLD})(?:v(\d+))?$", re.IGNORECASE)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_TRACKING_PARAMS = re.compile(r"^(utm_|fbclid$|gclid$|spm$|from$|ref$)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff]")
#: Bidirectional formatting characters (embeddings, overrides, isolates, marks): removed
#: from stored text, so no title can display reversed or reorder what follows it.
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LATIN = re.compile(r"[A-Za-z]")


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, skipping script and style content."""

    _SKIP: ClassVar[set[str]] = {"script", "style", "noscript", "template", "iframe", "object"}
    _BLOCK: ClassVar[set[str]] = {
        "p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def clean_text(value: Any, max_chars: int = MAX_SUMMARY_CHARS, html: bool = True) -> str:
    """Plain text from possibly-HTML input: tags and scripts removed, whitespace folded.

    With html=False the value is known to be plain text (arXiv abstracts, dumps):
    a `<` is kept as the character it is, not taken for a tag.
    """
    if value is None or isinstance(value, bool | dict):
        return ""
    if isinstance(value, list | tuple):  # a JSON list where text belongs: its strings
        value = " ".join(str(v) for v in value if isinstance(v, str | int | float)
                         and not isinstance(v, bool))
    text = str(value)
    if html and "<" in text and ">" in text:
        parser = _TextExtractor()
        try:
            parser.feed(text)
            parser.close()
            text = "".join(parser.parts)
        except Exception:  # HTMLParser is lenient; this is a last resort
            text = re.sub(r"<[^>]*>", " ", text)
    elif html and "&" in text:
        text = unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = _BIDI.sub("", _CONTROL.sub(" ", text))
    text = _SPACE.sub(" ", text).strip()
    return text[:max_chars]


def detect_language(text: str) -> str:
    """'zh', 'en', 'ja', 'ko' or 'und' from the script mix of the text."""
    sample = text[:4000]
    cjk = len(_CJK.findall(sample))
    kana = len(_KANA.findall(sample))
    hangul = len(_HANGUL.findall(sample))
    latin = len(_LATIN.findall(sample))
    if kana >= 5 and kana * 4 >= cjk:
        return "ja"
    if hangul >= 5 and hangul > cjk:
        return "ko"
    # One Han character weighs about as much as three Latin letters of running text.
    if cjk and cjk * 3 >= latin * 0.5:
        return "zh"
    if latin >= 3:
        return "en"
    return "und"


def canonical_url(url: str | None) -> str:
    """A URL normalized for identity: lower-case scheme and host, no fragment or trackers."""
    if not url:
        return ""
    url = clean_text(url, MAX_URL_CHARS)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https"):
        return url
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
         if not _TRACKING_PARAMS.match(k)]
    )
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    netloc = parts.netloc.lower()
    if netloc.endswith(":80") or netloc.endswith(":443"):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit(("https", netloc, path, query, ""))


def arxiv_id(*candidates: str | None) -> tuple[str | None, int | None]:
    """The versionless arXiv id and the version found in URLs, OAI ids or bare ids."""
    for candidate in candidates:
        if not candidate:
            continue
        for pattern in (_ARXIV_IN_URL, _ARXIV_OAI, _ARXIV_BARE):
            match = pattern.search(candidate.strip())
            if match:
                version = int(match.group(2)) if match.group(2) else None
                return match.group(1), version
    return None, None


_ARXIV_SHORT = re.compile(r"(\d{2})(\d{2})\.(\d{1,5})(v\d+)?")


def restore_arxiv_zeros(value: str) -> str:
    """A bare new-style arXiv id whose trailing zeros were lost, as when a dump once held
    ids as numbers ("1801.0485" for 1801.04850), with them put back. The identifier scheme
    makes it unambiguous: ids of 0704 to 1412 have four digits after the dot, ids from
    1501 on five. Anything else is returned as it is."""
    match = _ARXIV_SHORT.fullmatch(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        return value
    yymm = int(match.group(1) + match.group(2))
    width = 5 if yymm >= 1501 else 4 if yymm >= 704 else 0
    number = match.group(3)
    if not width or len(number) >= width:
        return value
    return f"{match.group(1)}{match.group(2)}.{number.ljust(width, '0')}{match.group(4) or ''}"


def normalize_doi(value: str | None) -> str | None:
    """A DOI in lower case without resolver prefix, or None."""
    if not value:
        return None
    match = _DOI.search(value)
    return match.group(1).rstrip(".,;)").lower() if match else None


def _digest(*parts: str, size: int = 20) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:size]


def stable_id(
    *, arxiv: str | None, doi: str | None, url: str, guid: str | None, source_id: str,
    title: str, published_raw: str | None,
) -> str:
    """The item's identity: arXiv id, then DOI, then canonical URL, then feed guid.

    A canonical URL (no fragment, no trackers) is shared by every source and may be
    shared by distinct entries (a homepage link, `page#1` and `page#2`): the store
    keeps such entries apart through `entry_key` and `alt_id` (see `make_item`).
    """
    if arxiv:
        return f"arxiv:{arxiv}"
    if doi:
        return f"doi:{doi}"
    if url:
        return f"url:{_digest(url)}"
    if guid:
        return f"guid:{_digest(source_id, guid)}"
    return f"hash:{_digest(source_id, title, published_raw or '')}"


def resolve_published(
    published: datetime | None, fetched_at: datetime, raw: Any = None,
) -> tuple[datetime, str]:
    """The publication time to store and its flag: ok, missing, future or implausible.

    When the date is missing or wrong the fetch time stands in, so every item can
    be placed in a period, and the flag says it is a stand-in. `raw`, the date text
    as the feed gave it, is checked first: a date that cannot exist (month 13, day
    32, year 0 or below, `--01-01`, an offset beyond ±14 h) is implausible whatever a
    parser made of it.
    """
    if date_problem(raw):
        return fetched_at, "implausible"
    if published is None:
        return fetched_at, "missing"
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    published = published.astimezone(UTC)
    if published > fetched_at + FUTURE_TOLERANCE:
        return fetched_at, "future"
    if published < EARLIEST_PLAUSIBLE:
        return fetched_at, "implausible"
    return published, "ok"


def _clean_list(values: Iterable[Any] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        text = clean_text(value, 300)
        if text and text not in out:
            out.append(text)
        if len(out) >= MAX_LIST_ENTRIES:
            break
    return out


def make_item(
    *,
    source_id: str,
    kind: str,
    title: Any,
    summary: Any,
    fetched_at: datetime,
    url: str | None = None,
    guid: str | None = None,
    published: datetime | None = None,
    published_raw: str | None = None,
    authors: Iterable[Any] | None = None,
    categories: Iterable[Any] | None = None,
    language: str | None = None,
    arxiv: str | None = None,
    version: int | None = None,
    primary_category: str | None = None,
    doi: str | None = None,
    origin: str | None = None,
    html: bool = True,
    base_url: str | None = None,
) -> dict[str, Any]:
    """Build one normalized item; see store.ITEM_FIELDS for the columns.

    `html` says whether title and summary may hold markup to strip. `base_url` (the
    entry's xml:base or the feed's URL) resolves a relative link; a link that is not
    then an absolute http(s) URL is not kept as a link (links.safe_href).

    Besides the columns, an item whose id comes from a URL (or, lacking guid and link,
    from its title and date) carries `alt_id`: the id it takes when that one is already
    another entry's (another source's item, a sibling with another guid, fragment or
    text in the same source); see scanner.store.identity.
    """
    clean_title = clean_text(title, MAX_TITLE_CHARS, html=html)
    clean_summary = clean_text(summary, MAX_SUMMARY_CHARS, html=html)
    if not isinstance(guid, str):  # ids in JSON may be numbers; anything else is no guid
        guid = str(guid) if isinstance(guid, int) and not isinstance(guid, bool) else None
    key_guid = clean_text(guid, MAX_URL_CHARS, html=False) or None
    url = safe_href(url, base_url)
    if not arxiv:
        arxiv, found_version = arxiv_id(url, guid)
        version = version or found_version
    if arxiv and not url:
        url = f"https://arxiv.org/abs/{arxiv}"  # every paper gets an evidence link
    canon = canonical_url(url)
    doi = normalize_doi(doi)
    when, flag = resolve_published(published, fetched_at, published_raw)
    author_list = _clean_list(authors)
    category_list = _clean_list(categories)
    detected = detect_language(f"{clean_title} {clean_summary}")
    item_id = stable_id(arxiv=arxiv, doi=doi, url=canon, guid=guid, source_id=source_id,
                        title=clean_title, published_raw=published_raw)
    # What tells this entry apart within its source: the guid, else the link with its
    # fragment (the id's canonical URL drops it), else its text (see below).
    entry_key = (key_guid or (url if url and urlsplit(url).fragment else canon)
                 or "")[:MAX_URL_CHARS] or None
    item = {
        "id": item_id,
        "source_id": source_id,
        "kind": kind,
        "url": url,
        "title": clean_title,
        "summary": clean_summary,
        "published": when.replace(microsecond=0).isoformat(),
        "published_flag": flag,
        "published_raw": clean_text(published_raw, 200) or None,
        "authors": author_list,
        "categories": category_list,
        "language": detected if detected != "und" else (language or "und"),
        "content_hash": _digest(clean_title, clean_summary, size=32),
        "primary_category": clean_text(primary_category, 100) or None,
        "version": version,
        "doi": doi,
        "origin": origin,
        "entry_key": entry_key,
    }
    if item_id.startswith("hash:"):
        # no guid, no link: the title and date may be shared by entries whose texts
        # differ (items with only a description), so the text tells them apart
        item["entry_key"] = entry_key = f"text:{item['content_hash']}"
    if item_id.startswith(("url:", "hash:")) and entry_key:
        item["alt_id"] = f"key:{_digest(source_id, entry_key)}"
    if item_id.startswith("url:") and not key_guid and entry_key:
        # a link without a guid is a weak key: entries sharing it (every item linking
        # to the homepage) are told apart by their title (their text when untitled)
        label = clean_title or f"text:{item['content_hash']}"
        item["weak_key"] = True
        item["title_key"] = f"{entry_key}|title:{_digest(label)}"
        item["title_alt_id"] = f"key:{_digest(source_id, item['title_key'])}"
    # A stand-in date (the fetch time) changes on every fetch: it must not make the
    # item look changed, so only a real date enters the record hash.
    dated = item["published"] if flag == "ok" else flag
    item["record_hash"] = _digest(
        dated,
        *(str(item[k]) for k in ("kind", "url", "title", "summary", "primary_category",
                                 "version", "doi")),
        "|".join(author_list), "|".join(category_list), size=32,
    )
    return item
