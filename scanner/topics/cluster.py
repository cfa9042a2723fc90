"""Clustering (pure): PCA then k-means warm-started from the previous centroids, robust
membership floors, and the geometry figures of a clustering."""

from __future__ import annotations

from typing import Any

import numpy as np

from scanner.config import TopicSettings

#: Smallest spread assumed for a topic's member similarities (guards tiny topics).
MIN_MAD = 0.005



def auto_clusters(n_items: int, settings: TopicSettings) -> int:
    """Number of k-means clusters for a window: the configured one, or sqrt(n / 2)."""
    if settings.n_clusters:
        return min(settings.n_clusters, n_items)
    return int(min(settings.max_clusters, max(2, round((n_items / 2) ** 0.5))))



def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)



def robust_floor(similarities: np.ndarray, mads: float) -> float:
    """Lowest similarity that still belongs: median minus `mads` robust deviations."""
    median = float(np.median(similarities))
    mad = float(np.median(np.abs(similarities - median))) * 1.4826
    return median - mads * max(mad, MIN_MAD)



def _extra_centres(reduced: np.ndarray, centres: np.ndarray, n_extra: int,
                   rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding of `n_extra` more centres, conditioned on the ones given."""
    picked = []
    if len(centres):
        nearest = ((reduced[:, None, :] - centres[None, :, :]) ** 2).sum(-1).min(axis=1) \
            if len(reduced) * len(centres) < 5_000_000 else \
            np.min([((reduced - c) ** 2).sum(1) for c in centres], axis=0)
    else:
        nearest = np.full(len(reduced), np.inf)
    for _ in range(n_extra):
        if np.isinf(nearest).all() or nearest.sum() == 0:
            choice = int(rng.integers(len(reduced)))
        else:
            choice = int(rng.choice(len(reduced), p=nearest / nearest.sum()))
        picked.append(reduced[choice])
        nearest = np.minimum(nearest, ((reduced - reduced[choice]) ** 2).sum(1))
    return np.array(picked).reshape(n_extra, reduced.shape[1])



class Clusterer:
    """PCA then k-means (warm-startable) or HDBSCAN, after scikit-learn's conventions:
    `__init__` stores parameters, `fit` sets the learned state (ending in `_`) and
    returns self; before `fit` there is no learned state at all.

    `labels_` is -1 for items that fit no cluster; `centroids_` are normalised means in
    the original space; `floors_` each cluster's robust similarity floor.
    """

    labels_: np.ndarray
    centroids_: np.ndarray
    floors_: np.ndarray
    similarities_: np.ndarray

    def __init__(self, n_components: int = 50, method: str = "kmeans", n_clusters: int = 50,
                 min_cluster_size: int = 8, outlier_mads: float = 3.0, seed: int = 0) -> None:
        self.n_components = n_components
        self.method = method
        self.n_clusters = n_clusters
        self.min_cluster_size = min_cluster_size
        self.outlier_mads = outlier_mads
        self.seed = seed

    def __repr__(self) -> str:
        return (f"Clusterer(n_components={self.n_components}, method={self.method!r}, "
                f"n_clusters={self.n_clusters}, min_cluster_size={self.min_cluster_size}, "
                f"outlier_mads={self.outlier_mads}, seed={self.seed})")

    @classmethod
    def for_window(cls, settings: TopicSettings, n_items: int, seed: int | None = None
                   ) -> Clusterer:
        """The configured k-means clusterer for a window of `n_items` items."""
        return cls(n_components=settings.n_components, method="kmeans",
                   n_clusters=auto_clusters(n_items, settings),
                   min_cluster_size=settings.min_topic_size,
                   outlier_mads=settings.outlier_mads,
                   seed=settings.seed if seed is None else seed)

    def fit(self, embeddings: np.ndarray, init_centroids: np.ndarray | None = None
            ) -> Clusterer:
        """Cluster normalised embeddings, starting from `init_centroids` when given."""
        from sklearn.cluster import HDBSCAN, KMeans
        from sklearn.decomposition import PCA

        n = len(embeddings)
        components = min(self.n_components, embeddings.shape[1], max(1, n - 1))
        pca = PCA(n_components=components, random_state=self.seed)
        reduced = pca.fit_transform(embeddings)
        if self.method == "kmeans":
            k = max(1, min(self.n_clusters, n))
            init: Any = "k-means++"
            if init_centroids is not None and len(init_centroids):
                start = pca.transform(np.asarray(init_centroids, dtype=np.float64))[:k]
                rng = np.random.default_rng(self.seed)
                init = np.vstack([start, _extra_centres(reduced, start, k - len(start), rng)])
            model = KMeans(n_clusters=k, init=init, n_init=1, random_state=self.seed)
            labels = model.fit_predict(reduced)
        elif self.method == "hdbscan":
            # one dense group is a valid answer for a pool of held items
            labels = HDBSCAN(min_cluster_size=self.min_cluster_size, allow_single_cluster=True,
                             copy=True).fit_predict(reduced)
        else:
            raise ValueError(f"unknown clustering method {self.method!r}")
        self._finish(embeddings, np.asarray(labels))
        return self

    def _finish(self, embeddings: np.ndarray, labels: np.ndarray) -> None:
        """Drop outliers and small clusters, number clusters 0..m-1, compute centroids."""
        labels = labels.copy()
        for _ in range(2):  # outliers can shrink a cluster below the minimum size
            sizes = np.bincount(labels[labels >= 0], minlength=1)
            labels[(labels >= 0) & (sizes[labels] < self.min_cluster_size)] = -1
            if not (labels >= 0).any():
                break
            _, floors, sims = describe_geometry(embeddings, labels, int(labels.max()) + 1,
                                                self.outlier_mads)
            labels[(labels >= 0) & (sims < floors[labels])] = -1
        kept = sorted(set(labels.tolist()) - {-1})
        remap = {c: i for i, c in enumerate(kept)}
        self.labels_ = np.array([remap.get(c, -1) for c in labels.tolist()], dtype=np.int64)
        self.centroids_, self.floors_, self.similarities_ = describe_geometry(
            embeddings, self.labels_, len(kept), self.outlier_mads)



def describe_geometry(embeddings: np.ndarray, labels: np.ndarray, n_clusters: int,
                      mads: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(normalised centroids, robust floors, each item's similarity to its centroid)."""
    dim = embeddings.shape[1] if embeddings.ndim == 2 else 0
    centroids = np.zeros((n_clusters, dim), dtype=np.float32)
    floors = np.zeros(n_clusters, dtype=np.float32)
    sims = np.zeros(len(labels), dtype=np.float32)
    for c in range(n_clusters):
        rows = np.flatnonzero(labels == c)
        if not len(rows):
            continue
        centroids[c] = _normalise(embeddings[rows].mean(axis=0, keepdims=True))[0]
        sims[rows] = embeddings[rows] @ centroids[c]
        floors[c] = robust_floor(sims[rows], mads)
    return centroids, floors, sims
