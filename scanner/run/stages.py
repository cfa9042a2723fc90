"""The nightly run's stages as plain functions over a RunContext; flows/ wraps each in a
Prefect task and the CLI calls them through run_steps.

Each stage does its work against the run's store and returns a small JSON-able summary
that ends up in the run's row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scanner import progress
from scanner.errors import ConfigError
from scanner.ingest import SourceResult, load_sources, pull_sources, select_sources
from scanner.run.context import RunContext

#: Stages of the nightly run, in order.
STAGES: tuple[str, ...] = ("pull", "embed", "assign", "topics", "terms", "signals", "report")


def _seconds(started: float) -> float:
    return round(time.monotonic() - started, 2)


def pull_stage(ctx: RunContext, source_ids: list[str] | None = None,
               on_source: Callable[[SourceResult], None] | None = None) -> dict[str, Any]:
    """Fetch the enabled (or the named) sources into the store."""
    started = time.monotonic()
    config = ctx.config
    sources = select_sources(load_sources(config.sources_file, config.taxonomy_file), source_ids)
    pulled = 0

    def after_source(result: SourceResult) -> None:
        nonlocal pulled
        pulled += 1
        progress.report("pull", pulled, len(sources))
        if on_source:
            on_source(result)

    progress.report("pull", 0, len(sources))
    summary = pull_sources(ctx.store, sources, config.fetch, run_id=ctx.run_id,
                           on_source=after_source)
    return {"stage": "pull", "status": "ok", **summary.totals(), "seconds": _seconds(started)}


def embed_stage(ctx: RunContext, limit: int | None = None) -> dict[str, Any]:
    """Embed stored items that have no vector for the configured model yet."""
    from scanner.embed import embed_new_items

    started = time.monotonic()
    model = ctx.stored_model  # MODEL, or MODEL+int8: never mixed in a store
    progress.report("embed", 0)
    if ctx.store.count_missing_embeddings(model) == 0:  # skip loading the model
        return {"stage": "embed", "status": "ok", "model": model, "embedded": 0,
                "reused": ctx.store.count_embeddings(model), "items_per_s": 0.0,
                "seconds": _seconds(started)}
    result = embed_new_items(ctx.store, ctx.embedder(), limit=limit,
                             progress=lambda done, total: progress.report("embed", done, total))
    return {"stage": "embed", "status": "ok", "model": result.model,
            "embedded": result.embedded, "reused": result.reused,
            "items_per_s": round(result.rate, 2), "seconds": _seconds(started)}


def shipped_calibrator_file(ctx: RunContext) -> Path:
    """The trained calibrator of the taxonomy's version and the configured model; a
    ConfigError saying how to train it when there is none."""
    from scanner.assign import calibrator_path

    model = ctx.stored_model
    path = calibrator_path(ctx.taxonomy.version, model)
    if not path.is_file():
        raise ConfigError(f"no trained calibrator {path} for taxonomy {ctx.taxonomy.version} "
                          f"and model {model}: run `scanner evaluate assign --save`")
    return path


def assign_stage(ctx: RunContext, limit: int | None = None) -> dict[str, Any]:
    """Score embedded items against the taxonomy's fields (new or changed items only)."""
    from scanner.assign import Calibrator, Scorer, assign_items

    started = time.monotonic()
    progress.report("assign", 0)
    key = ctx.taxonomy_key
    calibrator = Calibrator.load(shipped_calibrator_file(ctx))
    digest = calibrator.digest()  # once: it serializes and hashes every parameter
    if ctx.store.count_items_needing_assignment(key, ctx.stored_model, digest) == 0:
        return {"stage": "assign", "status": "ok", "taxonomy": key, "assigned": 0,
                "with_fields": 0, "seconds": _seconds(started)}
    result = assign_items(ctx.store, Scorer(ctx.taxonomy, ctx.embedder()), calibrator, key,
                          limit=limit, digest=digest,
                          progress=lambda done, total: progress.report("assign", done, total))
    summary = {"stage": "assign", "status": "ok", "taxonomy": key,
               "assigned": result.assigned, "with_fields": result.with_fields,
               "verdict_fields": result.verdict_fields, "seconds": _seconds(started)}
    if result.recalibrated:
        summary["note"] = (f"{result.recalibrated} items assigned again: their assignments "
                           f"were made by another calibrator than {digest}")
    return summary


