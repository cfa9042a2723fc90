"""Speed of term counting: the whole arXiv 2010-2019 corpus, and one night's increment.

    PYTHONPATH=$PWD .venv/bin/python bench/terms.py [--workers 2] [--skip-full]

Prints wall and CPU seconds, peak resident memory of this process and of its largest
worker (ru_maxrss; a forked worker's figure includes pages it shares with the parent),
and the load average before and after: the machine is shared, so wall time under load
is an upper bound and CPU seconds are the steadier figure.
Targets (issue #18): the full count in at most 3 minutes and 2 GB; a night of 1,000
items counted into the store in under 10 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("SCANNER_SHARED", ROOT.parent / "shared")) / "data" / "corpus"


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def full_count(workers: int) -> None:
    """Read and count every abstract of the arXiv 2010-2019 corpus."""
    import pyarrow as pa

    from scanner.terms.corpus import read_corpus
    from scanner.terms.counts import count_corpus

    pa.set_memory_pool(pa.system_memory_pool())
    path = SHARED / "arxiv_2010_2019.parquet"
    load = os.getloadavg()[0]
    started, cpu = time.monotonic(), _cpu()
    corpus = read_corpus(path)
    read_s = time.monotonic() - started
    counts = count_corpus(corpus.chunks(), corpus.stream, workers=workers)
    wall, cpu = time.monotonic() - started, _cpu() - cpu
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kid = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"full count: {len(corpus):,} abstracts, {len(counts.terms):,} named terms, "
          f"{len(counts.df):,} (term, month, venue) rows")
    print(f"  wall {wall:.1f} s (read {read_s:.1f} s), CPU {cpu:.1f} s, {workers} workers")
    print(f"  peak RSS: parent {me:,.0f} MB, largest worker {kid:,.0f} MB")
    print(f"  load average {load:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores)")


def night(n_old: int, n_arxiv: int, n_news: int) -> None:
    """Count a night of new items into a store that already holds counted items."""
    import pyarrow.parquet as pq

    from scanner.config import Config
    from scanner.ingest.dumps import PRESETS, row_to_item
    from scanner.store import Store
    from scanner.taxonomy import load_taxonomy
    from scanner.terms.extract import ChineseSegmenter
    from scanner.terms.service import count_new_items

    presets = {p.name: p for p in PRESETS}
    now = datetime.now(UTC)
    arxiv = pq.read_table(SHARED / "arxiv_cs_2025_2026.parquet").slice(
        0, n_old + n_arxiv).to_pylist()
    news = pq.read_table(SHARED / "news_zh_2022_2024.parquet").slice(0, n_news).to_pylist()
    items = [row_to_item(r, presets["arxiv-cs-daily"], "bench-arxiv", now) for r in arxiv]
    news_items = [row_to_item(r, presets["news-zh"], "bench-news", now) for r in news]
    taxonomy = load_taxonomy(Config().taxonomy_file)
    vocabulary = taxonomy.chinese_terms
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "s.db") as store:
        store.upsert_items([i for i in items[:n_old] if i])
        segmenter = ChineseSegmenter(vocabulary)
        started = time.monotonic()
        count_new_items(store, segmenter)
        before = time.monotonic() - started
        store.upsert_items([i for i in items[n_old:] + news_items if i])
        started, cpu = time.monotonic(), _cpu()
        counted = count_new_items(store, ChineseSegmenter(vocabulary))
        wall, cpu = time.monotonic() - started, _cpu() - cpu
        rows = store.db.execute("SELECT count(*) FROM term_counts").fetchone()[0]
    print(f"night: {counted:,} new items ({n_arxiv} arXiv abstracts, {n_news} Chinese news "
          f"stories) onto {n_old:,} counted ({before:.1f} s for those), {rows:,} count rows")
    print(f"  wall {wall:.2f} s (jieba dictionary with {len(vocabulary)} taxonomy terms "
          f"included), CPU {cpu:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--old", type=int, default=20_000, help="items counted before")
    args = parser.parse_args()
    night(args.old, 700, 300)
    if not args.skip_full:
        full_count(args.workers)


if __name__ == "__main__":
    main()
