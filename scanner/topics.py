"""Topics with identities that survive from night to night.

A run works on the items of a window (`[topics] window_days` before the run date) and
either reclusters them all or only attaches the new ones:

- Full reclustering (every `recluster_days`, when there are no topics yet, or when the
  unassigned share passes `max_unassigned_share`): PCA, then k-means warm-started from
  the previous topics' centroids, so a topic whose members barely changed comes back as
  the same cluster. Items far below their cluster's typical similarity (a robust
  median/MAD floor) and clusters smaller than `min_topic_size` fit no topic. Clusters are
  matched one-to-one to the previous topics (centroid cosine plus member overlap,
  Hungarian assignment); matched clusters keep the id, and lineage events are recorded.
- Between reclusterings, a new item joins the nearest topic when it is above that
  topic's floor, or is held unassigned; once the held items are enough, the dense groups
  among them (HDBSCAN) are born as topics.

Each topic is described by c-TF-IDF keywords in English and Chinese
(scanner.keywords), its most representative items, its affinity to every field and
pathway (from the members' stored assignments), and items per period and kind.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from scanner.config import TopicSettings

#: Weight of centroid similarity against member overlap in the match score.
CENTROID_WEIGHT = 0.5
#: Lowest match score that keeps an id.
MATCH_FLOOR = 0.35
#: Share of an old topic's members found in a new cluster that counts as lineage.
LINEAGE_SHARE = 0.3
#: Relative size change that counts as grew / shrank rather than continued.
SIZE_CHANGE = 0.2
#: Most recent held items considered for new topics between reclusterings (memory bound:
#: average linkage holds a square distance matrix).
MAX_POOL = 4000
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


@dataclass
class Clusterer:
    """PCA then k-means (warm-startable) or HDBSCAN; learned state ends in `_`.

    `labels_` is -1 for items that fit no cluster; `centroids_` are normalised means in
    the original space; `floors_` each cluster's robust similarity floor.
    """

    n_components: int = 50
    method: str = "kmeans"
    n_clusters: int = 50
    min_cluster_size: int = 8
    outlier_mads: float = 3.0
    seed: int = 0
    labels_: np.ndarray | None = None
    centroids_: np.ndarray | None = None
    floors_: np.ndarray | None = None
    similarities_: np.ndarray | None = None

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


def period_of(published: str, period: str) -> str:
    """The series period of an ISO date: 'YYYY-MM' or ISO week 'YYYY-Www'."""
    if period == "week":
        year, week, _ = date.fromisoformat(published[:10]).isocalendar()
        return f"{year}-W{week:02d}"
    return published[:7]


# -- one run ----------------------------------------------------------------------------


@dataclass
class _State:
    """Working state of one scope's run: clusters 0..m-1 and their topic ids."""

    ids: list[str]
    labels: np.ndarray
    events: list[LineageEvent]
    mode: str


def scopes(settings: TopicSettings) -> list[tuple[str, tuple[str, ...]]]:
    """(scope name, kinds) to cluster: all kinds together, or each apart."""
    if settings.together:
        return [("all", tuple(settings.kinds))]
    return [(kind, (kind,)) for kind in settings.kinds]


