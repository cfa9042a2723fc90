"""Embedding: the text an item is embedded from, the Embedder interface and the loader
that picks a backend, and the store loop (each text once per model)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from scanner.embed.registry import (
    INT8_BACKEND,
    ModelSpec,
    int8_model_folder,
    model_folder,
    model_spec,
    openvino_model_folder,
    resolve_backend,
)
from scanner.embed.st_backend import SentenceTransformerEmbedder
from scanner.errors import ConfigError

#: Characters of a news or policy item's summary used after its title (the lead).
NEWS_LEAD_CHARS = 600



def item_text(item: dict[str, Any]) -> str:
    """What is embedded for an item: title + abstract for papers, title + lead otherwise."""
    title = (item.get("title") or "").strip()
    summary = (item.get("summary") or "").strip()
    if item.get("kind") != "paper":
        summary = summary[:NEWS_LEAD_CHARS]
    return f"{title}. {summary}" if summary else title



def key_of(embedder: Any) -> str:
    """What an embedder's vectors are stored under: its `key`, else its model id."""
    return str(getattr(embedder, "key", "") or embedder.spec.id)



class Embedder(Protocol):
    """What every embedding backend offers."""

    spec: ModelSpec
    backend: str  # "openvino", "openvino-int8", "torch" or "hashing"
    key: str  # what the vectors are stored under (registry.embedding_key)

    def embed(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        """Normalised float32 vectors, one row per text; role is 'passage' or 'query'."""
        ...



class HashingEmbedder:
    """Feature hashing of character 3-grams into a fixed space: deterministic, no weights."""

    backend = "hashing"

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.key = spec.id

    def embed(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        out = np.zeros((len(texts), self.spec.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            lowered = f"  {text.lower()}  "
            for i in range(len(lowered) - 2):
                gram = lowered[i:i + 3].encode("utf-8")
                h = int.from_bytes(hashlib.blake2b(gram, digest_size=8).digest(), "little")
                out[row, h % self.spec.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)



def load_embedder(model_id: str, threads: int | None = None, cache: Path | None = None,
                  backend: str = "") -> Embedder:
    """An embedder for a registry model (building its files first when needed).

    backend: "openvino", "openvino-int8", "torch", or "" for the model's default (the
    registry's first). The embedder's `key` is what its vectors are stored under.
    """
    spec = model_spec(model_id)
    if spec.loader == "hashing":
        return HashingEmbedder(spec)
    backend = resolve_backend(spec, backend)
    if backend not in spec.backends:
        raise ConfigError(f"model {spec.id} cannot run on backend {backend!r}; it runs on "
                          f"{', '.join(spec.backends)}")
    threads = threads or max(1, os.cpu_count() or 1)
    if backend in ("openvino", INT8_BACKEND):
        from scanner.embed.openvino import OpenVinoEmbedder

        folder = (int8_model_folder if backend == INT8_BACKEND else openvino_model_folder)(
            spec, cache)
        return OpenVinoEmbedder(spec, folder, threads, backend=backend)
    return SentenceTransformerEmbedder(spec, model_folder(spec, cache), threads)



@dataclass
class EmbedResult:
    """What one embed stage did."""

    model: str
    embedded: int
    reused: int
    seconds: float

    @property
    def rate(self) -> float:
        """Items embedded per second."""
        return self.embedded / self.seconds if self.seconds else 0.0



def embed_new_items(
    store: Any,
    embedder: Embedder,
    chunk_size: int = 256,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EmbedResult:
    """Embed every stored text that has no vector for this model yet, chunk by chunk.

    Each chunk is committed on its own, so an interrupted stage keeps what it did;
    memory stays bounded by the chunk size whatever the backlog.
    """
    started = time.monotonic()
    model_id = key_of(embedder)
    reused = store.count_embeddings(model_id)
    todo = store.count_missing_embeddings(model_id)
    if limit is not None:
        todo = min(todo, limit)
    done = 0
    while done < todo:
        batch = store.missing_embeddings(model_id, min(chunk_size, todo - done))
        if not batch:
            break
        vectors = embedder.embed([item_text(item) for item in batch])
        store.save_embeddings(model_id, [item["content_hash"] for item in batch], vectors)
        done += len(batch)
        if progress:
            progress(done, todo)
    return EmbedResult(model=model_id, embedded=done, reused=reused,
                       seconds=round(time.monotonic() - started, 3))
