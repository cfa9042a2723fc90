"""Topics with identities that survive from night to night (groundwork for issue #5).

Built so far: clustering of item embeddings (PCA, then k-means with a fixed seed or
HDBSCAN) and the matching of one run's clusters to the previous run's topics, which
keeps a topic's id where they match and records lineage events. Not built yet:
storage, keywords, field affinity, time series, the nightly stage, the benchmark.

Matching: every (previous topic, new cluster) pair is scored by centroid cosine and
member overlap (Jaccard); a one-to-one assignment (Hungarian) keeps ids for pairs
above a floor. Unmatched clusters are born, unmatched topics die, and strong partial
overlaps record merges (many old -> one new) and splits (one old -> many new).
"""

from __future__ import annotations

from collections.abc import Sequence
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
class Clusterer:
    """PCA then k-means (or HDBSCAN); scikit-learn conventions, learned state ends in `_`."""

    n_components: int = 50
    method: str = "kmeans"
    n_clusters: int = 50
    min_cluster_size: int = 15
    seed: int = 0
    labels_: np.ndarray | None = None
    centroids_: np.ndarray | None = None

    def fit(self, embeddings: np.ndarray) -> Clusterer:
        """Cluster normalised embeddings; -1 marks items that fit no cluster (HDBSCAN)."""
        from sklearn.cluster import HDBSCAN, MiniBatchKMeans
        from sklearn.decomposition import PCA

        components = min(self.n_components, embeddings.shape[1], max(1, len(embeddings) - 1))
        reduced = PCA(n_components=components, random_state=self.seed).fit_transform(embeddings)
        if self.method == "kmeans":
            k = min(self.n_clusters, len(embeddings))
            model = MiniBatchKMeans(n_clusters=k, random_state=self.seed, n_init=3,
                                    batch_size=2048)
            self.labels_ = model.fit_predict(reduced)
        elif self.method == "hdbscan":
            self.labels_ = HDBSCAN(min_cluster_size=self.min_cluster_size).fit_predict(reduced)
        else:
            raise ValueError(f"unknown clustering method {self.method!r}")
        ids = sorted(set(self.labels_.tolist()) - {-1})
        centroids = np.stack([embeddings[self.labels_ == c].mean(axis=0) for c in ids]) \
            if ids else np.zeros((0, embeddings.shape[1]))
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self.centroids_ = centroids / np.where(norms == 0, 1, norms)
        return self


@dataclass
class Topic:
    """A topic as the matcher sees it: id, centroid, member item ids."""

    id: str
    centroid: np.ndarray
    members: frozenset[str]


@dataclass
class LineageEvent:
    """One step of a topic's history."""

    kind: str  # born | continued | grew | shrank | merged_into | split_from | died
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


def match_topics(previous: Sequence[Topic], centroids: np.ndarray,
                 members: Sequence[frozenset[str]], new_id: object) -> MatchResult:
    """Give each new cluster the id of the previous topic it continues, or a new id.

    Args:
        previous: the live topics of the last run.
        centroids: normalised centroids of this run's clusters.
        members: item ids of each of this run's clusters.
        new_id: a callable returning a fresh topic id.
    """
    from scipy.optimize import linear_sum_assignment

    n_old, n_new = len(previous), len(members)
    score = np.zeros((n_old, n_new))
    overlap = np.zeros((n_old, n_new))
    for i, topic in enumerate(previous):
        for j in range(n_new):
            overlap[i, j] = _jaccard(topic.members, members[j])
            cosine = float(topic.centroid @ centroids[j]) if n_new else 0.0
            score[i, j] = CENTROID_WEIGHT * max(cosine, 0.0) + \
                (1 - CENTROID_WEIGHT) * overlap[i, j]
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
            old_size, new_size = len(previous[i].members), len(members[j])
            change = (new_size - old_size) / max(old_size, 1)
            kind = "grew" if change > SIZE_CHANGE else "shrank" if change < -SIZE_CHANGE \
                else "continued"
            events.append(LineageEvent(kind, previous[i].id, detail=f"{old_size}->{new_size}"))
    for j in range(n_new):
        if ids[j] is None:
            ids[j] = str(new_id() if callable(new_id) else new_id)
            events.append(LineageEvent("born", ids[j], detail=f"{len(members[j])} items"))
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
