"""Emergence signals for fields, pathways, topics and converging field pairs, and ranking.

For each entity, the series of its items per period and source kind (shares of all
items of that period and kind, kind mix held constant; scanner.signals.indicators) gives:
growth of the share between the base and active windows with a 90% interval, the
Porter/Carley EScore, Kleinberg bursts, persistence; its recent items give community
(distinct sources, authors, venues), the evidence mix and maturity cues; topics give
novelty. Sub-scores follow the five attributes of Rotolo, Hicks & Martin (2015):
novelty, growth, coherence and impact are percentile ranks within the list, weighted by
config, and uncertainty is a confidence factor support / (support + k), so a handful of
items never tops a ranking by luck. Topics get a fifth, emerging terms: the share of
their evidence items that carry one of the run's emerging terms (Porter et al. 2019 tie
emergent terms to the topics that carry them; `term_shares`). Every rank is stored with
its sub-scores and a plain-language explanation, per run date, with the rank of the
previous run.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scanner.config import SignalSettings
from scanner.signals.forecast import list_forecasts
from scanner.signals.indicators import (
    maturity_cues,
    percentile_ranks,
    stage_estimate,
    technology_share,
)
from scanner.signals.streams import StreamCoverage, combine_streams, stream_coverage

#: A watchlist topic must be mostly about science or technology: at least this share of
#: its recent items are papers or carry a technology cue (general news stays off it).
WATCH_MIN_TECHNOLOGY = 0.35



LISTS = ("fields", "pathways", "topics", "watchlist", "convergence")



def fold_period(month: str, period: str) -> str:
    """The period a 'YYYY-MM' month belongs to."""
    year, mon = month[:4], int(month[5:7])
    if period == "year":
        return year
    if period == "half":
        return f"{year}-H{1 + (mon - 1) // 6}"
    if period == "quarter":
        return f"{year}-Q{1 + (mon - 1) // 3}"
    return month



def period_sequence(last_month: str, period: str, n: int) -> list[str]:
    """The n periods ending with the one holding `last_month`, oldest first."""
    year, mon = int(last_month[:4]), int(last_month[5:7])
    out: list[str] = []
    while len(out) < n:
        label = fold_period(f"{year:04d}-{mon:02d}", period)
        if not out or out[-1] != label:
            out.append(label)
        mon -= 1
        if mon == 0:
            year, mon = year - 1, 12
    return out[::-1]



@dataclass
class Entity:
    """One thing to rank, with its series and recent evidence."""

    list_name: str
    id: str
    parent_id: str | None = None
    counts: dict[str, np.ndarray] = field(default_factory=dict)  # kind -> per period
    evidence: list[dict[str, Any]] = field(default_factory=list)
    novelty: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # where it sits on the map (a topic's centroid): its growth is shrunk toward its
    # nearest neighbours' (scanner.signals.forecast); None for fields and pathways
    position: np.ndarray | None = None
    # of its evidence (the active window's items): (how many carry one of the run's
    # emerging terms, how many are of a stream whose terms were ranked); None: not
    # measured (fields, pathways, or a run without emerging terms)
    term_items: tuple[int, int] | None = None



def series_matrix(rows: Iterable[tuple[str, str, str, float]], periods: Sequence[str],
                  period: str) -> dict[str, dict[str, np.ndarray]]:
    """{entity: {kind: counts per period}} from (entity, month, kind, count) rows."""
    index = {p: i for i, p in enumerate(periods)}
    out: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for entity, month, kind, count in rows:
        slot = index.get(fold_period(month, period))
        if slot is None:
            continue
        by_kind = out[entity]
        if kind not in by_kind:
            by_kind[kind] = np.zeros(len(periods))
        by_kind[kind][slot] += count
    return out



def indicators(entity: Entity, totals: dict[str, np.ndarray],
               weights: Mapping[str, float] | None = None,
               coverage: Mapping[str, StreamCoverage] | None = None,
               horizon: int = 0, half_life: float = 0.0) -> dict[str, Any]:
    """Growth, EScore, bursts and persistence per stream and combined (scanner.signals.
    streams), then community, evidence mix and maturity cues from the evidence.
    `coverage`: stream_coverage(totals), when the caller ranks many entities on them;
    `horizon`: the periods the share trend forecasts (0: half the stream's periods);
    `half_life`: of its discount of older periods (0: the horizon; inf: none)."""
    combined = combine_streams(entity.counts, totals,
                               coverage if coverage is not None else stream_coverage(totals),
                               weights, horizon, half_life)
    kinds = Counter(e["kind"] for e in entity.evidence)
    texts = [f"{e['title'] or ''} {e['summary'] or ''}" for e in entity.evidence]
    cues = maturity_cues(texts)
    authors: set[str] = set()
    for e in entity.evidence:
        authors.update(json.loads(e["authors"] or "[]") if isinstance(e["authors"], str)
                       else e["authors"] or [])
    length = len(next(iter(totals.values()))) if totals else 0
    overall = sum((np.asarray(a, dtype=float) for a in entity.counts.values()),
                  np.zeros(length))
    return {
        **combined,
        "sources": len({e["source_id"] for e in entity.evidence}),
        "authors": len(authors),
        "venues": len({e["primary_category"] for e in entity.evidence if e["primary_category"]}),
        "evidence_mix": dict(sorted(kinds.items())),
        "maturity_cues": cues,
        "stage": stage_estimate(cues, len(texts), kinds),
        "technology_share": round(technology_share(texts, [e["kind"] for e in
                                                           entity.evidence]), 3),
        "series": [round(float(c), 2) for c in overall],
    }


def rank_entities(entities: Sequence[Entity], totals: dict[str, np.ndarray],
                  settings: SignalSettings, known: dict[str, dict[str, Any]] | None = None,
                  inherit: bool = False) -> list[dict[str, Any]]:
    """Score one list of entities; rows sorted best first with rank, sub-scores, reasons.

    `known` holds indicators already computed against the same totals, by entity id;
    with `inherit`, they are another list's ranked indicators (the watchlist's topics'),
    whose forecasts and term shares are kept rather than recomputed among this list, so
    an entity shows one set of figures wherever it is listed.
    """
    if not entities:
        return []
    known = known or {}
    weights, coverage = stream_weights(settings), stream_coverage(totals)
    horizon = settings.forecast_periods
    facts = [_copy(known[e.id]) if e.id in known
             else indicators(e, totals, weights, coverage, horizon,
                             settings.trend_half_life) for e in entities]
    # growth: the share the entity's trend, shrunk toward its neighbours' (or the list's),
    # projects ahead over its recent share (scanner.signals.forecast; the backtests'
    # reasons in the module)
    if not inherit:
        placed = any(e.position is not None for e in entities)
        list_forecasts(facts, weights,
                       positions=[e.position for e in entities] if placed else None)
    growth = percentile_ranks([f["forecast_log"] for f in facts])
    novelty = percentile_ranks([e.novelty for e in entities])
    coherence = np.array([f["persistence"] for f in facts])
    impact = (percentile_ranks([math.log1p(f["sources"]) + math.log1p(f["authors"])
                                + math.log1p(f["venues"]) for f in facts])
              + np.array([min(len(f["evidence_mix"]), 3) / 3 for f in facts])) / 2
    parts = [novelty, growth, coherence, impact]
    weights = np.array([settings.weight_novelty, settings.weight_growth,
                        settings.weight_coherence, settings.weight_impact])
    names: tuple[str, ...] = ("novelty", "growth", "coherence", "impact")
    if any(e.term_items is not None for e in entities):  # a list the terms can judge
        parts.append(percentile_ranks(term_shares(entities, facts)))
        weights = np.append(weights, settings.weight_terms)
        names += ("terms",)
    spread = [np.ptp(part) if len(part) > 1 else 0.0 for part in parts]
    left_out = [n for n, sp in zip(names, spread, strict=True) if sp < 1e-9] \
        if len(entities) > 1 else []
    configured = weights
    weights = np.where([n in left_out for n in names], 0.0, weights)
    if weights.sum() == 0:  # nothing weighted varies: the configured sub-scores, equally
        weights = (configured > 0).astype(float) if configured.sum() > 0 else np.ones(len(names))
    rows = []
    for i, (entity, f) in enumerate(zip(entities, facts, strict=True)):
        subs = np.array([part[i] for part in parts])
        confidence = f["support"] / (f["support"] + settings.support_k)
        score = float(confidence * (subs @ weights) / weights.sum())
        subscores = {**{n: round(float(v), 3) for n, v in zip(names, subs, strict=True)},
                     "confidence": round(confidence, 3), "left_out": left_out}
        # an entity whose share is falling (the whole interval below 1) is not emerging
        emerging = f["growth_high"] >= 1.0
        rows.append({"list": entity.list_name, "entity_id": entity.id,
                     "parent_id": entity.parent_id, "score": round(score, 4),
                     "subscores": subscores,
                     "indicators": {**f, **entity.extra, "emerging": emerging},
                     "support": f["support"], "explanation": explain(f, subscores)})
    rows.sort(key=lambda r: (not r["indicators"]["emerging"], -r["score"], r["entity_id"]))
    ranks: Counter[str | None] = Counter()
    for row in rows:  # pathways are ranked within their field
        key = row["parent_id"] if row["list"] == "pathways" else None
        ranks[key] += 1
        row["rank"] = ranks[key]
    return rows



def term_shares(entities: Sequence[Entity], facts: Sequence[dict[str, Any]]) -> list[float]:
    """Per entity, the share of its judged evidence items that carry an emerging term,
    smoothed by one item at the list's pooled share (so 0 of 1 is not 0 of 100, and
    neither tops the list), recorded in its facts as `term_items`, `term_judged` and
    `term_share`. An entity with nothing judged gets the list's median share (neutral);
    with nothing judged anywhere every share is 0, and the sub-score is left out."""
    judged = [e.term_items for e in entities
              if e.term_items is not None and e.term_items[1] > 0]
    pooled = sum(k for k, _ in judged) / max(sum(n for _, n in judged), 1)
    shares: list[float | None] = []
    for entity, f in zip(entities, facts, strict=True):
        if entity.term_items is None or entity.term_items[1] == 0:
            shares.append(None)
            continue
        if "term_share" in f:  # inherited from the list it was ranked in first
            shares.append(float(f["term_share"]))
            continue
        carrying, n = entity.term_items
        share = (carrying + pooled) / (n + 1)
        f.update(term_items=int(carrying), term_judged=int(n), term_share=round(share, 4))
        shares.append(share)
    measured = [v for v in shares if v is not None]
    neutral = float(np.median(measured)) if measured else 0.0
    return [neutral if v is None else v for v in shares]


def _copy(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts another list also holds, copied so this list's forecast does not change them."""
    return {**facts, "streams": {k: dict(v) for k, v in facts.get("streams", {}).items()}}


