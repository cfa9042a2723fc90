"""The calibrator: a logistic model over assignment features with a chosen threshold, plus
the field probes learned from the same labels; saved per taxonomy version and model under
models/assign/. An item without the minimum content (scanner.assign.content) scores 0."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scanner.assign.features import FEATURES, Evidence, build_features, field_statistics
from scanner.assign.learned import PROBE_ALPHA, FieldProbes, out_of_fold

#: Folds of the cross-fitting that gives the calibrator's training items their learned
#: features (each from probes that never saw the item).
PROBE_FOLDS = 5

#: Inverse regularisation of the calibrator: 0.3 against 1.0 in nested CV on dev + train,
#: seeds 0-2: macro-F1 0.792 against 0.788, "no field" items given a field 65-67 against
#: 67-82 of 411.
CALIBRATOR_C = 0.3


class Calibrator:
    """One logistic regression over all (item, field) pairs, after scikit-learn's
    conventions: `__init__` stores parameters, `fit` (or `from_dict`) sets the learned
    state, which ends in `_`; an unfitted calibrator has none."""

    coef_: np.ndarray
    intercept_: float
    field_mean_: np.ndarray
    field_std_: np.ndarray
    field_ids_: list[str]
    probes_: FieldProbes
    taxonomy_version_: str
    model_: str

    def __init__(self, C: float = CALIBRATOR_C, threshold: float = 0.35, seed: int = 0,
                 probe_alpha: float = PROBE_ALPHA) -> None:
        self.C = C
        self.threshold = threshold
        self.seed = seed
        self.probe_alpha = probe_alpha

    def __repr__(self) -> str:
        return f"Calibrator(C={self.C}, threshold={self.threshold}, seed={self.seed})"

    def fit(self, evidence: Evidence, labels: np.ndarray, field_ids: Sequence[str]) -> Calibrator:
        """Learn feature weights from labelled items (labels: [items x fields] of 0/1): the
        learned features of each item come from probes fitted on the other items, then the
        probes kept for prediction are fitted on all of them."""
        from sklearn.linear_model import LogisticRegression

        self.field_ids_ = list(field_ids)
        self.taxonomy_version_ = getattr(self, "taxonomy_version_", "")
        self.model_ = getattr(self, "model_", "")
        self.field_mean_, self.field_std_ = field_statistics(evidence)
        learned = out_of_fold(evidence.vectors, labels, PROBE_FOLDS, self.seed,
                              self.probe_alpha)
        x = build_features(evidence, field_ids, self.field_mean_, self.field_std_, learned)
        model = LogisticRegression(C=self.C, max_iter=3000)
        model.fit(x.reshape(-1, x.shape[2]), labels.reshape(-1))
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        self.probes_ = FieldProbes(self.probe_alpha).fit(evidence.vectors, labels)
        return self

    def predict_proba(self, evidence: Evidence) -> np.ndarray:
        """[items x fields] probabilities (0 for an item without the minimum content)."""
        if not hasattr(self, "coef_"):
            raise ValueError("the calibrator is not fitted")
        x = build_features(evidence, self.field_ids_, self.field_mean_, self.field_std_,
                           self.probes_.scores(evidence.vectors))
        logits = x @ self.coef_ + self.intercept_
        out = 1.0 / (1.0 + np.exp(-logits))
        if evidence.has_content is not None:
            out[~evidence.has_content] = 0.0
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able parameters (the trained artifact's content)."""
        return {
            "features": list(FEATURES), "C": self.C, "threshold": self.threshold,
            "coef": [round(float(c), 6) for c in self.coef_],
            "intercept": round(self.intercept_, 6),
            "field_ids": self.field_ids_,
            # float64 before rounding: the same numbers once written and read back
            "field_mean": np.round(np.asarray(self.field_mean_, np.float64), 6).tolist(),
            "field_std": np.round(np.asarray(self.field_std_, np.float64), 6).tolist(),
            "taxonomy_version": self.taxonomy_version_, "model": self.model_,
            "probes": self.probes_.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Rebuild from to_dict output."""
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError("calibrator features differ from this version's; retrain it")
        if not data.get("probes"):
            raise ValueError("calibrator has no field probes; retrain it")
        calibrator = cls(C=data["C"], threshold=data["threshold"])
        calibrator.coef_ = np.array(data["coef"])
        calibrator.intercept_ = float(data["intercept"])
        calibrator.field_mean_ = np.array(data["field_mean"])
        calibrator.field_std_ = np.array(data["field_std"])
        calibrator.field_ids_ = list(data["field_ids"])
        calibrator.taxonomy_version_ = data["taxonomy_version"]
        calibrator.model_ = data["model"]
        calibrator.probes_ = FieldProbes.from_dict(data["probes"])
        return calibrator

    def digest(self) -> str:
        """A short digest of the learned parameters: assignments made by another calibrator
        (a retrained or replaced one) are stale and assigned again."""
        import hashlib

        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def save(self, path: Path) -> None:
        """Write the parameters as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        """Read parameters written by save()."""
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))



def calibrator_path(taxonomy_version: str, model_id: str) -> Path:
    """Where the trained calibrator of a taxonomy version and model lives."""
    from scanner import PROJECT_ROOT

    return PROJECT_ROOT / "models" / "assign" / f"calibrator-{taxonomy_version}-{model_id}.json"
