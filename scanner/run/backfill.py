"""Backfill: a dump imported chunk by chunk with embedding in between, or a date range of
arXiv API submissions paged through."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from scanner import progress
from scanner.errors import ConfigError
from scanner.ingest import import_dump, load_sources, pull_date_range, select_sources
from scanner.run.context import RunContext
from scanner.run.lifecycle import run_date_or_today


def backfill_range_stage(ctx: RunContext, date_from: str, date_to: str,
                         source_ids: list[str] | None = None, page_size: int = 200,
                         max_pages: int = 100) -> dict[str, Any]:
    """Fetch the enabled (or the named) arXiv API sources' submissions of a date range."""
    first, last = run_date_or_today(date_from), run_date_or_today(date_to)
    if first > last:
        raise ConfigError(f"backfill range: --from {first} is after --to {last}")
    started = time.monotonic()
    config = ctx.config
    sources = [s for s in select_sources(load_sources(config.sources_file,
                                                      config.taxonomy_file), source_ids)
               if s.kind == "arxiv_api"]
    if not sources:
        raise ConfigError("a date-range backfill pages through arXiv API sources, and none "
                          "is enabled or named; see `scanner sources list --all`")
    summary = pull_date_range(ctx.store, sources, config.fetch, first, last, run_id=ctx.run_id,
                              page_size=page_size, max_pages=max_pages)
    totals = summary.totals()
    return {"stage": "backfill", "status": "ok", "from": first, "to": last,
            "sources": len(sources), "pages": totals["sources"],
            "pages_failed": totals["sources_failed"], "entries": totals["entries"],
            "new": totals["items_new"], "failures": totals["failures"],
            "seconds": round(time.monotonic() - started, 2)}


def import_chunk(ctx: RunContext, path: str, chunk_rows: int) -> dict[str, Any]:
    """Import the dump's next chunk (its checkpoint says where); rows so far, new, done."""
    result = import_dump(ctx.store, path, max_rows=chunk_rows)
    rows = result.rows_read + result.rows_skipped_resume
    done = (result.rows_total is not None and rows >= result.rows_total) or \
        result.rows_read < chunk_rows
    return {"rows": rows, "total": result.rows_total, "new": result.counts.new, "done": done}


def backfill_stage(ctx: RunContext, path: str, chunk_rows: int = 20_000,
                   embed_chunk: Callable[[], int] | None = None) -> dict[str, Any]:
    """Import a dump chunk by chunk, embedding each chunk before the next.

    The import's checkpoint is committed with every batch and embeddings are stored
    per content hash, so a crashed backfill resumes where it stopped. `embed_chunk`
    embeds what is missing and returns how many texts it did (default: in-process).
    """
    from scanner.embed import embed_new_items

    def in_process() -> int:
        if not ctx.store.count_missing_embeddings(ctx.stored_model):
            return 0
        return embed_new_items(ctx.store, ctx.embedder(), progress=lambda done, total:
                               progress.report("embed", done, total)).embedded

    started = time.monotonic()
    embedded = new = 0
    while True:
        chunk = import_chunk(ctx, path, chunk_rows)
        new += chunk["new"]
        progress.report("import", chunk["rows"], chunk.get("total"))
        embedded += (embed_chunk or in_process)()
        if chunk["done"]:
            break
    return {"stage": "backfill", "status": "ok", "path": path, "rows": chunk["rows"],
            "new": new, "embedded": embedded, "seconds": round(time.monotonic() - started, 2)}
