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


@task(name="terms-rebuild", cache_policy=NO_CACHE)
def terms_rebuild(config: Config, run_id: str, run_date: str) -> dict[str, Any]:
    """Count every stored item's terms again and rank emerging terms."""
    return pipeline.terms_stage(config, run_id, run_date, rebuild=True)


@task(name="backfill-import", cache_policy=NO_CACHE)
def backfill_import(config: Config, run_id: str, path: str, chunk_rows: int) -> dict[str, Any]:
    """Import and embed a dump chunk by chunk (resumable)."""
    return pipeline.backfill_stage(config, run_id, path, chunk_rows)


@flow(name="rescore", log_prints=True)
def rescore(run_date: str | None = None, config_path: str | None = None,
            db_path: str | None = None, dask: str | None = None) -> dict[str, Any]:
    """Recompute from stored items, without fetching: embeddings and assignments that are
    missing or stale (a new model or taxonomy), a full reclustering, term counts rebuilt,
    signals, report."""
    config = load_config(config_path, {"db_path": db_path, "dask": dask})
    day = pipeline.run_date_or_today(run_date)
    return pipeline.run_steps(config, "rescore", day, {"config": config_path}, [
        (lambda run_id: embed_mapped(config, run_id)) if config.dask else
        (lambda run_id: embed(config, run_id)),
        lambda run_id: assign(config, run_id), lambda run_id: topics_full(config, run_id, day),
        lambda run_id: terms_rebuild(config, run_id, day),
        lambda run_id: signals(config, run_id, day), lambda run_id: report(config, run_id, day)])


@task(name="backfill-range", retries=1, retry_delay_seconds=60, cache_policy=NO_CACHE)
def backfill_range(config: Config, run_id: str, date_from: str, date_to: str,
                   sources: list[str] | None) -> dict[str, Any]:
    """Page through the arXiv API sources over a submission-date range."""
    return pipeline.backfill_range_stage(config, run_id, date_from, date_to, sources)


@flow(name="backfill", log_prints=True)
def backfill(path: str | None = None, chunk_rows: int = 20_000, config_path: str | None = None,
             db_path: str | None = None, dask: str | None = None,
             date_from: str | None = None, date_to: str | None = None,
             sources: list[str] | None = None) -> dict[str, Any]:
    """Import a dump in chunks, embedding as it goes, then assign; resumable. Or, with
    date_from and date_to instead of a path, fetch the arXiv API sources' submissions of
    that range, then embed and assign."""
    config = load_config(config_path, {"db_path": db_path, "dask": dask})
    day = pipeline.run_date_or_today(None)
    if path is None:
        if not (date_from and date_to):
            raise ValueError("backfill needs a dump path, or date_from and date_to")
        return pipeline.run_steps(config, "backfill", day, {
            "from": date_from, "to": date_to, "sources": sources, "dask": config.dask}, [
            lambda run_id: backfill_range(config, run_id, date_from, date_to, sources),
            (lambda run_id: embed_mapped(config, run_id)) if config.dask else
            (lambda run_id: embed(config, run_id)),
            lambda run_id: assign(config, run_id)])
    params = {"path": path, "chunk_rows": chunk_rows, "dask": config.dask}
    return pipeline.run_steps(config, "backfill", day, params, [
        (lambda run_id: backfill_mapped(config, run_id, path, chunk_rows)) if config.dask else
        (lambda run_id: backfill_import(config, run_id, path, chunk_rows)),
        lambda run_id: assign(config, run_id)])


@task(name="evaluate-assign", cache_policy=NO_CACHE)
def evaluate_assign(config: Config, run_id: str, labels: str) -> dict[str, Any]:
    """Out-of-fold field-assignment figures on a labelled file."""
    return pipeline.evaluate_assignment_stage(config, run_id, labels)


@task(name="evaluate-backtest", cache_policy=NO_CACHE)
def evaluate_backtest(config: Config, run_id: str, corpus: str, shared: str,
                      sample: int) -> dict[str, Any]:
    """The emergence backtest of one protocol."""
    return pipeline.backtest_stage(config, run_id, corpus, shared, sample)


@flow(name="evaluate", log_prints=True)
def evaluate(labels: str | None = None, backtest: str | None = "arxiv",
             shared: str = "../shared/data", sample: int = 100_000,
             config_path: str | None = None, db_path: str | None = None) -> dict[str, Any]:
    """The assignment evaluation (labels: a labelled JSONL) and the emergence backtest
    (backtest: arxiv or news; None to skip), figures in the run's summary."""
    config = load_config(config_path, {"db_path": db_path})
    day = pipeline.run_date_or_today(None)
    steps = []
    if labels:
        steps.append(lambda run_id: evaluate_assign(config, run_id, labels))
    if backtest:
        steps.append(lambda run_id: evaluate_backtest(config, run_id, backtest, shared,
                                                      sample))
    return pipeline.run_steps(config, "evaluate", day, {"labels": labels,
                                                        "backtest": backtest}, steps)
