"""Features learned from labelled items: per-field linear probes on the embedding and each
field's positive centroid as an extra prototype.

They feed the calibrator as features. To train it, every item's learned features come
from probes and centroids fitted without that item (`out_of_fold`), so the calibrator
learns how far such scores can be trusted on unseen items, not on memorised ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Learned features per (item, field), in the order `FieldProbes.scores` returns them.
LEARNED = ("probe", "centroid_cos", "none_probe")

#: Ridge penalty of the probes (unit vectors, 384 dimensions). Nested CV on dev + train
#: (first-pass labels, seed 0), all features: 0.3 gave macro-F1 0.791 against 0.776 for
#: 1; without the passing and no-field features 0.1-10 gave 0.757-0.781, within noise.
PROBE_ALPHA = 0.3


class FieldProbes:
    """One ridge probe per field (targets +1/-1, closed form, all fields at once), one more
    for "no field at all" (general science, general AI, round-ups), and the unit mean
    vector of each field's positives. `__init__` stores the penalty; `fit` (or
    `from_dict`) sets the learned state."""

    coef_: np.ndarray  # [dim x fields + 1]; the last column: no field
    intercept_: np.ndarray  # [fields + 1]
    centroids_: np.ndarray  # [fields x dim]; zero rows for fields without one

    def __init__(self, alpha: float = PROBE_ALPHA) -> None:
        self.alpha = alpha

    def __repr__(self) -> str:
        return f"FieldProbes(alpha={self.alpha})"

    def fit(self, vectors: np.ndarray, labels: np.ndarray) -> FieldProbes:
        """Fit on [items x dim] vectors and [items x fields] 0/1 labels."""
        x = np.asarray(vectors, dtype=np.float64)
        labels = np.asarray(labels, dtype=np.float64)
        none = (labels.sum(axis=1, keepdims=True) == 0).astype(np.float64)
        y = 2.0 * np.hstack([labels, none]) - 1.0
        mean_x, mean_y = x.mean(axis=0), y.mean(axis=0)
        xc = x - mean_x
        gram = xc.T @ xc + self.alpha * np.eye(x.shape[1])
        self.coef_ = np.linalg.solve(gram, xc.T @ (y - mean_y))
        self.intercept_ = mean_y - mean_x @ self.coef_
        sums = labels.T @ x
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        self.centroids_ = np.where(norms > 0, sums / np.maximum(norms, 1e-12), 0.0)
        return self

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """[items x fields x LEARNED]: probe output, cosine to the positive centroid and the
        no-field probe's output (the same for every field of an item)."""
        if not hasattr(self, "coef_"):
            raise ValueError("the field probes are not fitted")
        x = np.asarray(vectors, dtype=np.float32)
        probe = x @ self.coef_.astype(np.float32) + self.intercept_.astype(np.float32)
        centroid = x @ self.centroids_.T.astype(np.float32)
        none = np.broadcast_to(probe[:, -1:], centroid.shape)
        return np.stack([probe[:, :-1], centroid, none], axis=2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able parameters (rounded to 6 decimals)."""
        if not hasattr(self, "coef_"):
            raise ValueError("the field probes are not fitted")
        def rounded(values: np.ndarray) -> list:  # float64 first: the same list once read back
            return np.round(np.asarray(values, dtype=np.float64), 6).tolist()

        return {"alpha": self.alpha, "coef": rounded(self.coef_.T),
                "intercept": rounded(self.intercept_), "centroids": rounded(self.centroids_)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldProbes:
        """Rebuild from to_dict output."""
        probes = cls(alpha=data["alpha"])
        probes.coef_ = np.array(data["coef"]).T
        probes.intercept_ = np.array(data["intercept"])
        probes.centroids_ = np.array(data["centroids"])
        return probes


def out_of_fold(vectors: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0,
                alpha: float = PROBE_ALPHA) -> np.ndarray:
    """[items x fields x LEARNED] learned features of every item, each from probes fitted on
    the other folds only (an item's own label never reaches its feature)."""
    n = len(labels)
    out = np.zeros((n, labels.shape[1], len(LEARNED)), dtype=np.float32)
    order = np.random.default_rng(seed).permutation(n)
    for k in range(min(folds, n)):
        test = order[k::folds]
        train = np.setdiff1d(np.arange(n), test)
        out[test] = FieldProbes(alpha).fit(vectors[train], labels[train]).scores(vectors[test])
    return out
