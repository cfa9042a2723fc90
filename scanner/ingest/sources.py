"""The list of sources a nightly run pulls, read from a TOML file (data/sources.toml)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from scanner.errors import ConfigError, SourceError
from scanner.ingest.normalize import ITEM_KINDS, clean_text
from scanner.tomlfile import read_toml

SOURCE_KINDS = ("feed", "arxiv_api")
LANGUAGES = ("en", "zh", "multi")
ARXIV_API = "https://export.arxiv.org/api/query"
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_KEYS = {"id", "name", "kind", "url", "query", "field", "max_results", "language",
         "item_kind", "enabled", "note"}
#: Most keywords an arXiv query built from a taxonomy field uses (keeps URLs short).
MAX_QUERY_TERMS = 10


@dataclass(frozen=True)
class Source:
    """One place items come from."""

    id: str
    name: str
    kind: str
    url: str
    language: str
    item_kind: str
    enabled: bool = True
    note: str = ""
    field: str = ""

    @property
    def host(self) -> str:
        """The host name, for per-host politeness delays."""
        return urlsplit(self.url).hostname or ""

    def as_row(self) -> dict[str, Any]:
        """The definition columns of the sources table."""
        row = asdict(self)
        row.pop("note")
        row.pop("field")
        row["enabled"] = int(self.enabled)
        return row


def arxiv_query_url(query: str, max_results: int = 100) -> str:
    """The arXiv API URL for a search query, newest submissions first."""
    params = {
        "search_query": query, "start": 0, "max_results": max_results,
        "sortBy": "submittedDate", "sortOrder": "descending",
    }
    return f"{ARXIV_API}?{urlencode(params)}"


def arxiv_range_url(source_url: str, date_from: str, date_to: str, start: int,
                    page_size: int) -> str:
    """One page of an arXiv API source's query restricted to submissions in a date range
    (YYYY-MM-DD, inclusive), oldest first, on the source's own endpoint."""
    from urllib.parse import parse_qs

    parts = urlsplit(source_url)
    query = (parse_qs(parts.query).get("search_query") or ["all:*"])[0]
    days = f"[{date_from.replace('-', '')}0000 TO {date_to.replace('-', '')}2359]"
    params = {
        "search_query": f"({query}) AND submittedDate:{days}", "start": start,
        "max_results": page_size, "sortBy": "submittedDate", "sortOrder": "ascending",
    }
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(params)}"


def field_query(keywords: list[str], max_terms: int = MAX_QUERY_TERMS) -> str:
    """An arXiv search over abstracts for a field's English keywords.

    Short letter-only acronyms (RIS, SNN, AUV ...) are left out: alone they match far
    too much. Short terms with a digit (6G, MoS2) are distinctive and stay.
    """
    terms: list[str] = []
    for keyword in keywords:
        keyword = keyword.replace('"', "").strip()
        distinctive = len(keyword) >= 5 or " " in keyword or any(c.isdigit() for c in keyword)
        if distinctive and keyword.lower() not in [t.lower() for t in terms]:
            terms.append(keyword)
        if len(terms) >= max_terms:
            break
    return " OR ".join(f'abs:"{t}"' if " " in t or "-" in t else f"abs:{t}" for t in terms)


