"""The nightly flow: pull -> embed -> assign -> topics -> terms -> signals -> report.

Each task is a few lines over one function in scanner.pipeline.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

import flows  # noqa: F401  (offline Prefect settings, before prefect is imported)
from scanner import pipeline
from scanner.config import Config, load_config


@task(name="pull", retries=1, retry_delay_seconds=30, cache_policy=NO_CACHE)
def pull(config: Config, run_id: str, source_ids: list[str] | None) -> dict[str, Any]:
    """Fetch sources over the network and store their items."""
    return pipeline.pull_stage(config, run_id, source_ids)


@task(name="embed", cache_policy=NO_CACHE)
def embed(config: Config, run_id: str) -> dict[str, Any]:
    """Embed new or changed items, once per (content hash, model)."""
    return pipeline.embed_stage(config, run_id)


@task(name="assign", cache_policy=NO_CACHE)
def assign(config: Config, run_id: str) -> dict[str, Any]:
    """Score new or changed items against the taxonomy's fields and pathways."""
    return pipeline.assign_stage(config, run_id)


@task(name="topics", cache_policy=NO_CACHE)
def topics(config: Config, run_id: str, run_date: str) -> dict[str, Any]:
    """Attach new items to topics or recluster the window; record lineage."""
    return pipeline.topics_stage(config, run_id, run_date)


@task(name="terms", cache_policy=NO_CACHE)
def terms(config: Config, run_id: str, run_date: str) -> dict[str, Any]:
    """Count the night's new items' terms and rank emerging terms per stream."""
    return pipeline.terms_stage(config, run_id, run_date)


@task(name="signals", cache_policy=NO_CACHE)
def signals(config: Config, run_id: str, run_date: str) -> dict[str, Any]:
    """Indicators and ranked lists for the night."""
    return pipeline.signals_stage(config, run_id, run_date)


@task(name="report", cache_policy=NO_CACHE)
def report(config: Config, run_id: str, run_date: str) -> dict[str, Any]:
    """Write the panel report of the night (HTML, Markdown, JSON, CSV)."""
    return pipeline.report_stage(config, run_id, run_date)


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
    day = pipeline.run_date_or_today(run_date)
    skipped = {"stage": "pull", "status": "skipped", "reason": "--no-fetch"}
    return pipeline.run_steps(config, "nightly", day, {"sources": sources, "fetch": fetch,
                                                       "config": config_path}, [
        (lambda run_id: pull(config, run_id, sources)) if fetch else (lambda run_id: skipped),
        (lambda run_id: embed_mapped(config, run_id)) if config.dask else
        (lambda run_id: embed(config, run_id)),
        lambda run_id: assign(config, run_id),
        lambda run_id: topics(config, run_id, day), lambda run_id: terms(config, run_id, day),
        lambda run_id: signals(config, run_id, day),
        lambda run_id: report(config, run_id, day)])
