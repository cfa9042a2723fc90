"""The topics stage's store driver: a night's attach or recluster over the window, with
lineage, keywords, field affinities and series written to the store."""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from scanner.assign.content import has_minimum_content
from scanner.config import TopicSettings
from scanner.topics.cluster import Clusterer, describe_geometry
from scanner.topics.lineage import (
    LineageEvent,
    Topic,
    _size_event,
    attach,
    match_topics,
    pool_groups,
)

#: Most recent held items considered for new topics between reclusterings (memory bound:
#: average linkage holds a square distance matrix).
MAX_POOL = 4000



def period_of(published: str, period: str) -> str:
    """The series period of an ISO date: 'YYYY-MM' or ISO week 'YYYY-Www'."""
    if period == "week":
        year, week, _ = date.fromisoformat(published[:10]).isocalendar()
        return f"{year}-W{week:02d}"
    return published[:7]



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
    # near-empty items are stored but never clustered (scanner.assign.content)
    window = [w for w in store.window_items(since, run_date, kinds)
              if has_minimum_content(w["title"], w["summary"])]
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
    from scanner.topics.keywords import ctfidf_keywords

    labels = state.labels
    n_clusters = len(state.ids)
    centroids, floors, sims = describe_geometry(vectors, labels, n_clusters,
                                                settings.outlier_mads)
    keywords = ctfidf_keywords(
        [f"{w['title'] or ''}. {(w['summary'] or '')[:1000]}" for w in items],
        labels.tolist(), [w["language"] or "" for w in items], words=vocabulary)
    summary_words = _summary_keywords(items, labels, vocabulary)
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
        if c in summary_words:
            words = {**words, "zh_summaries": summary_words[c]}
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



def _summary_keywords(items: list[dict[str, Any]], labels: np.ndarray,
                      vocabulary: tuple[str, ...]) -> dict[int, list[str]]:
    """Chinese keywords per cluster drawn from its non-Chinese members' Chinese summaries
    (the corpus's, kept at import), for clusters where at least half of those members
    carry one; each keyword occurs in at least two of the cluster's summaries."""
    from scanner.topics.keywords import ctfidf_keywords

    foreign = [r for r, w in enumerate(items) if labels[r] >= 0 and w["language"] != "zh"]
    with_summary = [r for r in foreign if items[r].get("summary_zh")]
    if not with_summary:
        return {}
    members = Counter(int(labels[r]) for r in foreign)
    covered = Counter(int(labels[r]) for r in with_summary)
    eligible = {c for c, n in covered.items() if 2 * n >= members[c]}
    chosen = [r for r in with_summary if int(labels[r]) in eligible]
    if not chosen:
        return {}
    found = ctfidf_keywords([items[r]["summary_zh"] for r in chosen],
                            [int(labels[r]) for r in chosen], ["zh"] * len(chosen),
                            words=vocabulary, min_docs=2)
    return {c: words["zh"] for c, words in found.items() if words.get("zh")}


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
