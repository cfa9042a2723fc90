"""int8 against float32: vector agreement on 2,000 dev-like texts and field assignment.

Run: .venv/bin/python bench/embed_quality.py [--models multilingual-e5-small,...]
     [--seeds 0,1,...,9] [--n 2000]

Texts: the 260 labelled dev items (../shared/data/labels/dev.jsonl, en and zh) and the
first corpus rows (English abstracts of arxiv_2010_2019, Chinese news of
news_zh_2022_2024, half each) to reach --n, built as the pipeline builds them. The int8
build calibrates on rows past the first 5,000 (scanner/embed/int8.py), so none of these
texts was seen in calibration. Reported per model: mean, 1st percentile and minimum
cosine between the int8 and the float32 OpenVINO vectors (passages; and the taxonomy's
field prototypes as queries), by language.

Field assignment (models with a shipped float32 calibrator): the nested 5-fold
cross-validated macro-F1 of `scanner evaluate assign` with each backend's vectors (the
calibrators of each fold are fitted on that backend's features, i.e. refitted for int8),
over --seeds, with the paired differences (same folds for both backends on a seed: mean,
minimum, standard error) against the decision protocol's bar; the same with each fold's
calibrator fitted on float32 features and applied to int8 features (what shipping the
float32 calibrator for int8 would give); and the shipped float32 calibrator applied
unchanged to int8 features: how many item-field decisions flip against float32 features.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
#: The decision protocol's bars (docs/evaluation.md, "Decision protocol"): the mean paired
#: macro-F1 difference int8 - float32 over the seeds, and the mean cosine per language.
F1_BAR = 0.01
COSINE_BAR = 0.995


def quality_texts(n: int) -> tuple[list[str], np.ndarray]:
    """(texts, languages): the dev texts, then corpus rows to reach n."""
    import pyarrow.parquet as pq

    from scanner.embed import item_text

    rows = [json.loads(line) for line in
            (SHARED / "labels" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [item_text({"kind": "news" if r["corpus"].startswith("news") else "paper",
                        "title": r["title"], "summary": r["text"]}) for r in rows]
    langs = [r["lang"] for r in rows]
    rest = max(0, n - len(texts))
    for lang, name, kind, columns in (
            ("en", "arxiv_2010_2019.parquet", "paper", ["title", "abstract"]),
            ("zh", "news_zh_2022_2024.parquet", "news", ["title", "text"])):
        want = rest // 2 if lang == "en" else rest - rest // 2
        batch = next(pq.ParquetFile(SHARED / "corpus" / name).iter_batches(
            batch_size=want, columns=columns)).to_pylist()
        texts += [item_text({"kind": kind, "title": r[columns[0]], "summary": r[columns[1]]})
                  for r in batch]
        langs += [lang] * len(batch)
    return texts, np.array(langs)


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def summary(cos: np.ndarray) -> str:
    return (f"mean {cos.mean():.4f}  p1 {np.percentile(cos, 1):.4f}  min {cos.min():.4f}  "
            f"({len(cos)})")


def crossed_macro_f1(fit: Any, apply: Any, labelled: Any, folds: int, seed: int) -> dict:
    """Out-of-fold macro-F1 when each fold's calibrator and threshold are fitted on one
    backend's evidence (`fit`) and applied to another's (`apply`), as
    evaluate_assignment does it with one evidence for both."""
    from scanner.evaluation.assignment import _macro_f1, out_of_fold_predictions

    labels = labelled.labels
    predicted, _ = out_of_fold_predictions(fit, apply, labels, labelled.field_ids, folds, seed)
    groups = {"all": np.ones(len(labels), bool), "en": labelled.languages == "en",
              "zh": labelled.languages == "zh"}
    return {g: _macro_f1(labels[m], predicted[m]) for g, m in groups.items()}


def assignment(model_id: str, embedders: dict, seeds: list[int], crossed: bool = True) -> None:
    from scanner.assign import Calibrator, Scorer, calibrator_path
    from scanner.config import Config
    from scanner.evaluation.assignment import evaluate_assignment, load_labels
    from scanner.evaluation.labels import cached_vectors
    from scanner.evaluation.runs import VECTOR_CACHE
    from scanner.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(Config().taxonomy_file)
    shipped = calibrator_path(taxonomy.version, model_id)
    if not shipped.is_file():
        print(f"  no shipped calibrator for {model_id}: assignment not compared")
        return
    labelled = load_labels(SHARED / "labels" / "dev.jsonl", [f.id for f in taxonomy.active_fields])
    evidence, figures, scorers, vectors = {}, {}, {}, {}
    for name, embedder in embedders.items():
        scorers[name] = Scorer(taxonomy, embedder)
        # the labelled items' vectors as `scanner evaluate assign` caches them, per key
        vectors[name] = cached_vectors(embedder, labelled.texts, REPO / VECTOR_CACHE)
        evidence[name] = scorers[name].evidence(labelled.titles, labelled.bodies, vectors[name])
        figures[name] = []
    for seed in seeds:  # paired: one seed gives both backends the same folds
        for name in embedders:
            figures[name].append(evaluate_assignment(scorers[name], labelled, vectors[name],
                                                     seed=seed)[0].macro_f1)
        print(f"    seed {seed}: float32 {figures['float32'][-1]['all']:.4f}  int8 "
              f"{figures['int8'][-1]['all']:.4f}  difference "
              f"{figures['int8'][-1]['all'] - figures['float32'][-1]['all']:+.4f}", flush=True)
    if crossed:
        figures["float32 calibrators on int8"] = [
            crossed_macro_f1(evidence["float32"], evidence["int8"], labelled, 5, seed)
            for seed in seeds]
    print(f"  macro-F1, nested 5-fold CV on dev.jsonl, seeds {','.join(map(str, seeds))}:")
    for name, rows in figures.items():
        mean = {g: np.mean([r[g] for r in rows]) for g in ("all", "en", "zh")}
        print(f"    {name:28} all " + " ".join(f"{r['all']:.3f}" for r in rows)
              + f" | mean all {mean['all']:.3f} en {mean['en']:.3f} zh {mean['zh']:.3f}",
              flush=True)
    for group in ("all", "en", "zh"):
        diff = np.array([i[group] - f[group]
                         for i, f in zip(figures["int8"], figures["float32"], strict=True)])
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
        verdict = (f" -> bar (mean >= -{F1_BAR}): {'holds' if diff.mean() >= -F1_BAR else 'FAILS'}"
                   if group == "all" else " (not a bar)")
        print(f"  paired int8 - float32, {group:3}: mean {diff.mean():+.4f}  min "
              f"{diff.min():+.4f}  max {diff.max():+.4f}  s.e. {se:.4f}  ({len(diff)} seeds)"
              + verdict, flush=True)
    float32 = Calibrator.load(shipped)
    decisions = {name: float32.predict_proba(e) >= float32.threshold
                 for name, e in evidence.items()}
    flips = int((decisions["float32"] != decisions["int8"]).sum())
    print(f"  the shipped float32 calibrator on int8 features: {flips} of "
          f"{decisions['int8'].size} item-field decisions differ from float32 features "
          f"({decisions['int8'].sum()} vs {decisions['float32'].sum()} positives)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="multilingual-e5-small")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--assign-only", action="store_true", help="skip the cosines")
    parser.add_argument("--cosine-only", action="store_true", help="skip the assignment")
    parser.add_argument("--no-crossed", action="store_true",
                        help="skip the float32-calibrators-on-int8 figures (not a bar)")
    args = parser.parse_args()
    from scanner.assign.features import field_prototypes
    from scanner.config import Config
    from scanner.embed import load_embedder
    from scanner.taxonomy import load_taxonomy

    texts, langs = quality_texts(args.n)
    queries = [t for _, t in field_prototypes(load_taxonomy(Config().taxonomy_file))]
    print(f"{len(texts)} texts ({(langs == 'en').sum()} en, {(langs == 'zh').sum()} zh), "
          f"{len(queries)} field prototypes as queries")
    for model_id in args.models.split(","):
        embedders = {"float32": load_embedder(model_id, args.threads or None, backend="openvino"),
                     "int8": load_embedder(model_id, args.threads or None,
                                           backend="openvino-int8")}
        seeds = [int(s) for s in args.seeds.split(",")]
        if args.assign_only:
            assignment(model_id, embedders, seeds, not args.no_crossed)
            continue
        vectors, seconds = {}, {}
        for name, embedder in embedders.items():
            started = time.perf_counter()
            vectors[name] = embedder.embed(texts)
            seconds[name] = time.perf_counter() - started
        cos = cosine_rows(vectors["int8"], vectors["float32"])
        print(f"{model_id}: int8 vs float32 cosine (passages; {seconds['float32']:.0f} s "
              f"float32, {seconds['int8']:.0f} s int8, one pass each, not a speed bench)")
        for lang in ("en", "zh"):
            held = "holds" if cos[langs == lang].mean() >= COSINE_BAR else "FAILS"
            print(f"  {lang}  {summary(cos[langs == lang])} -> bar (mean >= {COSINE_BAR}): "
                  f"{held}")
        print(f"  all {summary(cos)}")
        q = cosine_rows(embedders["int8"].embed(queries, role="query"),
                        embedders["float32"].embed(queries, role="query"))
        print(f"  field prototypes (queries) {summary(q)}", flush=True)
        if not args.cosine_only:
            assignment(model_id, embedders, seeds, not args.no_crossed)


if __name__ == "__main__":
    main()
