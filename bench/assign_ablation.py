"""Nested-CV ablations of field assignment on dev + the train split (never the frozen test split).

Run: PYTHONPATH=. .venv/bin/python bench/assign_ablation.py [--model multilingual-e5-small]
     [--seed 0] [--variants baseline,knn,...]

Each variant is the calibrator (features, probes) plus a decision rule; both are fitted in
the outer training folds only, the rule's parameters (thresholds) by an inner CV on those
folds, exactly like `scanner evaluate assign`. Prints macro-F1 overall / en / zh, micro-F1,
"no field" items given a field, fields below 0.70, and the CPU seconds of each variant.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def load(model: str):
    from scanner.assign import Scorer
    from scanner.embed import load_embedder
    from scanner.evaluation.assignment import load_labels
    from scanner.evaluation.labels import cached_vectors, combine, load_id_labels
    from scanner.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(REPO / "data" / "taxonomy" / "taxonomy-2025.1.toml")
    field_ids = [f.id for f in taxonomy.active_fields]
    dev = load_labels(REPO.parent / "shared" / "data" / "labels" / "dev.jsonl", field_ids)
    ours = load_id_labels(REPO / "data" / "labels" / "labels.jsonl", field_ids,
                          REPO.parent / "shared" / "data" / "corpus", ("train",))
    labelled = combine(dev, ours)
    embedder = load_embedder(model)
    vectors = cached_vectors(embedder, labelled.texts, REPO / ".cache" / "vectors" / "labels")
    evidence = Scorer(taxonomy, embedder).evidence(labelled.titles, labelled.bodies, vectors)
    return labelled, evidence


def figures_line(g: dict) -> str:
    """Macro-F1 overall / en / zh, micro-F1, "no field" items given a field and the
    fields under 0.70, as one line."""
    none = g["nofield"]["all"]
    weak = sorted((r["f1"], r["field"]) for r in g["per_field"]
                  if r["support"] and r["f1"] < 0.7)
    return (f"macro {g['macro']['all']:.3f} en {g['macro']['en']:.3f} "
            f"zh {g['macro']['zh']:.3f} micro {g['micro']['all']:.3f} no-field "
            f"{none['given_a_field']}/{none['items']} "
            f"({none['given_a_field'] / none['items']:.1%}) "
            f"<0.70: {len(weak)} [{', '.join(f'{f} {v:.2f}' for v, f in weak[:5])}]")


def all_variants() -> dict:
    """The variants of bench/assign_variants.py and bench/assign_variants_lexical.py."""
    from assign_variants import VARIANTS
    from assign_variants_lexical import LEXICAL

    return {**VARIANTS, **LEXICAL}


def run_variant(name: str, labelled, evidence, seed: int, folds: int = 5) -> dict:
    from scanner.evaluation.assignment import _folds, figures

    fit, rule = all_variants()[name]
    labels = labelled.labels
    langs = labelled.languages
    predicted = np.zeros_like(labels)
    chosen = []
    for fold, test in enumerate(_folds(len(labels), folds, seed)):
        train = np.setdiff1d(np.arange(len(labels)), test)
        # inner CV: out-of-fold probabilities within the training folds choose the rule
        inner = np.zeros((len(train), labels.shape[1]))
        for itest in _folds(len(train), folds - 1, seed + fold + 1):
            itrain = np.setdiff1d(np.arange(len(train)), itest)
            model = fit(evidence.subset(train[itrain]), labels[train[itrain]], labelled.field_ids)
            inner[itest] = model.predict_proba(evidence.subset(train[itest]))
        params = rule.choose(inner, labels[train], langs[train])
        model = fit(evidence.subset(train), labels[train], labelled.field_ids)
        proba = model.predict_proba(evidence.subset(test))
        predicted[test] = rule.apply(params, proba, langs[test])
        chosen.append(params)
    got = figures(labelled, predicted)
    return {"figures": got, "params": chosen}


def main() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    VARIANTS = all_variants()

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", default="baseline")
    args = ap.parse_args()
    labelled, evidence = load(args.model)
    print(f"{len(labelled.labels)} items ({(labelled.languages == 'en').sum()} en), "
          f"model {args.model}, seed {args.seed}", flush=True)
    for name in args.variants.split(","):
        if name not in VARIANTS:
            sys.exit(f"unknown variant {name}; known: {', '.join(VARIANTS)}")
        cpu = time.process_time()
        out = run_variant(name, labelled, evidence, args.seed)
        print(f"{name:28s} {figures_line(out['figures'])} "
              f"cpu {time.process_time() - cpu:.0f}s params {out['params']}", flush=True)


if __name__ == "__main__":
    main()
