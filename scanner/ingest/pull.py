"""The pull stage: fetch each source, parse what came back, store items and a fetch row.

One source failing never stops the others: every outcome, good or bad, becomes a
row in the fetches table, committed together with the items it brought.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from scanner.config import FetchSettings
from scanner.ingest.fetch import FetchOutcome, HostThrottle, fetch_url, make_client
from scanner.ingest.parse import ParsedFeed
from scanner.ingest.parse_worker import ParseDeadline, parse_with_deadline
from scanner.ingest.sources import Source, arxiv_range_url
from scanner.store import Store, UpsertCounts


@dataclass
class SourceResult:
    """What happened to one source in one pull."""

    source_id: str
    status: str
    http_code: int | None
    entries: int
    counts: UpsertCounts
    bozo: bool
    message: str | None
    duration_s: float
    rejected: int = 0  # entries that could not be made items


@dataclass
class PullSummary:
    """Totals of one pull over many sources."""

    results: list[SourceResult] = field(default_factory=list)

    @property
    def ok(self) -> int:
        """Sources that answered with a feed or with 304 Not Modified."""
        return sum(r.status in ("ok", "not_modified") for r in self.results)

    @property
    def failed(self) -> int:
        """Sources that gave no usable answer."""
        return len(self.results) - self.ok

    def totals(self) -> dict[str, Any]:
        """Counts for run summaries."""
        counts = UpsertCounts()
        for result in self.results:
            counts.add(result.counts)
        return {
            "sources": len(self.results), "sources_ok": self.ok, "sources_failed": self.failed,
            "entries": sum(r.entries for r in self.results), "items_new": counts.new,
            "items_changed": counts.changed, "items_unchanged": counts.unchanged,
            "items_duplicate": counts.duplicates, "items_elsewhere": counts.elsewhere,
            "items_rejected": sum(r.rejected for r in self.results),
            "failures": {r.source_id: f"{r.status}: {r.message}" for r in self.results
                         if r.status not in ("ok", "not_modified")},
        }


def parse_outcome(
    outcome: FetchOutcome, source: Source, settings: FetchSettings | None = None,
) -> tuple[str, ParsedFeed | None, str | None]:
    """Parse a successful fetch; return (status, parsed feed, error message).

    Parsing is bounded (settings.max_elements, settings.parse_timeout_s): a body past
    the element cap is `too_large`, a parse past its deadline `timeout`.
    """
    if outcome.status != "ok":
        return outcome.status, None, outcome.error_message
    settings = settings or FetchSettings()
    try:
        parsed = parse_with_deadline(
            outcome.body, outcome.headers, settings.parse_timeout_s, source_id=source.id,
            item_kind=source.item_kind, fetched_at=outcome.started_at,
            language=source.language, origin=f"fetch:{source.id}",
            base_url=outcome.final_url or source.url, max_elements=settings.max_elements,
        )
    except ParseDeadline as exc:
        return "timeout", ParsedFeed(format="", bozo_class="ParseDeadline"), str(exc)
    except Exception as exc:  # a parser bug must not lose the other sources
        return "parse_error", None, f"{type(exc).__name__}: {exc}"
    if parsed.too_large:
        parsed.bozo_class = parsed.bozo_class or "TooManyElements"
        return "too_large", parsed, parsed.too_large
    if parsed.not_a_feed:
        parsed.bozo_class = parsed.bozo_class or "NotAFeed"
        return "not_a_feed", parsed, parsed.not_a_feed
    return "ok", parsed, parsed.bozo_message if parsed.bozo else None


def _fetch_row(
    outcome: FetchOutcome, source: Source, status: str, parsed: ParsedFeed | None,
    message: str | None, run_id: str | None,
) -> dict[str, Any]:
    return {
        "run_id": run_id, "source_id": source.id, "url": outcome.url,
        "started_at": outcome.started_at.replace(microsecond=0).isoformat(),
        "duration_s": outcome.duration_s, "attempts": outcome.attempts, "status": status,
        "http_code": outcome.http_code, "bytes": len(outcome.body),
        "content_type": outcome.headers.get("content-type"),
        "bozo": int(parsed.bozo) if parsed else None,
        "bozo_class": parsed.bozo_class if parsed else None,
        "bozo_message": parsed.bozo_message if parsed else None,
        "error_class": outcome.error_class if status == outcome.status else
        (parsed.bozo_class if parsed else "ParseError"),
        "error_message": message if status not in ("ok", "not_modified") else None,
        "etag": outcome.etag, "last_modified": outcome.last_modified,
        "entries": parsed.entries_seen if parsed else 0,
        "items_rejected": parsed.rejected if parsed else 0,
        "notes": parsed.notes_text() if parsed else None,
    }


def _store_outcome(store: Store, source: Source, outcome: FetchOutcome, run_id: str | None,
                   keep_validators: bool = False,
                   settings: FetchSettings | None = None) -> SourceResult:
    """Parse one fetch, store its row and items in one transaction, say what happened."""
    status, parsed, message = parse_outcome(outcome, source, settings)
    row = _fetch_row(outcome, source, status, parsed, message, run_id)
    items = parsed.items if parsed and status == "ok" else []
    _, counts = store.record_fetch(row, items, keep_validators=keep_validators)
    return SourceResult(
        source_id=source.id, status=status, http_code=outcome.http_code,
        entries=row["entries"], counts=counts, bozo=bool(row["bozo"]),
        message=message, duration_s=outcome.duration_s, rejected=row["items_rejected"],
    )


def pull_sources(
    store: Store,
    sources: Sequence[Source],
    settings: FetchSettings,
    *,
    run_id: str | None = None,
    client: httpx.Client | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
) -> PullSummary:
    """Fetch, parse and store every given source; return what happened to each.

    Args:
        store: where items and fetch rows go.
        sources: the sources to pull, in order.
        settings: HTTP settings.
        run_id: the run these fetches belong to.
        client: an HTTP client to reuse (tests); one is made when None.
        on_source: called after each source, for progress display.
    """
    store.sync_sources(s.as_row() for s in sources)
    throttle = HostThrottle(settings.host_delay_s, settings.default_host_delay_s)
    own_client = client is None
    http = client or make_client(settings)
    summary = PullSummary()
    try:
        for source in sources:
            state = store.source_state(source.id)
            outcome = fetch_url(
                http, source.url, settings, etag=state.get("etag"),
                last_modified=state.get("last_modified"), throttle=throttle,
            )
            result = _store_outcome(store, source, outcome, run_id, settings=settings)
            summary.results.append(result)
            if on_source:
                on_source(result)
    finally:
        if own_client:
            http.close()
    return summary


def pull_date_range(
    store: Store,
    sources: Sequence[Source],
    settings: FetchSettings,
    date_from: str,
    date_to: str,
    *,
    run_id: str | None = None,
    page_size: int = 200,
    max_pages: int = 100,
    client: httpx.Client | None = None,
    on_page: Callable[[SourceResult], None] | None = None,
) -> PullSummary:
    """Page through each arXiv API source's query over a submission-date range.

    A source's pages end at the first short or failed page, or after `max_pages`; each
    page is a fetch row (unconditional, the source's validators untouched) with its items.
    """
    throttle = HostThrottle(settings.host_delay_s, settings.default_host_delay_s)
    http = client or make_client(settings)
    summary = PullSummary()
    try:
        for source in (s for s in sources if s.kind == "arxiv_api"):
            store.sync_sources([source.as_row()])
            for page in range(max_pages):
                url = arxiv_range_url(source.url, date_from, date_to, page * page_size,
                                      page_size)
                outcome = fetch_url(http, url, settings, throttle=throttle)
                result = _store_outcome(store, source, outcome, run_id, keep_validators=True,
                                        settings=settings)
                summary.results.append(result)
                if on_page:
                    on_page(result)
                if result.status != "ok" or result.entries < page_size:
                    break
    finally:
        if client is None:
            http.close()
    return summary
