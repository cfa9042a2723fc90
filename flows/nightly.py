"""The nightly flow: pull -> embed -> assign -> topics -> terms -> signals -> report.

Each task is a few lines over one stage in scanner.run; the flow builds one RunContext
(config, taxonomy, store, model) that every task of the run shares.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

import flows  # noqa: F401  (offline Prefect settings, before prefect is imported)
from scanner import run
from scanner.config import load_config
from scanner.run import RunContext


@task(name="pull", retries=1, retry_delay_seconds=30, cache_policy=NO_CACHE)
def pull(ctx: RunContext, source_ids: list[str] | None) -> dict[str, Any]:
    """Fetch sources over the network and store their items."""
    return run.pull_stage(ctx, source_ids)


@task(name="embed", cache_policy=NO_CACHE)
def embed(ctx: RunContext) -> dict[str, Any]:
    """Embed new or changed items, once per (content hash, model)."""
    return run.embed_stage(ctx)


@task(name="assign", cache_policy=NO_CACHE)
def assign(ctx: RunContext) -> dict[str, Any]:
    """Score new or changed items against the taxonomy's fields and pathways."""
    return run.assign_stage(ctx)


@task(name="topics", cache_policy=NO_CACHE)
def topics(ctx: RunContext) -> dict[str, Any]:
    """Attach new items to topics or recluster the window; record lineage."""
    return run.topics_stage(ctx)


@task(name="terms", cache_policy=NO_CACHE)
def terms(ctx: RunContext) -> dict[str, Any]:
    """Count the night's new items' terms and rank emerging terms per stream."""
    return run.terms_stage(ctx)


@task(name="signals", cache_policy=NO_CACHE)
def signals(ctx: RunContext) -> dict[str, Any]:
    """Indicators and ranked lists for the night."""
    return run.signals_stage(ctx)


@task(name="report", cache_policy=NO_CACHE)
def report(ctx: RunContext) -> dict[str, Any]:
    """Write the panel report of the night (HTML, Markdown, JSON, CSV)."""
    return run.report_stage(ctx)


@flow(name="nightly", log_prints=True)
def nightly(
    run_date: str | None = None,
    sources: list[str] | None = None,
    fetch: bool = True,
    config_path: str | None = None,
    db_path: str | None = None,
    dask: str | None = None,
) -> dict[str, Any]:
    """One nightly run; returns the run's summary (also stored in the runs table).

    With `dask` set (and the flow on scale.on_runner), embedding is mapped over Dask.
    """
    from flows.scale import embed_mapped

    config = load_config(config_path, {"db_path": db_path, "dask": dask})
    skipped = {"stage": "pull", "status": "skipped", "reason": "--no-fetch"}
    with RunContext(config) as ctx:
        ctx.run_date, note = run.stored_run_date(ctx.store, run_date, fetch)
        if note:
            print(note)
        return run.run_steps(ctx, "nightly", {"sources": sources, "fetch": fetch,
                                              "config": config_path, "date_note": note}, [
            (lambda ctx: pull(ctx, sources)) if fetch else (lambda ctx: skipped),
            embed_mapped if config.dask else embed,
            assign, topics, terms, signals, report])
