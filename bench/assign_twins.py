"""Nested CV with "twins": each labelled arXiv CS 2025-26 paper also enters training in its
other language (English summary <-> machine-written Chinese summary, same labels), never
the test folds, and a test item's own twin never trains its fold.

Run: PYTHONPATH=. .venv/bin/python bench/assign_twins.py [--variants baseline,...] [--seed 0]
Prints the same figures as bench/assign_ablation.py (originals only), with and without twins.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def load_with_twins(model: str):
    from assign_ablation import load

    from scanner.assign import Scorer
    from scanner.embed import load_embedder
    from scanner.evaluation.labels import cached_vectors, load_id_labels
    from scanner.taxonomy import load_taxonomy

    labelled, evidence = load(model)
    rows = [json.loads(line) for line in (REPO.parent / "shared" / "data" / "labels"
                                          / "dev.jsonl").read_text().splitlines() if line]
    rows += [r for r in map(json.loads, (REPO / "data" / "labels" / "labels.jsonl")
                            .read_text().splitlines()) if r.get("split", "train") == "train"]
    assert len(rows) == len(labelled.labels)
    owners = [i for i, r in enumerate(rows) if r["corpus"] == "arxiv_cs_2025_2026"]
    twins = [{"corpus": rows[i]["corpus"], "item_id": rows[i]["item_id"],
              "lang": "zh" if rows[i]["lang"] == "en" else "en", "fields": rows[i]["fields"]}
             for i in owners]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "twins.jsonl"
        path.write_text("".join(json.dumps(t) + "\n" for t in twins))
        twin_set = load_id_labels(path, labelled.field_ids,
                                  REPO.parent / "shared" / "data" / "corpus")
    taxonomy = load_taxonomy(REPO / "data" / "taxonomy" / "taxonomy-2025.1.toml")
    embedder = load_embedder(model)
    vectors = cached_vectors(embedder, twin_set.texts, REPO / ".cache" / "vectors" / "labels")
    twin_ev = Scorer(taxonomy, embedder).evidence(twin_set.titles, twin_set.bodies, vectors)
    return labelled, evidence, twin_set, twin_ev, np.array(owners)


def concat(a, b):
    """Two Evidence objects as one (rows of a, then b)."""
    from dataclasses import fields

    out = {}
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x is None or y is None:
            out[f.name] = None
        elif isinstance(x, list):
            out[f.name] = x + y
        else:
            out[f.name] = np.concatenate([x, y])
    return type(a)(**out)


def run(name, labelled, evidence, twin_set, twin_ev, owners, seed, use_twins, folds=5):
    from assign_ablation import all_variants

    from scanner.evaluation.assignment import _folds, figures

    fit, rule = all_variants()[name]
    labels, langs = labelled.labels, labelled.languages
    twin_of = {int(o): k for k, o in enumerate(owners)}

    def train_on(idx):
        extra = [twin_of[i] for i in idx if i in twin_of] if use_twins else []
        ev = evidence.subset(list(idx))
        lab = labels[idx]
        if extra:
            ev = concat(ev, twin_ev.subset(extra))
            lab = np.vstack([lab, twin_set.labels[extra]])
        return fit(ev, lab, labelled.field_ids)

    predicted = np.zeros_like(labels)
    for fold, test in enumerate(_folds(len(labels), folds, seed)):
        train = np.setdiff1d(np.arange(len(labels)), test)
        inner = np.zeros((len(train), labels.shape[1]))
        for itest in _folds(len(train), folds - 1, seed + fold + 1):
            itrain = np.setdiff1d(np.arange(len(train)), itest)
            inner[itest] = train_on(train[itrain]).predict_proba(evidence.subset(train[itest]))
        params = rule.choose(inner, labels[train], langs[train])
        proba = train_on(train).predict_proba(evidence.subset(test))
        predicted[test] = rule.apply(params, proba, langs[test])
    return figures(labelled, predicted)


def main() -> None:
    from assign_ablation import figures_line

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", default="baseline")
    ap.add_argument("--only-twins", action="store_true")
    args = ap.parse_args()
    data = load_with_twins(args.model)
    print(f"{len(data[0].labels)} items, {len(data[4])} with a twin, seed {args.seed}",
          flush=True)
    for name in args.variants.split(","):
        for use in ((True,) if args.only_twins else (False, True)):
            cpu = time.process_time()
            figures = figures_line(run(name, *data, args.seed, use))
            print(f"{name:16s} twins={use!s:5s} {figures} "
                  f"cpu {time.process_time() - cpu:.0f}s", flush=True)


if __name__ == "__main__":
    main()
