"""Flows besides the nightly one: rescore stored items, backfill a dump, evaluate.

Each is a few lines over scanner functions; each holds the store's run lock through
pipeline.run_steps, which closes its run row whatever happens.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

import flows  # noqa: F401  (offline Prefect settings, before prefect is imported)
from flows.nightly import assign, embed, report, signals
from flows.scale import backfill_mapped, embed_mapped
from scanner import pipeline
from scanner.config import Config, load_config


@task(name="topics-full", cache_policy=NO_CACHE)
def topics_full(config: Config, run_id: str, run_date: str) -> dict[str, Any]:
    """Recluster the whole window (ids are kept by matching)."""
    return pipeline.topics_stage(config, run_id, run_date, full=True)


@task(name="backfill-import", cache_policy=NO_CACHE)
def backfill_import(config: Config, run_id: str, path: str, chunk_rows: int) -> dict[str, Any]:
    """Import and embed a dump chunk by chunk (resumable)."""
    return pipeline.backfill_stage(config, run_id, path, chunk_rows, progress=print)


@flow(name="rescore", log_prints=True)
def rescore(run_date: str | None = None, config_path: str | None = None,
            db_path: str | None = None, dask: str | None = None) -> dict[str, Any]:
    """Recompute from stored items, without fetching: embeddings and assignments that are
    missing or stale (a new model or taxonomy), a full reclustering, signals, report."""
    config = load_config(config_path, {"db_path": db_path, "dask": dask})
    day = pipeline.run_date_or_today(run_date)
    return pipeline.run_steps(config, "rescore", day, {"config": config_path}, [
        (lambda run_id: embed_mapped(config, run_id)) if config.dask else
        (lambda run_id: embed(config, run_id)),
        lambda run_id: assign(config, run_id), lambda run_id: topics_full(config, run_id, day),
        lambda run_id: signals(config, run_id, day), lambda run_id: report(config, run_id, day)])


@flow(name="backfill", log_prints=True)
def backfill(path: str, chunk_rows: int = 20_000, config_path: str | None = None,
             db_path: str | None = None, dask: str | None = None) -> dict[str, Any]:
    """Import a dump in chunks, embedding as it goes, then assign; resumable."""
    config = load_config(config_path, {"db_path": db_path, "dask": dask})
    day = pipeline.run_date_or_today(None)
    params = {"path": path, "chunk_rows": chunk_rows, "dask": config.dask}
    return pipeline.run_steps(config, "backfill", day, params, [
        (lambda run_id: backfill_mapped(config, run_id, path, chunk_rows)) if config.dask else
        (lambda run_id: backfill_import(config, run_id, path, chunk_rows)),
        lambda run_id: assign(config, run_id)])
