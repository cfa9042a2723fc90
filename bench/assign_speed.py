"""Throughput of the assign stage on stored vectors (items/s), with the shipped calibrator.

Run: PYTHONPATH=. .venv/bin/python bench/assign_speed.py [--n 5000] [--model multilingual-e5-small]

The first N abstracts of ../shared/data/corpus/arxiv_2010_2019.parquet are stored in a
temporary store with vectors (real e5 vectors of the labelled items from
.cache/vectors/labels/, reused in turn, so similarities look like real ones; random unit
vectors when that cache is absent: embedding N items would take minutes and is not what
is timed). The scorer's prototypes are embedded first (reported apart), then
`assign_items` is timed: keyword evidence, features, the calibrator (with its field
probes), pathways and the store writes. It only uses APIs that predate the field probes,
so the same script times an older checkout (PYTHONPATH=/path/to/old).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "corpus"


def first_rows(n: int) -> list[dict]:
    """The first n rows (arxiv_id, title, abstract) of the arXiv 2010-2019 corpus."""
    import pyarrow.parquet as pq

    rows: list[dict] = []
    for batch in pq.ParquetFile(CORPUS / "arxiv_2010_2019.parquet").iter_batches(
            batch_size=5000, columns=["arxiv_id", "title", "abstract"]):
        rows.extend(batch.to_pylist())
        if len(rows) >= n:
            break
    return rows[:n]


def vectors_for(n: int, model: str, dim: int, root: Path) -> tuple[np.ndarray, str]:
    """n vectors: the cached labelled items' vectors in turn, or random unit vectors."""
    cache = root / ".cache" / "vectors" / "labels" / f"{model}.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            pool = stored["vectors"].astype(np.float32)
        return pool[np.arange(n) % len(pool)], f"{len(pool)} cached label vectors in turn"
    rng = np.random.default_rng(0)
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True), "random unit vectors"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--repeat", type=int, default=1, help="Timed passes (best is kept).")
    args = parser.parse_args()

    from scanner import PROJECT_ROOT
    from scanner.assign import Calibrator, Scorer, assign_items, calibrator_path
    from scanner.embed import load_embedder
    from scanner.ingest.normalize import make_item
    from scanner.store import Store
    from scanner.taxonomy import load_taxonomy, taxonomy_key

    taxonomy = load_taxonomy(PROJECT_ROOT / "data" / "taxonomy" / "taxonomy-2025.1.toml")
    calibrator = Calibrator.load(calibrator_path(taxonomy.version, args.model))
    embedder = load_embedder(args.model)
    scorer = Scorer(taxonomy, embedder)
    started = time.monotonic()
    scorer.evidence(["warm-up"], ["warm-up"], embedder.embed(["warm-up"]))
    warm = time.monotonic() - started
    now = datetime.now(UTC)
    items = [make_item(source_id="bench", kind="paper", title=r["title"], summary=r["abstract"],
                       url=f"https://arxiv.org/abs/{r['arxiv_id']}", published=now,
                       fetched_at=now) for r in first_rows(args.n)]
    vectors, what = vectors_for(len(items), args.model, embedder.spec.dimension, PROJECT_ROOT)
    best = None
    for attempt in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "s.db") as store:
            store.upsert_items(items)
            store.save_embeddings(args.model, [i["content_hash"] for i in items], vectors)
            started = time.monotonic()
            result = assign_items(store, scorer, calibrator, taxonomy_key(taxonomy))
            seconds = time.monotonic() - started
        rate = result.assigned / seconds
        print(f"pass {attempt + 1}: {result.assigned} items in {seconds:.1f} s = {rate:.0f} "
              f"items/s ({result.with_fields} with a field)", flush=True)
        best = rate if best is None else max(best, rate)
    print(f"assign stage, {args.model}, {len(items)} arXiv abstracts on stored vectors "
          f"({what}): best {best:.0f} items/s; prototypes embedded first in {warm:.1f} s")


if __name__ == "__main__":
    main()