def load_sources(path: Path | str, taxonomy_file: Path | str | None = None) -> list[Source]:
    """Read and validate a sources file.

    An `arxiv_api` source may name a taxonomy `field` instead of a `query`: its query
    is then built from that field's English keywords in `taxonomy_file`.

    Raises:
        ConfigError: naming the file, line and key of the first problem.
    """
    path = Path(path)
    toml = read_toml(path, "sources file")
    data = toml.data
    entries = data.get("source")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"sources file {path}: expected one or more [[source]] tables")
    unknown_top = set(data) - {"source"}
    if unknown_top:
        key = sorted(unknown_top)[0]
        raise toml.error("unknown key", key)

    sources: list[Source] = []
    seen: set[str] = set()
    loaded: dict[str, Any] = {}  # the taxonomy, read once if a source needs it
    for number, entry in enumerate(entries, start=1):
        sid = entry.get("id")
        where = toml.where(line=toml.line_of("[[source]]", number),
                           context=f"source #{number}" + (f" ({sid})" if sid else ""))

        def need(key: str, allowed: tuple[str, ...] | None = None,
                 entry: dict[str, Any] = entry, where: str = where) -> str:
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: key '{key}' is missing or not a string")
            if allowed and value not in allowed:
                raise ConfigError(
                    f"{where}: key '{key}' is {value!r}; expected one of {', '.join(allowed)}"
                )
            return value.strip()

        extra = set(entry) - _KEYS
        if extra:
            raise ConfigError(f"{where}: unknown key '{sorted(extra)[0]}'")
        sid = need("id")
        if not _ID.match(sid):
            raise ConfigError(f"{where}: id {sid!r} must be lower-case letters, digits, . _ -")
        if sid in seen:
            raise ConfigError(f"{where}: duplicate source id {sid!r}")
        seen.add(sid)
        kind = need("kind", SOURCE_KINDS)
        field_id = str(entry.get("field", ""))
        if kind == "arxiv_api":
            query = entry.get("query") or _taxonomy_query(field_id, taxonomy_file, where,
                                                          loaded)
            max_results = entry.get("max_results", 100)
            if not isinstance(max_results, int) or not 1 <= max_results <= 2000:
                raise ConfigError(f"{where}: key 'max_results' must be a number from 1 to 2000")
            url = entry.get("url") or arxiv_query_url(query, max_results)
        else:
            url = need("url")
        try:
            parts = urlsplit(url)
            parts.hostname  # noqa: B018 - parses the host part: a bad IPv6 literal raises
        except ValueError as exc:  # "http://[::1/feed" crashed the fetch, not the load
            raise ConfigError(f"{where}: key 'url' is not a valid URL ({exc}): {url!r}") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}: key 'url' must be an http(s) URL with a host, got "
                              f"{url!r}")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}: key 'enabled' must be true or false")
        sources.append(
            Source(
                id=sid, name=clean_text(entry.get("name"), 200, html=False) or sid,
                kind=kind, url=url,
                language=need("language", LANGUAGES), item_kind=need("item_kind", ITEM_KINDS),
                enabled=enabled, note=str(entry.get("note", "")), field=field_id,
            )
        )
    return sources


def _taxonomy_query(field_id: str, taxonomy_file: Path | str | None, where: str,
                    loaded: dict[str, Any]) -> str:
    if not field_id:
        raise ConfigError(f"{where}: an arxiv_api source needs a 'query' or a taxonomy 'field'")
    if taxonomy_file is None:
        raise ConfigError(f"{where}: key 'field' needs the taxonomy file (taxonomy_file)")
    from scanner.taxonomy import load_taxonomy

    if "taxonomy" not in loaded:
        loaded["taxonomy"] = load_taxonomy(taxonomy_file)
    taxonomy = loaded["taxonomy"]
    if field_id not in taxonomy.fields:
        raise ConfigError(f"{where}: key 'field' names {field_id!r}, not a field of "
                          f"taxonomy {taxonomy.version}")
    field = taxonomy.fields[field_id]
    return field_query([*field.keywords_en, *field.aliases_en])


def select_sources(
    sources: list[Source], ids: list[str] | None = None, include_disabled: bool = False
) -> list[Source]:
    """The sources to fetch: the named ones (in any state), or all enabled ones.

    Raises:
        SourceError: when a named id is not in the list.
    """
    if ids:
        known = {s.id: s for s in sources}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise SourceError(
                f"unknown source id(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return [known[i] for i in ids]
    return [s for s in sources if s.enabled or include_disabled]
