"""Topic identity and lineage (pure): one-to-one matching of new clusters to previous
topics (centroid cosine plus member overlap, Hungarian), lineage events, attaching new
items to topics and grouping held items."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Weight of centroid similarity against member overlap in the match score.
CENTROID_WEIGHT = 0.5



#: Lowest match score that keeps an id.
MATCH_FLOOR = 0.35



#: Share of an old topic's members found in a new cluster that counts as lineage.
LINEAGE_SHARE = 0.3



#: Relative size change that counts as grew / shrank rather than continued.
SIZE_CHANGE = 0.2



@dataclass
class Topic:
    """A topic as the matcher sees it: id, centroid, member item ids."""

    id: str
    centroid: np.ndarray
    members: frozenset[str]



@dataclass
class LineageEvent:
    """One step of a topic's history."""

    kind: str  # born continued grew shrank merged_into split_from dormant died
    topic_id: str
    other_id: str | None = None
    detail: str = ""



@dataclass
class MatchResult:
    """Ids for the new clusters and the lineage events of this run."""

    ids: list[str]
    events: list[LineageEvent] = field(default_factory=list)



def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0



def _size_event(topic_id: str, old_size: int, new_size: int) -> LineageEvent:
    change = (new_size - old_size) / max(old_size, 1)
    kind = "grew" if change > SIZE_CHANGE else "shrank" if change < -SIZE_CHANGE \
        else "continued"
    return LineageEvent(kind, topic_id, detail=f"{old_size}->{new_size}")



def match_topics(previous: Sequence[Topic], centroids: np.ndarray,
                 members: Sequence[frozenset[str]], new_id: Callable[[], str]) -> MatchResult:
    """Give each new cluster the id of the previous topic it continues, or a new id.

    Args:
        previous: the live topics of the last run (members within this run's window).
        centroids: normalised centroids of this run's clusters.
        members: item ids of each of this run's clusters.
        new_id: returns a fresh topic id.
    """
    from scipy.optimize import linear_sum_assignment

    n_old, n_new = len(previous), len(members)
    score = np.zeros((n_old, n_new))
    if n_old and n_new:
        cosine = np.stack([t.centroid for t in previous]) @ np.asarray(centroids).T
        for i, topic in enumerate(previous):
            for j in range(n_new):
                score[i, j] = CENTROID_WEIGHT * max(float(cosine[i, j]), 0.0) + \
                    (1 - CENTROID_WEIGHT) * _jaccard(topic.members, members[j])
    ids: list[str | None] = [None] * n_new
    events: list[LineageEvent] = []
    matched_old: set[int] = set()
    if n_old and n_new:
        rows, cols = linear_sum_assignment(-score)
        for i, j in zip(rows, cols, strict=True):
            if score[i, j] < MATCH_FLOOR:
                continue
            ids[j] = previous[i].id
            matched_old.add(i)
            events.append(_size_event(previous[i].id, len(previous[i].members),
                                      len(members[j])))
    for j in range(n_new):
        if ids[j] is None:
            ids[j] = new_id()
            events.append(LineageEvent("born", str(ids[j]), detail=f"{len(members[j])} items"))
    for i, topic in enumerate(previous):
        share = [len(topic.members & members[j]) / max(len(topic.members), 1)
                 for j in range(n_new)]
        heirs = [j for j in range(n_new) if share[j] >= LINEAGE_SHARE]
        if i not in matched_old:
            for j in heirs:
                events.append(LineageEvent("merged_into", topic.id, ids[j]))
            if not heirs:
                events.append(LineageEvent("died", topic.id))
        for j in heirs:
            if ids[j] != topic.id and i in matched_old:
                events.append(LineageEvent("split_from", str(ids[j]), topic.id))
    return MatchResult(ids=[str(i) for i in ids], events=events)



def attach(vectors: np.ndarray, centroids: np.ndarray, floors: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """(label, similarity) of each vector: its nearest topic if above that topic's floor,
    else -1."""
    if not len(centroids) or not len(vectors):
        return np.full(len(vectors), -1, dtype=np.int64), np.zeros(len(vectors), np.float32)
    sims = vectors @ centroids.T
    best = sims.argmax(axis=1)
    best_sim = sims[np.arange(len(vectors)), best]
    labels = np.where(best_sim >= floors[best], best, -1)
    return labels.astype(np.int64), best_sim.astype(np.float32)



def pool_groups(vectors: np.ndarray, min_size: int, pair_similarity: float
                ) -> list[np.ndarray]:
    """Groups of held items as tight as a typical topic: average-linkage clusters whose
    mean pairwise cosine is at least `pair_similarity`, of `min_size` items or more."""
    from sklearn.cluster import AgglomerativeClustering

    if len(vectors) < min_size:
        return []
    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average",
        distance_threshold=max(1e-6, 1.0 - pair_similarity)).fit_predict(vectors)
    return [np.flatnonzero(labels == c) for c in sorted(set(labels.tolist()))
            if (labels == c).sum() >= min_size]