def topics_stage(ctx: RunContext, full: bool = False) -> dict[str, Any]:
    """Update topics over the configured window: attach new items, or recluster."""
    from scanner.topics import update_topics

    started = time.monotonic()
    progress.report("topics", 0)
    guard = window_guard(ctx)
    if guard:
        return {"stage": "topics", "status": "skipped", "reason": guard,
                "seconds": _seconds(started)}
    model = ctx.stored_model
    scopes = update_topics(ctx.store, ctx.config.topics, model, ctx.taxonomy_key,
                           _run_date(ctx), ctx.run_id or "", full, ctx.taxonomy.chinese_terms)
    events: dict[str, int] = {}
    for scope in scopes:
        for kind, n in scope["events"].items():
            events[kind] = events.get(kind, 0) + n
    return {"stage": "topics", "status": "ok", "model": model,
            "modes": {s["scope"]: s["mode"] for s in scopes},
            "items": sum(s["items"] for s in scopes), "topics": sum(s["topics"] for s in scopes),
            "unassigned": sum(s["unassigned"] for s in scopes),
            "outside_taxonomy": sum(s["outside_taxonomy"] for s in scopes), "events": events,
            "seconds": _seconds(started)}


def terms_stage(ctx: RunContext, rebuild: bool = False) -> dict[str, Any]:
    """Count the new items' terms (all items when rebuilding) and rank emerging terms."""
    from scanner.terms.service import terms_run

    started = time.monotonic()
    progress.report("terms", 0)
    def encode(texts: Sequence[str]) -> Any:  # the run's model, loaded once per run
        return ctx.embedder().embed(list(texts), role="query")

    result = terms_run(ctx.store, ctx.config.terms, _run_date(ctx), ctx.taxonomy_key,
                       ctx.stored_model, ctx.taxonomy.chinese_terms, rebuild, encode)
    return {"stage": "terms", "status": "ok", **result, "seconds": _seconds(started)}


#: A window holding under this share of the previous topics run's items is suspect.
WINDOW_DROP = 0.1


def window_guard(ctx: RunContext) -> str:
    """Why the topics stage must not run for this date ('' when it may).

    A run date whose window holds no items, or under a tenth of what the previous
    topics run worked on, would kill every topic (a run date far past an imported
    store's newest item, say): such a run keeps the topics and says why.
    """
    from datetime import date, timedelta

    run_date = _run_date(ctx)
    since = (date.fromisoformat(run_date)
             - timedelta(days=ctx.config.topics.window_days)).isoformat()
    in_window = ctx.store.count_items_published(since, run_date)
    newest = ctx.store.newest_item_date()
    hint = (f"the newest stored item is of {newest}: run with --date {newest}"
            if newest else "the store holds no items yet")
    if in_window == 0:
        return f"no items in the topic window {since} to {run_date}; topics kept; {hint}"
    previous = ctx.store.previous_topic_items(run_date)
    if previous and previous >= 100 and in_window < WINDOW_DROP * previous:
        return (f"the topic window {since} to {run_date} holds {in_window} items against "
                f"{previous} in the previous topics run; topics kept; {hint}")
    return ""


def signals_stage(ctx: RunContext) -> dict[str, Any]:
    """Compute indicators and the ranked lists for the run date; store them."""
    from scanner.signals import compute_signals

    started = time.monotonic()
    progress.report("signals", 0)
    meta: dict[str, Any] = {}
    lists = compute_signals(ctx.store, ctx.taxonomy, ctx.taxonomy_key, ctx.stored_model,
                            ctx.config.signals, _run_date(ctx), ctx.config.topics.window_days,
                            meta)
    top = {name: [r["entity_id"] for r in rows[:3]] for name, rows in lists.items()}
    return {"stage": "signals", "status": "ok", "ranked": {k: len(v) for k, v in lists.items()},
            "top": top, **meta, "seconds": _seconds(started)}


def report_stage(ctx: RunContext, lang: str = "both") -> dict[str, Any]:
    """Write the night's report in every format under the report folder (the run date's
    signals, or the newest when the context has no date)."""
    from scanner.report import build_report, write_report

    started = time.monotonic()
    progress.report("report", 0)
    current = {"id": ctx.run_id, "stages": ctx.stages} if ctx.run_id else None
    data = build_report(ctx.store, ctx.taxonomy, ctx.run_date, current)
    folder = write_report(data, ctx.config.report_dir, lang)
    return {"stage": "report", "status": "ok", "folder": str(folder),
            "fields": len(data["lists"]["fields"]),
            "watchlist": len(data["lists"]["watchlist"]), "seconds": _seconds(started)}


def _run_date(ctx: RunContext) -> str:
    if not ctx.run_date:
        raise ConfigError("this stage needs a run date")
    return ctx.run_date
