"""Measured accuracy: field assignment against hand-labelled items.

Protocol (`evaluate_assignment`): K-fold cross-validation over the labelled items.
In each outer fold the calibrator is fitted on the other folds, and its threshold is
chosen by an inner cross-validation on those same folds only (best macro-F1); the
held-out fold is then predicted once. Every figure reported is out-of-fold: no item
is scored by a model that saw its label, and no threshold is picked by looking at
the figures it is judged by.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from scanner.assign import Calibrator, Evidence, Scorer
from scanner.assign.calibrator import CALIBRATOR_C
from scanner.embed import item_text, key_of
from scanner.errors import ConfigError

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.10, 0.91, 0.05))


@dataclass
class LabelledItems:
    """Hand-labelled items: texts, languages and a [items x fields] 0/1 matrix."""

    titles: list[str]
    bodies: list[str]
    texts: list[str]
    languages: np.ndarray
    labels: np.ndarray
    field_ids: list[str]
    source: str
    digest: str
    splits: np.ndarray = field(default_factory=lambda: np.array([], dtype=str))  # per item

    def subset(self, index: np.ndarray) -> LabelledItems:
        """Some items only (an index array or a boolean mask)."""
        rows = np.arange(len(self.titles))[index]
        return LabelledItems(
            [self.titles[i] for i in rows], [self.bodies[i] for i in rows],
            [self.texts[i] for i in rows], self.languages[rows], self.labels[rows],
            self.field_ids, self.source, self.digest, self.splits[rows])


def load_labels(path: Path, field_ids: list[str]) -> LabelledItems:
    """Read a labels JSONL file (see ../shared/data/labels/README.md)."""
    try:
        raw = path.read_bytes()
        rows = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"labels file {path} cannot be read: {exc}") from exc
    unknown = sorted({f for r in rows for f in r.get("fields", []) if f not in field_ids})
    if unknown:
        raise ConfigError(f"labels file {path} uses fields not in the taxonomy: {unknown}")
    kinds = ["news" if str(r.get("corpus", "")).startswith("news") else "paper" for r in rows]
    return LabelledItems(
        titles=[r["title"] for r in rows], bodies=[r["text"] for r in rows],
        texts=[item_text({"kind": k, "title": r["title"], "summary": r["text"]})
               for k, r in zip(kinds, rows, strict=True)],
        languages=np.array([r["lang"] for r in rows]),
        labels=np.array([[f in r["fields"] for f in field_ids] for r in rows], dtype=int),
        field_ids=field_ids, source=_display_path(path),
        digest=hashlib.sha256(raw).hexdigest()[:16], splits=np.array(["dev"] * len(rows)),
    )


def _display_path(path: Path) -> str:
    """The path relative to the repository when it can be, for reports."""
    import os

    from scanner import PROJECT_ROOT

    try:
        return os.path.relpath(path.resolve(), PROJECT_ROOT)
    except ValueError:
        return str(path)


def _macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Mean F1 over the fields with at least one positive among these items.

    A field with no positive in a group (no Chinese item is about fourth-generation
    semiconductors) has no defined F1 there; scikit-learn would count it as 0 and pull
    the group's macro down for a field it could not be judged on. Its false positives
    still count, in the micro figure and in the field's own row.
    """
    from sklearn.metrics import f1_score

    present = np.flatnonzero(labels.sum(axis=0) > 0)
    if not len(present):
        return 0.0
    return float(f1_score(labels[:, present], predicted[:, present], average="macro",
                          zero_division=0))


def _folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def choose_threshold(evidence: Evidence, labels: np.ndarray, field_ids: list[str],
                     C: float, folds: int, seed: int) -> float:
    """The threshold with the best out-of-fold macro-F1 within these items only."""
    probabilities = np.zeros(labels.shape)
    for test in _folds(len(labels), folds, seed):
        train = np.setdiff1d(np.arange(len(labels)), test)
        calibrator = Calibrator(C=C).fit(evidence.subset(train), labels[train], field_ids)
        probabilities[test] = calibrator.predict_proba(evidence.subset(test))
    scores = [(_macro_f1(labels, (probabilities >= t).astype(int)), -t) for t in THRESHOLDS]
    return -max(scores)[1]


