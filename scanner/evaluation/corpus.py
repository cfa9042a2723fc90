"""Items for the backtests: a dump's rows as a Corpus of vectors, dates, venues and texts.

Embeddings come from the store (missing ones computed once and stored, keyed by content
hash and model), or, for LSA, are fitted per cut-off later (scanner.evaluation.lexical).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Corpus:
    """Items for a backtest: vectors, publication dates, and a venue per item."""

    vectors: np.ndarray
    dates: np.ndarray  # ISO date strings
    venues: list[str | None]
    kind: str = "paper"
    fields: np.ndarray | None = None  # [items x fields] bool: the assigned fields
    kinds: np.ndarray | None = None  # per item, when the corpus mixes streams
    field_ids: Sequence[str] = ()
    texts: list[str] | None = None  # kept for vectors fitted per cut-off (LSA)
    titles: list[str] | None = None  # for the emerging-term marks (topicterms)
    summaries: list[str] | None = None

    def item_kinds(self) -> np.ndarray:
        """Each item's stream (kind)."""
        return self.kinds if self.kinds is not None else np.full(len(self.dates), self.kind)


def load_corpus(store: Any, path: Any, preset_name: str | None, model: str,
                sample: int | None, seed: int, embedder_factory: Any, progress: Any = None,
                assign: Any = None, mapping: Any = None, kind: str | None = None,
                vectors: str = "model") -> Corpus:
    """Rows of a dump as a Corpus, with embeddings from the store (missing ones are
    computed once and stored, keyed by content hash and model), or with `vectors="lsa"`
    the rows' texts for LSA fitted per cut-off (lexical.at_cutoff; nothing stored, no
    fields). `assign(titles, bodies, vectors)` -> (field ids, [items x fields] bool).

    `preset_name` None reads any dump `scanner import` reads (CSV, JSON lines, Parquet;
    layout from its columns or `mapping`)."""
    from datetime import UTC, datetime

    import pyarrow.parquet as pq

    from scanner.embed import item_text
    from scanner.ingest.dumps import PRESETS, read_dump_items, row_to_item

    if preset_name is None:  # one dump, or several joined by commas (a mixed corpus)
        items = []
        for part in str(path).split(","):  # PATH or PATH::KIND
            file, _, part_kind = part.strip().partition("::")
            preset, part_items = read_dump_items(file, mapping, part_kind or kind)
            items += part_items
        if sample and sample < len(items):
            keep = np.sort(np.random.default_rng(seed).permutation(len(items))[:sample])
            items = [items[i] for i in keep]
    else:
        preset = next((p for p in PRESETS if p.name == preset_name), None)
        if preset is None:
            from scanner.errors import ConfigError

            raise ConfigError(f"unknown preset {preset_name!r}; known: "
                              f"{', '.join(p.name for p in PRESETS)}")
        table = pq.read_table(path)
        if sample and sample < table.num_rows:
            table = table.take(np.random.default_rng(seed).permutation(table.num_rows)
                               [:sample])
        now = datetime.now(UTC)
        items = [it for it in (row_to_item(r, preset, preset.name, now)
                               for r in table.to_pylist()) if it]
    texts = None
    if vectors == "lsa":  # fitted per cut-off on the past: scanner.evaluation.lexical
        texts = [item_text(it) for it in items]
        matrix = np.zeros((len(items), 0), dtype=np.float32)
    else:
        matrix = _stored_vectors(store, model, items, embedder_factory, progress)
    corpus = Corpus(vectors=matrix, dates=np.array([it["published"][:10] for it in items]),
                    venues=[it.get("primary_category") or it.get("source_id") for it in items],
                    kind=preset.kind, kinds=np.array([it["kind"] for it in items]),
                    texts=texts, titles=[it["title"] or "" for it in items],
                    summaries=[it["summary"] or "" for it in items])
    if assign is not None and vectors != "lsa":
        corpus.field_ids, corpus.fields = assign(corpus.titles, corpus.summaries,
                                                 corpus.vectors)
    return corpus


def _stored_vectors(store: Any, model: str, items: list[dict[str, Any]],
                    embedder_factory: Any, progress: Any) -> np.ndarray:
    """The items' vectors from the store; missing ones embedded once and stored."""
    from scanner.embed import item_text

    hashes = [it["content_hash"] for it in items]
    found = store.embeddings_for_hashes(model, hashes)
    missing = [it for it in items if it["content_hash"] not in found]
    if missing:
        embedder = embedder_factory()
        for start in range(0, len(missing), 256):
            chunk = missing[start:start + 256]
            vectors = embedder.embed([item_text(it) for it in chunk])
            store.save_embeddings(model, [it["content_hash"] for it in chunk], vectors)
            found.update(zip((it["content_hash"] for it in chunk), vectors, strict=True))
            if progress:
                progress(start + len(chunk), len(missing))
    return np.stack([found[h] for h in hashes]).astype(np.float32)
