"""Chinese labels of English-paper topics from the CS corpus's Chinese summaries.

Run: .venv/bin/python bench/zh_labels.py [--sample 2000] [--db .cache/bench/zh_labels.db]

Imports a random sample of arxiv_cs_2025_2026.parquet (papers of --since..--until, with
their Chinese summaries, as `scanner import` keeps them), embeds it with
multilingual-e5-small-fast, clusters the window once, and prints how each live topic's
Chinese label is made (its Chinese items, its members' Chinese summaries, a taxonomy term,
or none) beside what the rule before summaries were kept would give, and example labels.
Nothing here is tuned: the rule (at least half of a topic's English members carry a
summary; each keyword in two or more of them) was set before this was run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "arxiv_cs_2025_2026.parquet"
MODEL = "multilingual-e5-small-fast"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--since", default="2025-10-01")
    parser.add_argument("--until", default="2025-12-31")
    parser.add_argument("--db", default=str(REPO / ".cache" / "bench" / "zh_labels.db"))
    args = parser.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is missing (../shared/data/corpus/ beside the repository)")

    from scanner.config import load_config
    from scanner.ingest.dumps import import_dump
    from scanner.report.enrich import topic_label_zh
    from scanner.run import RunContext, embed_stage, topics_stage
    from scanner.store import Store

    db = Path(args.db)
    config = load_config(None, {"db_path": str(db), "model": MODEL})
    window = (int(args.until[:4]) - int(args.since[:4])) * 365 + 120
    config = replace(config, topics=replace(config.topics, window_days=window))
    store = Store(db)
    started = time.process_time()
    result = import_dump(store, CORPUS, since=args.since, until=args.until,
                         sample=args.sample, seed=args.seed)
    n_items = store.db["items"].count
    n_summaries = store.db["item_summaries"].count
    store.close()
    print(f"imported {result.counts.new} new of {n_items} papers; {n_summaries} carry a "
          f"Chinese summary ({n_summaries / max(n_items, 1):.0%}); "
          f"{time.process_time() - started:.1f} s CPU")
    with RunContext(config, args.until, "bench") as ctx:
        for step in (embed_stage, lambda c: topics_stage(c, full=True)):
            out = step(ctx)
            print({k: v for k, v in out.items() if k in ("stage", "status", "embedded",
                                                         "reused", "seconds", "scopes")})
        taxonomy = ctx.taxonomy
        topics = ctx.store.list_topics(ctx.stored_model, ("live",), 1000)
    now, before = Counter(), Counter()
    examples = []
    for t in topics:
        words = t.get("keywords") or {}
        label, basis = topic_label_zh({"keywords": words}, taxonomy)
        now[basis] += 1
        old = {k: v for k, v in words.items() if k != "zh_summaries"}
        before[topic_label_zh({"keywords": old}, taxonomy)[1]] += 1
        examples.append((t["size"], t["id"], ", ".join((words.get("en") or [])[:4]),
                         label or "-", basis))
    print(f"\n{len(topics)} live topics; Chinese label by basis:")
    for basis in ("keywords", "summaries", "taxonomy", "none"):
        print(f"  {basis:9s}  now {now[basis]:3d}   without summaries {before[basis]:3d}")
    print("\nlargest topics: size id | English keywords | Chinese label (basis)")
    for size, topic_id, en, zh, basis in sorted(examples, reverse=True)[:12]:
        print(f"  {size:4d} {topic_id} | {en} | {zh} ({basis})")


if __name__ == "__main__":
    main()
