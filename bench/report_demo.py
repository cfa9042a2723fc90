"""A report on real data: the Chinese news corpus through assign, topics, signals, report.

Run: .venv/bin/python bench/report_demo.py [--sample 6000] [--date 2024-12-31]

Builds .cache/bench/demo.db from a random sample of news_zh_2022_2024.parquet (the same
sample `scanner evaluate backtest --corpus news --sample N` uses; vectors already stored
there are reused), runs the pipeline's stages for the date with
multilingual-e5-small-fast, and writes the report to .cache/bench/reports/. Prints the
top five fields and the head of the watchlist; `--screenshot` also renders the HTML in
headless Chromium into test-artifacts/report-news.png.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "news_zh_2022_2024.parquet"
BENCH = REPO / ".cache" / "bench"
MODEL = "multilingual-e5-small-fast"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=20100101)
    parser.add_argument("--date", default="2024-12-31")
    parser.add_argument("--screenshot", action="store_true")
    args = parser.parse_args()

    import pyarrow.parquet as pq

    from scanner.config import load_config
    from scanner.ingest.dumps import PRESETS, row_to_item
    from scanner.store import Store

    db = BENCH / "demo.db"
    config = load_config(None, {"db_path": str(db), "model": MODEL,
                                "report_dir": str(BENCH / "reports")})
    config = replace(config, topics=replace(config.topics, window_days=730))
    store = Store(db)
    if store.stats()["items"] == 0:
        table = pq.read_table(CORPUS)
        table = table.take(np.random.default_rng(args.seed).permutation(table.num_rows)
                           [:args.sample])
        preset = next(p for p in PRESETS if p.name == "news-zh")
        items = [i for i in (row_to_item(r, preset, preset.name, datetime.now(UTC))
                             for r in table.to_pylist()) if i]
        store.upsert_items(items)
        cached = BENCH / "backtest-news.db"
        if cached.exists():
            source = Store(cached)
            found = source.embeddings_for_hashes(MODEL, [i["content_hash"] for i in items])
            source.close()
            if found:
                hashes = list(found)
                store.save_embeddings(MODEL, hashes, np.stack([found[h] for h in hashes]))
    store.close()
    from scanner.run import (
        RunContext,
        assign_stage,
        embed_stage,
        report_stage,
        signals_stage,
        topics_stage,
    )

    with RunContext(config, args.date, "demo") as ctx:
        for step in (embed_stage, assign_stage, lambda c: topics_stage(c, full=True),
                     signals_stage, report_stage):
            print({k: v for k, v in step(ctx).items() if k not in ("top",)})
    store = Store(db)
    fields = store.ranked("fields", args.date, limit=5)
    watch = store.ranked("watchlist", args.date, limit=3)
    store.close()
    print("\ntop five fields:")
    for r in fields:
        print(f"  #{r['rank']} {r['entity_id']} score {r['score']:.3f}: {r['explanation']}")
    print("watchlist head:")
    for r in watch:
        words = r["indicators"].get("keywords") or {}
        print(f"  #{r['rank']} {r['entity_id']} {', '.join((words.get('zh') or [])[:6])}: "
              f"{r['explanation']}")
    if args.screenshot and shutil.which("chromium"):
        out = REPO / "test-artifacts" / "report-news.png"
        out.parent.mkdir(exist_ok=True)
        page = (BENCH / "reports" / args.date / "report.html").resolve().as_uri()
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--window-size=1280,3000", f"--screenshot={out}", page],
                       check=True, capture_output=True)
        print(f"screenshot: {out}")


if __name__ == "__main__":
    main()
