"""Nightly replay of topic identities over 30 consecutive days of arXiv CS papers.

Run: .venv/bin/python bench/topics_replay.py [--first 2025-05-19] [--nights 30]
         [--model multilingual-e5-small-fast] [--window-days 30] [--recluster-days 7]

The store (.cache/bench/replay-<model>.db, not committed) holds the items of
arxiv_cs_2025_2026.parquet from `window-days` before the first night to the last night,
embedded and assigned through the pipeline's own stages (once; later runs reuse them).
Each night then runs the pipeline's topics stage for that date: only items published
on or before the night are visible, so the replay sees them arrive night by night.

Printed: per night the mode (full reclustering or incremental), topics, unassigned
share, lineage events and seconds; then the survival of topic ids among topics whose
members barely changed (best Jaccard >= 0.8 between consecutive nights, over items in
both windows) and the lineage events seen.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "arxiv_cs_2025_2026.parquet"
BARELY_CHANGED = 0.8


def prepare(config, first: date, last: date, window_days: int) -> None:
    """Import the replay's items, embed and assign them (skipped when already done)."""
    import pyarrow.parquet as pq

    from scanner.assign import calibrator_path
    from scanner.embed import stored_model
    from scanner.ingest.dumps import PRESETS, row_to_item
    from scanner.run import RunContext, assign_stage, embed_stage
    from scanner.store import Store
    from scanner.taxonomy import load_taxonomy

    start = (first - timedelta(days=window_days)).isoformat()
    store = Store(config.db_path)
    if store.stats()["items"] == 0:
        preset = next(p for p in PRESETS if p.name == "arxiv-cs-daily")
        now = datetime.now(UTC)
        rows = pq.read_table(CORPUS, columns=["id", "date", "title", "summary_en", "categories"]
                             ).to_pylist()
        items = [row_to_item(r, preset, "arxiv-cs-daily", now) for r in rows
                 if start <= str(r["date"])[:10] <= last.isoformat()]
        store.upsert_items([i for i in items if i])
    store.close()
    print(f"embedding with {config.model} ...", flush=True)
    print(json.dumps(embed_stage(RunContext(config))), flush=True)
    path = calibrator_path(load_taxonomy(config.taxonomy_file).version,
                           stored_model(config))
    if not path.is_file():
        subprocess.run([str(REPO / ".venv" / "bin" / "scanner"), "evaluate", "assign", "--save"],
                       check=True, env={**os.environ, "SCANNER_MODEL": config.model})
    print(json.dumps(assign_stage(RunContext(config))), flush=True)


def survival(before: dict[str, str | None], after: dict[str, str | None]
             ) -> tuple[int, int, int, int]:
    """(stable topics, of them keeping their id, topics before, of them with id alive after)."""
    common = set(before) & set(after)
    groups_before: defaultdict[str, set[str]] = defaultdict(set)
    groups_after: defaultdict[str, set[str]] = defaultdict(set)
    for item in common:
        if before[item]:
            groups_before[before[item]].add(item)  # type: ignore[index]
        if after[item]:
            groups_after[after[item]].add(item)  # type: ignore[index]
    stable = kept = 0
    for topic, members in groups_before.items():
        best_id, best = None, 0.0
        for other, other_members in groups_after.items():
            overlap = len(members & other_members)
            if overlap:
                jaccard = overlap / len(members | other_members)
                if jaccard > best:
                    best_id, best = other, jaccard
        if best >= BARELY_CHANGED:
            stable += 1
            kept += best_id == topic
    alive_after = {t for t in after.values() if t}
    all_before = {t for t in before.values() if t}
    return stable, kept, len(all_before), len(all_before & alive_after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", default="2025-05-19")
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--model", default="multilingual-e5-small-fast")
    parser.add_argument("--window-days", type=int, default=30)
    parser.add_argument("--recluster-days", type=int, default=7)
    args = parser.parse_args()
    if not CORPUS.is_file():
        sys.exit(f"missing {CORPUS}: the replay needs the shared corpus beside the repo")

    from scanner.config import load_config
    from scanner.run import RunContext, topics_stage
    from scanner.store import Store

    first = date.fromisoformat(args.first)
    nights = [first + timedelta(days=n) for n in range(args.nights)]
    db = REPO / ".cache" / "bench" / f"replay-{args.model}.db"
    config = load_config(None, {"db_path": str(db), "model": args.model})
    config = replace(config, topics=replace(config.topics, window_days=args.window_days,
                                            recluster_days=args.recluster_days))
    prepare(config, first, nights[-1], args.window_days)
    store = Store(config.db_path)
    store.clear_topics(args.model)
    store.close()

    memberships: list[dict[str, str | None]] = []
    events: Counter[str] = Counter()
    print(f"\n{'night':<11} {'mode':<12} {'items':>6} {'topics':>6} {'unassigned':>10} "
          f"{'seconds':>7}  events")
    started = time.monotonic()
    for night in nights:
        summary = topics_stage(RunContext(config, night.isoformat(), f"replay-{night}"))
        store = Store(config.db_path)
        memberships.append({i: t for i, (t, _) in
                            store.topic_memberships(args.model, "all").items()})
        store.close()
        events.update(summary["events"])
        share = summary["unassigned"] / max(summary["items"], 1)
        print(f"{night.isoformat():<11} {summary['modes']['all']:<12} {summary['items']:>6} "
              f"{summary['topics']:>6} {share:>10.1%} {summary['seconds']:>7.1f}  "
              f"{json.dumps(summary['events'])}", flush=True)
    stable = kept = before = alive = 0
    for a, b in itertools.pairwise(memberships):
        s, k, n, m = survival(a, b)
        stable, kept, before, alive = stable + s, kept + k, before + n, alive + m
    print(f"\nreplay of {len(nights)} nights ({nights[0]} to {nights[-1]}), model {args.model}, "
          f"window {args.window_days} d, full reclustering every {args.recluster_days} d: "
          f"{time.monotonic() - started:.0f} s")
    print(f"topics whose members barely changed (Jaccard >= {BARELY_CHANGED}) night to night: "
          f"{stable}; kept their id: {kept} ({kept / max(stable, 1):.1%})")
    print(f"all topic ids of one night alive the next: {alive} of {before} "
          f"({alive / max(before, 1):.1%})")
    print(f"lineage events: {json.dumps(dict(sorted(events.items())))}")


if __name__ == "__main__":
    main()
