"""Stage timings of one nightly run on a 20,000-item store with 1,000 new items.

Run: .venv/bin/python bench/nightly_timing.py [--store-items 20000] [--new-items 1000]
         [--model multilingual-e5-small-fast] [--keep DIR]

Set-up (not timed as the night): the first 20,000 rows of the arXiv 2010-2019 sample
(bench/corpus_cache.py) imported, their cached vectors stored, assigned, and a first
night run for the day before, so topics exist; then the next 1,000 rows imported as the
night's new items (pull is skipped: nothing can be fetched here). The night itself is
the `nightly` flow under Prefect (temporary server) with `fetch=False`: embed, assign,
topics, signals, report, each stage's seconds from the run's summary.

The topics window is widened to the store's whole span (the sample spreads over ten
years; with the default 365 days a window would hold a tenth of it), so the topics stage
works on all 21,000 items: the heavy case.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
CACHE = REPO / ".cache" / "bench"


def _dump(rows: list[dict], path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store-items", type=int, default=20_000)
    parser.add_argument("--new-items", type=int, default=1_000)
    parser.add_argument("--model", default="multilingual-e5-small-fast")
    parser.add_argument("--keep", type=Path, help="Work here and keep the store.")
    args = parser.parse_args()

    from corpus_cache import cache_path, embed_sample, into_store, sample_rows, vector_key

    import flows  # noqa: F401  (offline Prefect settings)
    from flows.nightly import nightly
    from scanner.config import load_config
    from scanner.run import RunContext, assign_stage, signals_stage, topics_stage
    from scanner.run.backfill import import_chunk

    work = args.keep or Path(tempfile.mkdtemp(prefix="nightly-timing-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = sample_rows(args.store_items + args.new_items)
    old, new = rows[:args.store_items], rows[args.store_items:]
    days = sorted(str(r["created"])[:10] for r in rows)
    night = max(days)
    config_file = work / "scanner.toml"
    config_file.write_text(
        f'db_path = "{work / "store.db"}"\nreport_dir = "{work / "reports"}"\n'
        f'model = "{args.model}"\n[topics]\nwindow_days = 3700\n')
    config = load_config(config_file)

    started = time.monotonic()
    with RunContext(config) as ctx:
        import_chunk(ctx, str(_dump(old, work / "old.parquet")), 10**9)
    # the store's vectors: a prefix of bench/corpus_cache.py's 100k sample when it is
    # embedded, else the store's rows embedded here once (cached; set-up, not the night)
    total = 100_000 if cache_path(args.model, 100_000).exists() else args.store_items
    if total == args.store_items:
        embed_sample(total, args.model)
    into_store(config.db_path, args.store_items, args.model, total)
    from datetime import date, timedelta

    before = (date.fromisoformat(night) - timedelta(days=1)).isoformat()
    with RunContext(config, before, "setup") as ctx:
        assign_stage(ctx)
        topics_stage(ctx)
        signals_stage(ctx)
        import_chunk(ctx, str(_dump(new, work / "new.parquet")), 10**9)
    setup = time.monotonic() - started

    started = time.monotonic()
    summary = nightly(run_date=night, fetch=False, config_path=str(config_file))
    wall = time.monotonic() - started
    print(f"\nnightly run for {night} on {args.store_items:,} stored + {args.new_items:,} new "
          f"arXiv items, model {args.model}, vectors {vector_key(args.model)} (set-up "
          f"{setup:.0f} s, not counted)")
    print("| stage | seconds | details |\n| --- | ---: | --- |")
    for stage in summary["stages"]:
        details = {k: v for k, v in stage.items() if k not in ("stage", "status", "seconds")}
        print(f"| {stage['stage']} | {stage.get('seconds', '-')} | "
              f"{json.dumps(details, ensure_ascii=False)[:150]} |")
    stage_total = sum(s.get("seconds", 0) for s in summary["stages"])
    print(f"| flow total (wall, incl. Prefect's temporary server) | {wall:.1f} | stages "
          f"{stage_total:.1f} s, Prefect and start-up {wall - stage_total:.1f} s |")


if __name__ == "__main__":
    main()
