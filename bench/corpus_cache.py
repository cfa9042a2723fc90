"""Embeddings of a fixed random sample of the arXiv 2010-2019 corpus, cached for benchmarks.

Run: .venv/bin/python bench/corpus_cache.py [--n 100000] [--model multilingual-e5-small-fast]

The sample is drawn once with a fixed seed; smaller scale points are its prefixes, so the
10k, 50k and 100k runs are nested. The model runs on its default backend (int8 for the e5
models since #22), and the files and the stored vectors are keyed as a store keys them
(MODEL or MODEL+int8). Vectors are written in chunks under .cache/bench/ (not
committed) and the run resumes from the last finished chunk after an interruption.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "arxiv_2010_2019.parquet"
CACHE = REPO / ".cache" / "bench"
CHUNK = 2000
SEED = 20100101


def sample_rows(n: int) -> list[dict]:
    """n rows of the corpus in a fixed random order (the same for every n)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # read batch by batch and keep only the sample: reading the whole table at once held
    # ~1 GB, which then counted in every benchmark's peak memory (the process high-water
    # mark); the freed pages stayed in pyarrow's pool until released
    corpus = pq.ParquetFile(CORPUS)
    order = np.random.default_rng(SEED).permutation(corpus.metadata.num_rows)[:n]
    rank = np.full(corpus.metadata.num_rows, -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    picked: list[tuple[int, dict]] = []
    offset = 0
    for batch in corpus.iter_batches(batch_size=20_000, columns=[
            "arxiv_id", "created", "primary_cat", "title", "abstract"]):
        ranks = rank[offset:offset + batch.num_rows]
        rows = np.flatnonzero(ranks >= 0)
        picked.extend(zip(ranks[rows].tolist(), batch.take(rows).to_pylist(), strict=True))
        offset += batch.num_rows
    del corpus, batch
    pa.default_memory_pool().release_unused()
    return [row for _, row in sorted(picked, key=lambda pair: pair[0])]


def vector_key(model: str) -> str:
    """What the model's vectors are stored under on the configured backend
    (SCANNER_EMBED_BACKEND or the config's `embed_backend`; else the model's default):
    MODEL or MODEL+int8. The cache files are named after it, so int8 and float32 never
    mix."""
    from scanner.config import load_config
    from scanner.embed import embedding_key

    return embedding_key(model, load_config().embed_backend)


def cache_path(model: str, n: int) -> Path:
    return CACHE / f"arxiv2010-{vector_key(model)}-{n}.npy"


def _part(model: str, n: int, start: int) -> Path:
    return CACHE / f"arxiv2010-{vector_key(model)}-{n}.part{start // CHUNK:04d}.npy"


def embed_sample(n: int, model: str) -> np.ndarray:
    """The sample's vectors, computed chunk by chunk with resume, then joined."""
    final = cache_path(model, n)
    if final.exists():
        return np.load(final)
    from scanner.config import load_config
    from scanner.embed import item_text, load_embedder

    CACHE.mkdir(parents=True, exist_ok=True)
    rows = sample_rows(n)
    embedder = None
    parts = []
    started = time.monotonic()
    for start in range(0, n, CHUNK):
        part = _part(model, n, start)
        if not part.exists():
            if embedder is None:
                embedder = load_embedder(model, backend=load_config().embed_backend)
            texts = [item_text({"kind": "paper", "title": r["title"], "summary": r["abstract"]})
                     for r in rows[start:start + CHUNK]]
            vectors = embedder.embed(texts)
            np.save(part.with_suffix(".tmp.npy"), vectors)
            part.with_suffix(".tmp.npy").replace(part)
            done = start + len(texts)
            rate = done / (time.monotonic() - started)
            print(f"{done}/{n} embedded ({rate:.1f}/s this run)", flush=True)
        parts.append(np.load(part))
    vectors = np.vstack(parts).astype(np.float32)
    np.save(final, vectors)
    for start in range(0, n, CHUNK):
        _part(model, n, start).unlink(missing_ok=True)
    return vectors


def load_prefix(n: int, model: str, total: int = 100_000) -> np.ndarray:
    """The first n vectors of the `total`-item sample, from the joined file or its chunks."""
    final = cache_path(model, total)
    if final.exists():
        return np.load(final, mmap_mode="r")[:n].copy()
    parts = []
    for start in range(0, n, CHUNK):
        part = _part(model, total, start)
        if not part.exists():
            raise FileNotFoundError(f"{part} not embedded yet: run bench/corpus_cache.py")
        parts.append(np.load(part))
    return np.vstack(parts)[:n].astype(np.float32)


def into_store(db: Path, n: int, model: str, total: int = 100_000) -> None:
    """Store the sample's vectors under their items' content hashes, so that
    `scanner evaluate backtest --sample n --model MODEL` reuses them."""
    from datetime import UTC, datetime

    from scanner.ingest.dumps import PRESETS, row_to_item
    from scanner.store import Store

    preset = next(p for p in PRESETS if p.name == "arxiv-2010-2019")
    now = datetime.now(UTC)
    vectors = load_prefix(n, model, total)
    hashes = [row_to_item(r, preset, preset.name, now)["content_hash"] for r in sample_rows(n)]
    store = Store(db)
    key = vector_key(model)
    for start in range(0, n, 5000):
        store.save_embeddings(key, hashes[start:start + 5000], vectors[start:start + 5000])
    print(f"{store.count_embeddings(key)} vectors of {key} in {db}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--model", default="multilingual-e5-small-fast")
    parser.add_argument("--into-store", type=Path,
                        help="Only store the first --prefix vectors (of an --n run, done or "
                             "under way) in this DB, for `scanner evaluate backtest`.")
    parser.add_argument("--prefix", type=int)
    args = parser.parse_args()
    if args.into_store:
        into_store(args.into_store, args.prefix or args.n, args.model, args.n)
        return
    vectors = embed_sample(args.n, args.model)
    where = cache_path(args.model, args.n)
    print(f"{vectors.shape[0]} vectors of {vectors.shape[1]} dims at {where}")


if __name__ == "__main__":
    main()