def update_topics(store: Any, settings: TopicSettings, model: str, taxonomy_key: str,
                  run_date: str, run_id: str | None = None, full: bool = False,
                  vocabulary: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Run topic discovery for every scope; store and return one summary per scope.

    `vocabulary`: terms (the taxonomy's Chinese names and keywords) that keyword
    extraction keeps whole.
    """
    return [_update_scope(store, settings, scope, kinds, model, taxonomy_key, run_date,
                          run_id, full, tuple(vocabulary)) for scope, kinds in scopes(settings)]


def _update_scope(store: Any, settings: TopicSettings, scope: str, kinds: tuple[str, ...],
                  model: str, taxonomy_key: str, run_date: str, run_id: str | None,
                  full: bool, vocabulary: tuple[str, ...]) -> dict[str, Any]:
    started = time.monotonic()
    store.restore_state_before(run_date, model, scope)  # a rerun starts where the first did
    since = (date.fromisoformat(run_date) - timedelta(days=settings.window_days)).isoformat()
    window = store.window_items(since, run_date, kinds)
    embedded_ids, matrix = store.item_embeddings(model, [w["id"] for w in window])
    row_of = {item_id: n for n, item_id in enumerate(embedded_ids)}
    items = [w for w in window if w["id"] in row_of]
    vectors = matrix[[row_of[w["id"]] for w in items]] if items \
        else np.zeros((0, 1), dtype=np.float32)
    previous = store.current_topics(model, scope)
    memberships = store.topic_memberships(model, scope)
    grouped: defaultdict[str, list[str]] = defaultdict(list)
    for item_id, (topic_id, _) in memberships.items():
        if topic_id is not None:
            grouped[topic_id].append(item_id)
    for topic in previous:
        topic["member_ids"] = grouped.get(topic["id"], [])
    counter = itertools.count(store.next_topic_number())

    def new_id() -> str:
        return f"T{next(counter):06d}"

    last_full = store.last_full_topic_run(model, scope, run_date)
    due = full or not previous or last_full is None or \
        (date.fromisoformat(run_date) - date.fromisoformat(last_full)).days \
        >= settings.recluster_days
    state = None
    if not due:
        state = _incremental(settings, memberships, items, vectors, previous, new_id)
        if (state.labels == -1).mean() > settings.max_unassigned_share:
            state = None  # too much fits nothing: recluster instead
    if state is None:
        state = _full(settings, items, vectors, previous, new_id)
    return _finish_run(store, settings, scope, kinds, model, taxonomy_key, run_date, run_id,
                       window, items, vectors, previous, state, since, started, vocabulary)


def _full(settings: TopicSettings, items: list[dict[str, Any]], vectors: np.ndarray,
          previous: list[dict[str, Any]], new_id: Callable[[], str]) -> _State:
    """Recluster the whole window and match the clusters to the previous topics."""
    if len(items) < 2 * settings.min_topic_size:
        labels = np.full(len(items), -1, dtype=np.int64)
        events = [LineageEvent("died", t["id"], detail="window too small") for t in previous]
        return _State([], labels, events, "full")
    live = sorted(previous, key=lambda t: -t["size"])
    init = np.stack([t["centroid"] for t in live]) if live else None
    clusterer = Clusterer.for_window(settings, len(items)).fit(vectors, init)
    labels = clusterer.labels_
    assert labels is not None and clusterer.centroids_ is not None
    in_window = {w["id"] for w in items}
    members = [frozenset(items[r]["id"] for r in np.flatnonzero(labels == c))
               for c in range(len(clusterer.centroids_))]
    old = [Topic(t["id"], t["centroid"], frozenset(t["member_ids"]) & in_window)
           for t in previous]
    result = match_topics(old, clusterer.centroids_, members, new_id)
    return _State(result.ids, labels, result.events, "full")


def _incremental(settings: TopicSettings, memberships: dict[str, tuple[str | None, float]],
                 items: list[dict[str, Any]], vectors: np.ndarray,
                 previous: list[dict[str, Any]], new_id: Callable[[], str]) -> _State:
    """Keep memberships, attach new items, give birth to dense groups of held items."""
    index = {t["id"]: c for c, t in enumerate(previous)}
    labels = np.full(len(items), -1, dtype=np.int64)
    fresh = []
    for row, item in enumerate(items):
        known = memberships.get(item["id"])
        if known is None or (known[0] is not None and known[0] not in index):
            fresh.append(row)
        elif known[0] is not None:
            labels[row] = index[known[0]]
    if fresh:
        centroids = np.stack([t["centroid"] for t in previous])
        floors = np.array([t["floor"] for t in previous], dtype=np.float32)
        labels[fresh] = attach(vectors[fresh], centroids, floors)[0]
    ids = [t["id"] for t in previous]
    events: list[LineageEvent] = []
    held = np.flatnonzero(labels == -1)[-MAX_POOL:]
    if len(held) >= 2 * settings.min_topic_size:
        typical = [float(np.median(vectors[labels == c] @ t["centroid"]))
                   for c, t in enumerate(previous) if (labels == c).any()]
        pair_similarity = float(np.median(typical)) ** 2 if typical else 0.5
        for rows in pool_groups(vectors[held], settings.min_topic_size, pair_similarity):
            topic_id = new_id()
            labels[held[rows]] = len(ids)
            ids.append(topic_id)
            events.append(LineageEvent("born", topic_id,
                                       detail=f"{len(rows)} held items formed a topic"))
    for c, topic in enumerate(previous):
        size = int((labels == c).sum())
        events.append(_size_event(topic["id"], topic["size"], size) if size
                      else LineageEvent("died", topic["id"], detail="no members in window"))
    return _State(ids, labels, events, "incremental")


def _finish_run(store: Any, settings: TopicSettings, scope: str, kinds: tuple[str, ...],
                model: str, taxonomy_key: str, run_date: str, run_id: str | None,
                window: list[dict[str, Any]], items: list[dict[str, Any]],
                vectors: np.ndarray, previous: list[dict[str, Any]], state: _State,
                since: str, started: float, vocabulary: tuple[str, ...]) -> dict[str, Any]:
    """Describe the clusters, apply statuses, and store the run."""
    from scanner.keywords import ctfidf_keywords

    labels = state.labels
    n_clusters = len(state.ids)
    centroids, floors, sims = describe_geometry(vectors, labels, n_clusters,
                                                settings.outlier_mads)
    keywords = ctfidf_keywords(
        [f"{w['title'] or ''}. {(w['summary'] or '')[:1000]}" for w in items],
        labels.tolist(), [w["language"] or "" for w in items], words=vocabulary)
    affinity = _affinities(store, items, labels, n_clusters, taxonomy_key, model,
                           settings.outside_share)
    by_id = {t["id"]: t for t in previous}
    events = list(state.events)
    topics: list[dict[str, Any]] = []
    for c, topic_id in enumerate(state.ids):
        rows = np.flatnonzero(labels == c)
        if not len(rows):
            continue
        last_item = max(items[r]["published"][:10] for r in rows)
        quiet = (date.fromisoformat(run_date) - date.fromisoformat(last_item)).days
        status = "dormant" if quiet > settings.dormant_days else "live"
        before = by_id.get(topic_id, {}).get("status")
        if status == "dormant" and before != "dormant":
            events.append(LineageEvent("dormant", topic_id, detail=f"no new item for {quiet} d"))
        elif status == "live" and before == "dormant":
            events.append(LineageEvent("continued", topic_id, detail="revived"))
        words = keywords.get(c, {})
        label = " / ".join((words.get("en") or words.get("zh") or [])[:3])
        topics.append({
            "id": topic_id, "model": model, "scope": scope, "status": status,
            "size": len(rows), "label": label, "keywords": words,
            "representatives": _representatives(items, rows, sims),
            "centroid": centroids[c], "floor": float(floors[c]),
            "taxonomy": taxonomy_key, **affinity[c],
            "born_run_date": by_id.get(topic_id, {}).get("born_run_date") or run_date,
            "last_run_date": run_date, "last_item_date": last_item, "updated_at": run_date,
        })
    ended = {e.topic_id: e.kind for e in events if e.kind in ("died", "merged_into")}
    alive = {t["id"] for t in topics}
    for topic in previous:
        if topic["id"] not in alive:
            topics.append({**{k: v for k, v in topic.items() if k != "member_ids"},
                           "status": "merged" if ended.get(topic["id"]) == "merged_into"
                           else "died", "last_run_date": run_date, "updated_at": run_date})
    members = [{"item_id": items[r]["id"], "model": model, "scope": scope,
                "topic_id": state.ids[labels[r]] if labels[r] >= 0 else None,
                "similarity": round(float(sims[r]), 4) if labels[r] >= 0 else None,
                "run_date": run_date} for r in range(len(items))]
    series = _series(window, items, labels, state.ids, settings.series_period)
    unassigned = int((labels == -1).sum())
    run = {"run_date": run_date, "model": model, "scope": scope, "run_id": run_id,
           "mode": state.mode, "window_start": since, "window_end": run_date,
           "items": len(items), "topics": len(alive), "unassigned": unassigned,
           "seconds": round(time.monotonic() - started, 2), "created_at": run_date}
    store.save_topic_run(run, topics, members,
                         [{"kind": e.kind, "topic_id": e.topic_id, "other_id": e.other_id,
                           "detail": e.detail} for e in events],
                         series, series_from=period_of(since, settings.series_period))
    counts = Counter(e.kind for e in events)
    return {**run, "unassigned_share": round(unassigned / max(len(items), 1), 4),
            "outside_taxonomy": sum(1 for t in topics if t.get("outside_taxonomy") == 1
                                    and t["status"] == "live"),
            "events": dict(sorted(counts.items())), "kinds": list(kinds)}


def _representatives(items: list[dict[str, Any]], rows: np.ndarray, sims: np.ndarray,
                     n: int = 5) -> list[str]:
    """Ids of the members nearest the centroid, with each language of the members shown."""
    order = rows[np.argsort(-sims[rows], kind="stable")]
    chosen = [items[r]["id"] for r in order[:n]]
    languages = {items[r]["language"] for r in order[:n]}
    for r in order[n:]:
        if items[r]["language"] not in languages:
            chosen[-1] = items[r]["id"]
            break
    return chosen


def _affinities(store: Any, items: list[dict[str, Any]], labels: np.ndarray, n_clusters: int,
                taxonomy_key: str, model: str, outside_share: float) -> list[dict[str, Any]]:
    """Per cluster: field affinity (share of scored members assigned, mean score),
    pathway affinity (mean score), the best field, and whether the topic lies outside
    the taxonomy (no field reaches `outside_share`; None when no member was scored)."""
    scored = store.item_field_scores([w["id"] for w in items], taxonomy_key, model)
    out = []
    for c in range(n_clusters):
        rows = [r for r in np.flatnonzero(labels == c) if items[r]["id"] in scored]
        if not rows:
            out.append({"affinity": {}, "pathway_affinity": {}, "best_field": None,
                        "best_share": None, "outside_taxonomy": None})
            continue
        share: Counter[str] = Counter()
        total: defaultdict[str, float] = defaultdict(float)
        pathways: defaultdict[str, float] = defaultdict(float)
        for r in rows:
            entry = scored[items[r]["id"]]
            share.update(entry["fields"])
            for fid, p in entry["scores"].items():
                total[fid] += p
            for scores in entry["pathways"].values():
                for pid, p in scores.items():
                    pathways[pid] += p
        n = len(rows)
        affinity = {fid: {"share": round(share[fid] / n, 4), "mean": round(total[fid] / n, 4)}
                    for fid in sorted(total)}
        best = max(affinity, key=lambda f: (affinity[f]["share"], affinity[f]["mean"]))
        out.append({"affinity": affinity,
                    "pathway_affinity": {p: round(v / n, 4) for p, v in sorted(pathways.items())},
                    "best_field": best, "best_share": affinity[best]["share"],
                    "outside_taxonomy": int(affinity[best]["share"] < outside_share)})
    return out


def _series(window: list[dict[str, Any]], items: list[dict[str, Any]], labels: np.ndarray,
            ids: list[str], period: str) -> list[dict[str, Any]]:
    """Items per topic, period and kind, with the period's total of all items of the kind."""
    totals: Counter[tuple[str, str]] = Counter(
        (period_of(w["published"], period), w["kind"]) for w in window)
    counts: Counter[tuple[int, str, str]] = Counter(
        (int(labels[r]), period_of(items[r]["published"], period), items[r]["kind"])
        for r in range(len(items)) if labels[r] >= 0)
    present = sorted({c for c, _, _ in counts})
    return [{"topic_id": ids[c], "period": p, "kind": k, "count": counts[(c, p, k)],
             "total": n} for c in present for (p, k), n in sorted(totals.items())]
