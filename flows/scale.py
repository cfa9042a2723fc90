"""Scale-out on Dask: the task runner a run uses, and the embed stage mapped over it.

`dask` in the config (or `--dask`): empty runs every task in the flow's process (the
default); `local` or `local:N` starts a dask.distributed LocalCluster of N worker
processes (2 when N is not given) for the run; anything else is the address of a running
Dask scheduler (tcp://host:8786) whose workers have this project installed and its
model built (see docs/scaling.md). Workers only compute vectors; the flow's process
writes them to the store, so the SQLite file never leaves its machine.

Dask needs a running Prefect server (PREFECT_API_URL): with the temporary one, each
worker process would start a server of its own.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import Any

from prefect import task, unmapped
from prefect.cache_policies import NO_CACHE

import flows  # noqa: F401  (offline Prefect settings, before prefect is imported)
from scanner import progress
from scanner.config import Config
from scanner.errors import ConfigError
from scanner.run import RunContext, embed_stage
from scanner.run import batches as embed_batches
from scanner.run.backfill import backfill_stage

#: Workers of a `local` cluster when the count is not given.
LOCAL_WORKERS = 2


def local_workers(dask: str) -> int:
    """Worker processes of a `local[:N]` setting."""
    return int(dask.split(":", 1)[1]) if ":" in dask else LOCAL_WORKERS


def task_runner(dask: str) -> Any:
    """The DaskTaskRunner for a `dask` setting; None for in-process."""
    if not dask:
        return None
    from prefect.settings import PREFECT_API_URL

    url = os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value()
    if not url:
        raise ConfigError("dask needs a running Prefect server, or every Dask worker starts "
                          "its own: run `prefect server start` and set PREFECT_API_URL "
                          "(e.g. http://127.0.0.1:4200/api); see docs/scaling.md")
    os.environ["PREFECT_API_URL"] = url  # local workers inherit it when they start
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise ConfigError("dask is set but prefect-dask is not installed: "
                          "pip install 'horizon-scanner[dask]'") from exc
    if dask.startswith("local"):
        return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs={
            "n_workers": local_workers(dask), "threads_per_worker": 1, "processes": True,
            "dashboard_address": None})
    return DaskTaskRunner(address=dask)


def on_runner(flow_object: Any, dask: str) -> Any:
    """The flow, set to run its tasks on Dask when `dask` is set."""
    runner = task_runner(dask)
    return flow_object.with_options(task_runner=runner) if runner else flow_object


@task(name="embed-batch", retries=1, retry_delay_seconds=10, cache_policy=NO_CACHE)
def embed_batch(config: Config, batch: list[dict[str, Any]]) -> tuple[list[str], Any]:
    """Vectors of one batch of texts, computed on a worker."""
    return embed_batches.embed_batch(config, batch)


def embed_mapped(ctx: RunContext, batch_size: int = 256, wave_batches: int = 16
                 ) -> dict[str, Any]:
    """The embed stage as batches mapped over the runner's workers, wave by wave.

    A flow that was not put on Dask (on_runner) embeds in-process instead, and says so:
    mapping torch batches over threads of one process would only oversubscribe it.
    """
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or type(context.task_runner).__name__ != "DaskTaskRunner":
        summary = embed_stage(ctx)
        return {**summary, "runner": "in-process (the flow is not on a Dask task runner)"}
    started = time.monotonic()
    config = ctx.config
    if config.dask.startswith("local") and not config.embed_threads:
        # the workers share this machine: split its cores instead of each taking all
        config = replace(config, embed_threads=max(
            1, (os.cpu_count() or 1) // local_workers(config.dask)))
    embedded = waves = 0
    pending = embed_batches.count_pending_embeddings(ctx)
    progress.report("embed", 0, pending)
    while batches := embed_batches.pending_embedding_batches(ctx, batch_size, wave_batches):
        waves += 1
        for future in embed_batch.map(unmapped(config), batches):
            hashes, vectors = future.result()
            embed_batches.save_embedding_batch(ctx, hashes, vectors)
            embedded += len(hashes)
            progress.report("embed", embedded, max(pending, embedded))
    seconds = time.monotonic() - started
    return {"stage": "embed", "status": "ok", "model": ctx.stored_model,
            "runner": config.dask,
            "embedded": embedded, "waves": waves,
            "items_per_s": round(embedded / seconds, 2) if seconds else 0.0,
            "seconds": round(seconds, 2)}


def backfill_mapped(ctx: RunContext, path: str, chunk_rows: int) -> dict[str, Any]:
    """Backfill with the embedding of each imported chunk mapped over the workers."""
    summary = backfill_stage(ctx, path, chunk_rows,
                             embed_chunk=lambda: embed_mapped(ctx)["embedded"])
    return {**summary, "runner": ctx.config.dask}
