"""The embed stage in batches, for a cluster: flows/scale.py maps embed_batch over Dask
workers, and the flow's process stores what they return."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from scanner.config import Config
from scanner.run.context import RunContext


def pending_embedding_batches(ctx: RunContext, batch_size: int = 256, max_batches: int = 16
                              ) -> list[list[dict[str, Any]]]:
    """The next texts without a vector for the configured model, cut into batches.

    A wave holds at most max_batches batches, so memory stays bounded by the wave
    whatever the backlog; call again after saving a wave to get the next one.
    """
    pending = ctx.store.missing_embeddings(ctx.stored_model, batch_size * max_batches)
    return [pending[i:i + batch_size] for i in range(0, len(pending), batch_size)]


def count_pending_embeddings(ctx: RunContext) -> int:
    """How many stored texts have no vector for the configured model."""
    return int(ctx.store.count_missing_embeddings(ctx.stored_model))


def embed_batch(config: Config, batch: Sequence[dict[str, Any]]) -> tuple[list[str], Any]:
    """(content hashes, float32 vectors) of one batch; touches no store (runs on workers)."""
    from scanner.embed import item_text

    embedder = _process_embedder(config.model, config.embed_threads or None,
                                 str(config.model_cache), config.embed_backend)
    return [b["content_hash"] for b in batch], embedder.embed([item_text(b) for b in batch])


@lru_cache(maxsize=2)
def _process_embedder(model: str, threads: int | None, cache: str, backend: str) -> Any:
    """One loaded model per worker process, kept for the batches that follow."""
    from scanner.embed import load_embedder

    return load_embedder(model, threads, Path(cache), backend)


def save_embedding_batch(ctx: RunContext, hashes: Sequence[str], vectors: Any) -> None:
    """Store one batch's vectors (in one transaction)."""
    ctx.store.save_embeddings(ctx.stored_model, hashes, vectors)
