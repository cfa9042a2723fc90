"""Positives per field, language and split of the training and frozen-test labels (the table
in docs/evaluation-assign.md).

Run: python bench/label_counts.py   (reads ../shared/data/labels/dev.jsonl and data/labels/labels.jsonl)
"""

# ruff: noqa: E501  (the label scripts; long literal rows)

from __future__ import annotations

import collections
import json
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    tax = sorted((REPO / "data" / "taxonomy").glob("*.toml"))[-1]
    fids = [f["id"] for f in tomllib.loads(tax.read_text(encoding="utf-8"))["field"]]
    dev = [json.loads(x) for x in (REPO.parent / "shared" / "data" / "labels" / "dev.jsonl")
           .read_text(encoding="utf-8").splitlines() if x.strip()]
    ours = [json.loads(x) for x in (REPO / "data" / "labels" / "labels.jsonl")
            .read_text(encoding="utf-8").splitlines() if x.strip()]
    groups = {"dev": dev}
    rounds = sorted({r.get("round", 1) for r in ours})
    for rnd in rounds:
        for split in ("train", "test"):
            groups[f"r{rnd} {split}"] = [r for r in ours if r.get("round", 1) == rnd
                                         and r["split"] == split]
    count = {g: collections.Counter((f, r["lang"]) for r in rows for f in (r["fields"] or ["-"]))
             for g, rows in groups.items()}
    items = {g: collections.Counter(r["lang"] for r in rows) for g, rows in groups.items()}
    train = ("dev", *(f"r{k} train" for k in rounds))
    test = tuple(f"r{k} test" for k in rounds)
    print("| field | dev en/zh | " + " | ".join(f"round {k} train en/zh" for k in rounds)
          + " | training total (en/zh) | " + " | ".join(f"frozen test r{k} en/zh" for k in rounds) + " |")
    print("| --- | --- | " + "--- | " * len(rounds) + "---: | " + " | ".join("---" for _ in rounds) + " |")
    for f in [*fids, "-"]:
        name = "(no field)" if f == "-" else f
        cells = [f"{count[g][(f, 'en')]}/{count[g][(f, 'zh')]}" for g in train]
        en = sum(count[g][(f, "en")] for g in train)
        zh = sum(count[g][(f, "zh")] for g in train)
        low = " **<15**" if f != "-" and min(en, zh) < 15 else ""
        tests = [f"{count[g][(f, 'en')]}/{count[g][(f, 'zh')]}" for g in test]
        print(f"| {name} | {' | '.join(cells)} | {en + zh} ({en}/{zh}){low} | {' | '.join(tests)} |")
    cells = [f"{items[g]['en']}/{items[g]['zh']}" for g in train]
    en = sum(items[g]["en"] for g in train)
    zh = sum(items[g]["zh"] for g in train)
    tests = [f"{items[g]['en']}/{items[g]['zh']}" for g in test]
    print(f"| **items** | {' | '.join(cells)} | {en + zh} ({en}/{zh}) | {' | '.join(tests)} |")


if __name__ == "__main__":
    main()