def stream_weights(settings: SignalSettings) -> dict[str, float]:
    """The configured weight of each stream in a composite."""
    return {"paper": settings.weight_paper, "news": settings.weight_news,
            "policy": settings.weight_policy}


def explain(f: dict[str, Any], subs: dict[str, Any]) -> str:
    """One line a panel member can read: why this rank. A sub-score the list left out
    (the same for every entry) says so, so its figure is not read as a reason."""
    left = set(subs.get("left_out") or [])

    def sub(name: str) -> str:
        mark = ", left out: the same for every entry" if name in left else ""
        return f"[{name} {subs[name]:.2f}{mark}]"

    burst = ", bursting now" if f["bursting_now"] else ""
    terms = (f"{f['term_items']} of {f['term_judged']} items carry an emerging term "
             f"{sub('terms')}; " if f.get("term_judged") and "terms" in subs else "")
    stage = f" Evidence suggests {f['stage']}." if f.get("stage") else ""
    ahead = (f"; its trend projects x{f['forecast']:.2f} over the next "
             f"{f['forecast_periods']} periods against the last {f['forecast_periods']}"
             if f.get("forecast_periods") else "")
    return (f"Share x{f['growth']:.2f} (90%: {f['growth_low']:.2f}-{f['growth_high']:.2f}) "
            f"active vs base window{ahead}, EScore {f['escore']:.1f}{burst} "
            f"{sub('growth')}; "
            f"novelty {subs['novelty']:.2f}; active in {f['persistence']:.0%} of periods "
            f"{sub('coherence')}; {f['sources']} sources, {f['authors']} "
            f"authors, {f['venues']} venues {sub('impact')}; "
            f"{terms}{f['support']:.0f} items in the active window [confidence "
            f"{subs['confidence']:.2f}].{stage}")



def topic_novelty(topics: Sequence[dict[str, Any]], series: dict[str, dict[str, np.ndarray]],
                  active_start: int) -> dict[str, float]:
    """Per topic: half youth (share of its items in the active window), half distance
    (1 - cosine to the nearest other live topic)."""
    if not topics:
        return {}
    centroids = np.stack([t["centroid"] for t in topics])
    sims = centroids @ centroids.T
    np.fill_diagonal(sims, -1.0)
    nearest = sims.max(axis=1) if len(topics) > 1 else np.zeros(1)
    distance = percentile_ranks(1 - nearest)
    out = {}
    for i, topic in enumerate(topics):
        by_kind = series.get(topic["id"], {})
        counts = sum(by_kind.values()) if by_kind else np.zeros(1)
        youth = float(counts[active_start:].sum() / counts.sum()) if counts.sum() else 0.0
        out[topic["id"]] = round(0.5 * youth + 0.5 * float(distance[i]), 4)
    return out



def weighted_novelty(weights: dict[str, float], novelty: dict[str, float]) -> float:
    """Novelty of a field or pathway: its topics' novelty weighted by affinity x size."""
    total = sum(weights.values())
    return sum(w * novelty.get(t, 0.0) for t, w in weights.items()) / total if total else 0.0
