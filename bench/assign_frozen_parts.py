"""The frozen test split's figures by labelling round, with a shipped calibrator.

Run: PYTHONPATH=. .venv/bin/python bench/assign_frozen_parts.py [--model multilingual-e5-small]

The same predictions as `scanner evaluate assign --test-split` (the shipped calibrator at
its threshold on the test rows of data/labels/labels.jsonl), reported for all test items,
and each labelling round's part (the last round new, earlier ones scored before).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    from scanner.assign import Calibrator, Scorer, calibrator_path
    from scanner.embed import load_embedder
    from scanner.evaluation.assignment import figures
    from scanner.evaluation.labels import cached_vectors, load_id_labels
    from scanner.taxonomy import load_taxonomy

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="multilingual-e5-small")
    args = ap.parse_args()
    taxonomy = load_taxonomy(REPO / "data" / "taxonomy" / "taxonomy-2025.1.toml")
    field_ids = [f.id for f in taxonomy.active_fields]
    path = REPO / "data" / "labels" / "labels.jsonl"
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    rounds = np.array([r.get("round", 1) for r in rows if r.get("split", "train") == "test"])
    held = load_id_labels(path, field_ids, REPO.parent / "shared" / "data" / "corpus", ("test",))
    embedder = load_embedder(args.model)
    vectors = cached_vectors(embedder, held.texts, REPO / ".cache" / "vectors" / "labels")
    calibrator = Calibrator.load(calibrator_path(taxonomy.version, args.model))
    evidence = Scorer(taxonomy, embedder).evidence(held.titles, held.bodies, vectors)
    predicted = (calibrator.predict_proba(evidence) >= calibrator.threshold).astype(int)
    print(f"model {args.model}, threshold {calibrator.threshold:.2f}")
    print("| part | items (en/zh) | macro-F1 | en | zh | micro-F1 | \"no field\" given a field |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    last = int(rounds.max())
    parts = [("all", rounds > 0)] + [
        (f"round {k} ({'new' if k == last else 'scored before'})", rounds == k)
        for k in sorted(set(rounds.tolist()))]
    for name, mask in parts:
        got = figures(held.subset(mask), predicted[mask])
        none = got["nofield"]["all"]
        print(f"| {name} | {got['items']['all']} ({got['items']['en']}/{got['items']['zh']}) | "
              f"{got['macro']['all']:.3f} | {got['macro']['en']:.3f} | {got['macro']['zh']:.3f} | "
              f"{got['micro']['all']:.3f} | {none['given_a_field']} of {none['items']} "
              f"({none['given_a_field'] / max(1, none['items']):.1%}) |")


if __name__ == "__main__":
    main()
