"""Flows besides the nightly one: rescore stored items, backfill a dump, evaluate.

Each is a few lines over scanner functions; each holds the store's run lock through
scanner.run.run_steps, which closes its run row whatever happens.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

import flows  # noqa: F401  (offline Prefect settings, before prefect is imported)
from flows.nightly import assign, embed, report, signals
from flows.scale import backfill_mapped, embed_mapped
from scanner import run
from scanner.config import load_config
from scanner.evaluation import runs as evaluation
from scanner.run import RunContext
from scanner.run.backfill import backfill_range_stage, backfill_stage


@task(name="topics-full", cache_policy=NO_CACHE)
def topics_full(ctx: RunContext) -> dict[str, Any]:
    """Recluster the whole window (ids are kept by matching)."""
    return run.topics_stage(ctx, full=True)


@task(name="terms-rebuild", cache_policy=NO_CACHE)
def terms_rebuild(ctx: RunContext) -> dict[str, Any]:
    """Count every stored item's terms again and rank emerging terms."""
    return run.terms_stage(ctx, rebuild=True)


@task(name="backfill-import", cache_policy=NO_CACHE)
def backfill_import(ctx: RunContext, path: str, chunk_rows: int) -> dict[str, Any]:
    """Import and embed a dump chunk by chunk (resumable)."""
    return backfill_stage(ctx, path, chunk_rows)


@flow(name="rescore", log_prints=True)
def rescore(run_date: str | None = None, config_path: str | None = None,
            db_path: str | None = None, dask: str | None = None) -> dict[str, Any]:
    """Recompute from stored items, without fetching: embeddings and assignments that are
    missing or stale (a new model or taxonomy), a full reclustering, term counts rebuilt,
    signals, report."""
    config = load_config(config_path, {"db_path": db_path, "dask": dask})
    with RunContext(config, run.run_date_or_today(run_date)) as ctx:
        return run.run_steps(ctx, "rescore", {"config": config_path}, [
            embed_mapped if config.dask else embed, assign, topics_full, terms_rebuild, signals,
            report])


@task(name="backfill-range", retries=1, retry_delay_seconds=60, cache_policy=NO_CACHE)
def backfill_range(ctx: RunContext, date_from: str, date_to: str,
                   sources: list[str] | None) -> dict[str, Any]:
    """Page through the arXiv API sources over a submission-date range."""
    return backfill_range_stage(ctx, date_from, date_to, sources)


@flow(name="backfill", log_prints=True)
def backfill(path: str | None = None, chunk_rows: int = 20_000, config_path: str | None = None,
             db_path: str | None = None, dask: str | None = None,
             date_from: str | None = None, date_to: str | None = None,
             sources: list[str] | None = None) -> dict[str, Any]:
    """Import a dump in chunks, embedding as it goes, then assign; resumable. Or, with
    date_from and date_to instead of a path, fetch the arXiv API sources' submissions of
    that range, then embed and assign."""
    config = load_config(config_path, {"db_path": db_path, "dask": dask})
    if path is None and not (date_from and date_to):
        raise ValueError("backfill needs a dump path, or date_from and date_to")
    with RunContext(config, run.run_date_or_today(None)) as ctx:
        if path is None:
            return run.run_steps(ctx, "backfill", {
                "from": date_from, "to": date_to, "sources": sources, "dask": config.dask}, [
                lambda ctx: backfill_range(ctx, date_from, date_to, sources),
                embed_mapped if config.dask else embed, assign])
        params = {"path": path, "chunk_rows": chunk_rows, "dask": config.dask}
        return run.run_steps(ctx, "backfill", params, [
            (lambda ctx: backfill_mapped(ctx, path, chunk_rows)) if config.dask else
            (lambda ctx: backfill_import(ctx, path, chunk_rows)),
            assign])


@task(name="evaluate-assign", cache_policy=NO_CACHE)
def evaluate_assign(ctx: RunContext, labels: str) -> dict[str, Any]:
    """Out-of-fold field-assignment figures on a labelled file."""
    return evaluation.evaluate_assignment_stage(ctx, labels)


@task(name="evaluate-backtest", cache_policy=NO_CACHE)
def evaluate_backtest(ctx: RunContext, corpus: str, shared: str, sample: int) -> dict[str, Any]:
    """The emergence backtest of one protocol."""
    return evaluation.backtest_stage(ctx, corpus, shared, sample)


@flow(name="evaluate", log_prints=True)
def evaluate(labels: str | None = None, backtest: str | None = "arxiv",
             shared: str = "../shared/data", sample: int = 100_000,
             config_path: str | None = None, db_path: str | None = None) -> dict[str, Any]:
    """The assignment evaluation (labels: a labelled JSONL) and the emergence backtest
    (backtest: arxiv or news; None to skip), figures in the run's summary."""
    config = load_config(config_path, {"db_path": db_path})
    steps = []
    if labels:
        steps.append(lambda ctx: evaluate_assign(ctx, labels))
    if backtest:
        steps.append(lambda ctx: evaluate_backtest(ctx, backtest, shared, sample))
    with RunContext(config, run.run_date_or_today(None)) as ctx:
        return run.run_steps(ctx, "evaluate", {"labels": labels, "backtest": backtest}, steps)
