"""Does a term name what its items are about? A check on the embedding (pure).

Counts alone cannot tell "practical path" or "largest gain" (phrasing that rises with a
style of writing) from "agentic RL" or "vehicle routing" (subjects): both are new, both
grow. The embedding can: a subject's items are about it, so the term's own vector (the
model's query embedding of the term) is closer to the items that carry it than to the
window's other items; a phrase's carriers are spread over whatever their papers are
about, no closer to it than any item. The figure is that probability, the AUC of "a
carrier is closer to the term than another item of the window" (0.5: no closer than
chance), with the 90% lower bound of Hanley and McNeil's (1982) standard error; a term
whose lower bound does not clear `min_specificity` (0.5, chance) is left out as phrasing.
The rule has no fitted figure: chance is the null and 90% the confidence used
throughout. The burden is on the term: few carriers give a wide bound, so a real subject
with few carriers can fail to show it (a review's simulation: true AUC 0.76 left out 13%
of the time with 8 carriers, 45% with 3); under MIN_CARRIERS it is not judged and kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Window items the carriers are compared with (a seeded sample; the AUC's error from
#: the sample is small beside the carriers' at this size).
SAMPLE = 2000
#: Fewer carriers with vectors than this: not judged (kept).
MIN_CARRIERS = 3


@dataclass(frozen=True)
class Specificity:
    """How much closer a term's carriers are to it than the window's other items."""

    auc: float  # P(a carrier is closer to the term than another item); 0.5: chance
    low: float  # its lower bound at the confidence asked
    carriers: int  # carriers with a vector


def auc_interval(carrier: np.ndarray, others: np.ndarray, z: float) -> tuple[float, float]:
    """(AUC, lower bound) of carrier scores over other scores, ties counted half, with
    Hanley and McNeil's standard error."""
    n1, n2 = len(carrier), len(others)
    if not n1 or not n2:
        return 0.5, 0.0
    ranked = np.sort(others)
    below = np.searchsorted(ranked, carrier, side="left")
    ties = np.searchsorted(ranked, carrier, side="right") - below
    auc = float((below + 0.5 * ties).sum() / (n1 * n2))
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n2 - 1) * (q2 - auc * auc)) \
        / (n1 * n2)
    return auc, auc - z * math.sqrt(max(var, 0.0))


def specificities(term_vectors: np.ndarray, carrier_vectors: Sequence[np.ndarray],
                  window_vectors: Sequence[np.ndarray], z: float
                  ) -> list[Specificity | None]:
    """Per term, its Specificity (None: under MIN_CARRIERS carriers with a vector).

    `term_vectors` [terms x d]; `carrier_vectors[i]` the vectors of term i's carriers;
    `window_vectors[i]` the window's other items for term i (its carriers left out).
    Vectors need not be normalised."""
    out: list[Specificity | None] = []
    for vector, carriers, others in zip(term_vectors, carrier_vectors, window_vectors,
                                        strict=True):
        if len(carriers) < MIN_CARRIERS or not len(others):
            out.append(None)
            continue
        unit = vector / max(float(np.linalg.norm(vector)), 1e-12)
        auc, low = auc_interval(_cosines(carriers, unit), _cosines(others, unit), z)
        out.append(Specificity(round(auc, 4), round(low, 4), len(carriers)))
    return out


def _cosines(matrix: np.ndarray, unit: np.ndarray) -> np.ndarray:
    norms = np.maximum(np.linalg.norm(matrix, axis=1), 1e-12)
    return (matrix @ unit) / norms
