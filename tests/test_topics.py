"""Topic identity across runs (groundwork of issue #5): clustering and lineage matching."""

from __future__ import annotations

import itertools

import numpy as np

from scanner.topics import Clusterer, Topic, match_topics


def _blobs(centres: np.ndarray, per: int, seed: int, prefix: str = "i"
           ) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    points, ids = [], []
    for c, centre in enumerate(centres):
        points.append(centre + 0.05 * rng.normal(size=(per, centres.shape[1])))
        ids += [f"{prefix}{c}-{k}" for k in range(per)]
    x = np.concatenate(points)
    return x / np.linalg.norm(x, axis=1, keepdims=True), ids


def _topics(clusterer: Clusterer, ids: list[str], names: list[str]) -> list[Topic]:
    return [Topic(name, clusterer.centroids_[c],
                  frozenset(i for i, label in zip(ids, clusterer.labels_, strict=True)
                            if label == c))
            for c, name in enumerate(names)]


def _members(clusterer: Clusterer, ids: list[str]) -> list[frozenset[str]]:
    return [frozenset(i for i, label in zip(ids, clusterer.labels_, strict=True) if label == c)
            for c in range(len(clusterer.centroids_))]


CENTRES = np.random.default_rng(42).normal(size=(6, 32))


def test_clustering_is_reproducible_for_a_fixed_seed() -> None:
    x, _ = _blobs(CENTRES[:5], 40, seed=1)
    a = Clusterer(n_components=10, n_clusters=5, seed=3).fit(x)
    b = Clusterer(n_components=10, n_clusters=5, seed=3).fit(x)
    assert (a.labels_ == b.labels_).all() and np.allclose(a.centroids_, b.centroids_)


def test_ids_survive_a_night_with_little_change_and_a_new_blob_is_born() -> None:
    counter = itertools.count(100)
    x1, ids1 = _blobs(CENTRES[:5], 40, seed=1)
    first = Clusterer(n_components=10, n_clusters=5, seed=0).fit(x1)
    topics = _topics(first, ids1, [f"t{k}" for k in range(5)])
    # next night: the same items, 10 % new ones in the old blobs, and a sixth blob
    x_new, ids_new = _blobs(CENTRES[:5], 4, seed=2, prefix="n")
    x_born, ids_born = _blobs(CENTRES[5:], 40, seed=3, prefix="b")
    x2 = np.concatenate([x1, x_new, x_born])
    ids2 = ids1 + ids_new + ids_born
    second = Clusterer(n_components=10, n_clusters=6, seed=7).fit(x2)  # another seed too
    result = match_topics(topics, second.centroids_, _members(second, ids2),
                          lambda: f"t{next(counter)}")
    assert sorted(result.ids) == ["t0", "t1", "t100", "t2", "t3", "t4"]
    kinds = sorted(e.kind for e in result.events)
    assert kinds == ["born", "continued", "continued", "continued", "continued", "continued"]
    born = result.ids.index("t100")
    assert _members(second, ids2)[born] == frozenset(ids_born)


def test_merge_split_and_death_are_recorded() -> None:
    e = np.eye(4)
    a = frozenset(f"a{k}" for k in range(20))
    b = frozenset(f"b{k}" for k in range(20))
    c = frozenset(f"c{k}" for k in range(20))
    previous = [Topic("A", e[0], a), Topic("B", e[1], b), Topic("C", e[2], c)]
    c1 = frozenset(list(c)[:10])
    c2 = frozenset(list(c)[10:])
    merged_centroid = (e[0] + e[1]) / np.linalg.norm(e[0] + e[1])
    centroids = np.stack([merged_centroid, e[2], e[2]])
    counter = itertools.count(1)
    result = match_topics(previous, centroids, [a | b, c1, c2], lambda: f"N{next(counter)}")
    events = {(ev.kind, ev.topic_id, ev.other_id) for ev in result.events}
    kept = result.ids[0]
    lost = "B" if kept == "A" else "A"
    assert ("merged_into", lost, kept) in events
    assert result.ids[1] == "C" or result.ids[2] == "C"
    split_new = result.ids[2] if result.ids[1] == "C" else result.ids[1]
    assert ("split_from", split_new, "C") in events and ("born", split_new, None) in events
    gone = match_topics(previous, centroids[:1], [a], lambda: "N9")
    assert {(ev.kind, ev.topic_id) for ev in gone.events} >= {("died", "B"), ("died", "C")}
