"""The sentence-transformers (torch) backend: the rebuilt model folder run by
sentence-transformers, threads set explicitly."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from scanner.embed.registry import ModelSpec


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
        self.key = spec.id  # float32: the same vectors as openvino, one key
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