@dataclass
class AssignmentReport:
    """Figures of field assignment: out-of-fold (cross-validation) or on a frozen split."""

    micro_f1: dict[str, float]
    macro_f1: dict[str, float]
    per_field: list[dict[str, Any]]
    thresholds: list[float]
    final_threshold: float
    items: dict[str, int]
    details: dict[str, Any] = field(default_factory=dict)

    def to_markdown(self, heading: str = "## Field assignment") -> str:
        """The report as Markdown (for docs/evaluation-assign.md)."""
        d = self.details
        if d.get("frozen"):
            how = (f"the frozen test split `{d['labels']}` (sha256 {d['labels_digest']}), "
                   f"taxonomy {d['taxonomy']}, model {d['model']}, scored once by the "
                   f"calibrator trained on {d['trained_on']} (threshold "
                   f"{self.final_threshold:.2f}).")
        else:
            how = (f"`{d['labels']}` (sha256 {d['labels_digest']}), taxonomy {d['taxonomy']}, "
                   f"model {d['model']}, {d['folds']}-fold cross-validation (seed {d['seed']}), "
                   "thresholds chosen by an inner cross-validation inside each training "
                   "split. All figures are out-of-fold.")
        lines = [heading, "", f"Measured {d['date']} with `scanner evaluate assign` on {how}",
                 "", "| items | micro-F1 | macro-F1 | \"no field\" items given a field |",
                 "| --- | ---: | ---: | ---: |"]
        for group in ("all", "en", "zh"):
            none = d["nofield_with_field"][group]
            share = none["given_a_field"] / none["items"] if none["items"] else 0.0
            lines.append(f"| {group} ({self.items[group]}) | {self.micro_f1[group]:.3f} | "
                         f"{self.macro_f1[group]:.3f} | {none['given_a_field']} of "
                         f"{none['items']} ({share:.1%}) |")
        lines += ["", "A group's macro-F1 averages the fields with at least one positive in "
                  "that group.", ""]
        if not d.get("frozen"):
            lines += [f"Thresholds chosen per outer fold: "
                      f"{', '.join(f'{t:.2f}' for t in self.thresholds)}; the shipped "
                      f"calibrator uses {self.final_threshold:.2f} (inner CV on all items).", ""]
        lines += ["| field | support (en/zh) | precision | recall | F1 | F1 en | F1 zh | tp | fp "
                  "| fn |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for row in self.per_field:
            lines.append(
                f"| {row['field']} | {row['support']} ({row['support_en']}/{row['support_zh']})"
                f" | {row['precision']:.2f} | {row['recall']:.2f} | {_fmt(row['f1'], row)} | "
                f"{_fmt(row['f1_en'])} | {_fmt(row['f1_zh'])} | {row['tp']} | {row['fp']} | "
                f"{row['fn']} |")
        if "crosslingual" in d:
            lines += ["", "Cross-lingual matching (field descriptions only, no keywords): "
                      "top-1 accuracy and MRR of the first labelled field.", "",
                      "| direction | items | top-1 | MRR |", "| --- | ---: | ---: | ---: |"]
            for direction, row in d["crosslingual"].items():
                lines.append(f"| {direction} | {row['items']} | {row['top1']:.3f} | "
                             f"{row['mrr']:.3f} |")
        return "\n".join(lines) + "\n"


def _fmt(value: float | None, row: dict[str, Any] | None = None) -> str:
    if row is not None and not row["support"]:
        return "-"  # no positive: F1 undefined (its false positives are in fp)
    return "-" if value is None else f"{value:.2f}"


def figures(labelled: LabelledItems, predicted: np.ndarray) -> dict[str, Any]:
    """Micro/macro F1 per group (all, en, zh), the per-field rows and how many "no field"
    items were given a field, for predictions of labelled items."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    labels = labelled.labels
    groups = {"all": np.ones(len(labels), bool), "en": labelled.languages == "en",
              "zh": labelled.languages == "zh"}
    per_field = []
    for j, fid in enumerate(labelled.field_ids):
        p, r, f, _ = precision_recall_fscore_support(labels[:, j], predicted[:, j],
                                                     average="binary", zero_division=0)
        row: dict[str, Any] = {
            "field": fid, "precision": float(p), "recall": float(r), "f1": float(f),
            "support": int(labels[:, j].sum()),
            "tp": int(((predicted[:, j] == 1) & (labels[:, j] == 1)).sum()),
            "fp": int(((predicted[:, j] == 1) & (labels[:, j] == 0)).sum()),
            "fn": int(((predicted[:, j] == 0) & (labels[:, j] == 1)).sum()),
        }
        for g in ("en", "zh"):
            m = groups[g]
            row[f"support_{g}"] = int(labels[m, j].sum())
            row[f"f1_{g}"] = (float(f1_score(labels[m, j], predicted[m, j], zero_division=0))
                              if labels[m, j].sum() else None)
        per_field.append(row)
    none = labels.sum(axis=1) == 0
    return {
        "micro": {g: float(f1_score(labels[m], predicted[m], average="micro", zero_division=0))
                  for g, m in groups.items()},
        "macro": {g: _macro_f1(labels[m], predicted[m]) for g, m in groups.items()},
        "per_field": per_field, "items": {g: int(m.sum()) for g, m in groups.items()},
        "nofield": {g: {"items": int((none & m).sum()),
                        "given_a_field": int((none & m & predicted.any(axis=1)).sum())}
                    for g, m in groups.items()},
    }


def _details(scorer: Scorer, labelled: LabelledItems, **extra: Any) -> dict[str, Any]:
    return {"date": datetime.now(UTC).date().isoformat(), "labels": labelled.source,
            "labels_digest": labelled.digest, "taxonomy": scorer.taxonomy.version,
            "model": key_of(scorer.embedder), **extra}


def out_of_fold_predictions(fit: Any, apply: Any, labels: np.ndarray, field_ids: list[str],
                            folds: int = 5, seed: int = 0, C: float = CALIBRATOR_C
                            ) -> tuple[np.ndarray, list[float]]:
    """Nested cross-validation: each fold's threshold (by an inner cross-validation) and
    calibrator fitted on the other folds of `fit` evidence, applied to the fold's `apply`
    evidence (the same evidence, or another backend's for the same items). Returns the
    out-of-fold 0/1 predictions and each fold's threshold."""
    predicted = np.zeros_like(labels)
    thresholds = []
    for fold, test in enumerate(_folds(len(labels), folds, seed)):
        train = np.setdiff1d(np.arange(len(labels)), test)
        threshold = choose_threshold(fit.subset(train), labels[train], field_ids, C,
                                     folds - 1, seed + fold + 1)
        calibrator = Calibrator(C=C, threshold=threshold).fit(
            fit.subset(train), labels[train], field_ids)
        predicted[test] = calibrator.predict_proba(apply.subset(test)) >= threshold
        thresholds.append(threshold)
    return predicted, thresholds


def evaluate_assignment(scorer: Scorer, labelled: LabelledItems, vectors: np.ndarray,
                        folds: int = 5, seed: int = 0, C: float = CALIBRATOR_C
                        ) -> tuple[AssignmentReport, Calibrator]:
    """Nested cross-validated figures, and a calibrator fitted on all labelled items."""
    evidence = scorer.evidence(labelled.titles, labelled.bodies, vectors)
    labels = labelled.labels
    field_ids = labelled.field_ids
    predicted, thresholds = out_of_fold_predictions(evidence, evidence, labels, field_ids,
                                                    folds, seed, C)
    got = figures(labelled, predicted)
    final_threshold = choose_threshold(evidence, labels, field_ids, C, folds, seed)
    final = Calibrator(C=C, threshold=final_threshold).fit(evidence, labels, field_ids)
    final.taxonomy_version_ = scorer.taxonomy.version
    final.model_ = key_of(scorer.embedder)
    report = AssignmentReport(
        micro_f1=got["micro"], macro_f1=got["macro"], per_field=got["per_field"],
        thresholds=thresholds, final_threshold=final_threshold, items=got["items"],
        details=_details(scorer, labelled, folds=folds, seed=seed,
                         nofield_with_field=got["nofield"], predicted=predicted))
    return report, final


def evaluate_frozen(scorer: Scorer, calibrator: Calibrator, held_out: LabelledItems,
                    vectors: np.ndarray, trained_on: str) -> AssignmentReport:
    """Figures of a trained calibrator on items it never saw (the frozen test split)."""
    evidence = scorer.evidence(held_out.titles, held_out.bodies, vectors)
    predicted = (calibrator.predict_proba(evidence) >= calibrator.threshold).astype(int)
    got = figures(held_out, predicted)
    return AssignmentReport(
        micro_f1=got["micro"], macro_f1=got["macro"], per_field=got["per_field"],
        thresholds=[calibrator.threshold], final_threshold=calibrator.threshold,
        items=got["items"],
        details=_details(scorer, held_out, frozen=True, trained_on=trained_on,
                         nofield_with_field=got["nofield"]))


def crosslingual_matching(embedder: Any, taxonomy: Any, labelled: LabelledItems,
                          vectors: np.ndarray) -> dict[str, dict[str, float]]:
    """How well items find their fields through descriptions in the other language.

    Chinese items are ranked against English-only field descriptions and English items
    against Chinese-only ones (and each against its own language, for reference).
    Reported: top-1 accuracy (the best field is a labelled one) and mean reciprocal rank
    of the first labelled field, over items with at least one field.
    """
    fields = taxonomy.active_fields
    descriptions = {
        "en": embedder.embed([f"{f.en}: {f.description_en}" for f in fields], role="query"),
        "zh": embedder.embed([f"{f.zh}：{f.description_zh}" for f in fields], role="query"),
    }
    out: dict[str, dict[str, float]] = {}
    for item_lang in ("zh", "en"):
        rows = np.where((labelled.languages == item_lang) & (labelled.labels.sum(axis=1) > 0))[0]
        for proto_lang, protos in descriptions.items():
            ranks = np.argsort(-(vectors[rows] @ protos.T), axis=1)
            hits, reciprocal = [], []
            for r, order in zip(rows, ranks, strict=True):
                relevant = labelled.labels[r, order] == 1
                hits.append(bool(relevant[0]))
                reciprocal.append(1.0 / (int(np.argmax(relevant)) + 1))
            out[f"{item_lang} items -> {proto_lang} descriptions"] = {
                "items": len(rows), "top1": float(np.mean(hits)),
                "mrr": float(np.mean(reciprocal))}
    return out
