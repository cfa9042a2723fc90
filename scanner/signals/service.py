"""The signals stage's store driver: read series and assignments, rank every entity, store
the ranked lists with their evidence."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from scanner.assign.content import has_minimum_content
from scanner.config import SignalSettings
from scanner.signals.indicators import (
    stage_versus_tier,
    thirds,
)
from scanner.signals.periods import PeriodChoice, choose_period, run_periods
from scanner.signals.ranking import (
    WATCH_MIN_TECHNOLOGY,
    Entity,
    indicators,
    period_sequence,
    rank_entities,
    series_matrix,
    stream_weights,
    topic_novelty,
    weighted_novelty,
)
from scanner.signals.streams import StreamCoverage, stream_coverage


def _evidence_items(rows: Sequence[dict[str, Any]], key: str, n: int = 5) -> list[dict[str, Any]]:
    """The strongest recent items: by score (fields) or similarity (topics), then date.
    Near-empty items are never shown as evidence (scanner.assign.content)."""
    ordered = sorted((r for r in rows if has_minimum_content(r["title"], r["summary"])),
                     key=lambda r: (-(r.get(key) or 0.0), r["published"] or ""))
    return [{"id": r["id"], "title": r["title"], "url": r["url"], "source": r["source_id"],
             "date": (r["published"] or "")[:10], "language": r["language"], "kind": r["kind"]}
            for r in ordered[:n]]



def _active_since(coverage: dict[str, Any], periods: list[str]) -> dict[str, str]:
    """Per stream, the first day of its active window: the last 70% of its own periods."""
    return {kind: _month_start(periods[min(cov.first + thirds(cov.periods)[1].start,
                                           len(periods) - 1)])
            for kind, cov in coverage.items() if cov.periods}


def _month_start(label: str) -> str:
    """First day of a period label's first month."""
    if "-Q" in label:
        return f"{label[:4]}-{(int(label[-1]) - 1) * 3 + 1:02d}-01"
    if "-H" in label:
        return f"{label[:4]}-{(int(label[-1]) - 1) * 6 + 1:02d}-01"
    if len(label) == 4:
        return f"{label}-01-01"
    return f"{label}-01"



def compute_signals(store: Any, taxonomy: Any, taxonomy_key: str, model: str,
                    settings: SignalSettings, run_date: str, topic_window_days: int,
                    meta: dict[str, Any] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every ranked list for one run date, stored, and returned by list name.

    `meta`, when given, receives what the lists rest on: the period and why it was
    chosen, each stream's span and whether it entered the composites, and warnings.
    """
    from datetime import date, timedelta

    month_rows = store.month_totals()
    choice = choose_period(month_rows, run_date, settings.period, settings.periods)
    period = choice.period
    periods = run_periods(choice, run_date)
    by_kind = series_matrix(((kind, m, kind, n) for m, kind, n in month_rows), periods, period)
    totals = {kind: arrays[kind] for kind, arrays in by_kind.items()}
    coverage = stream_coverage(totals)
    if meta is not None:
        meta.update(period_meta(choice, periods, coverage))
    # evidence comes from the window each stream's score describes: its active periods
    active_since = _active_since(coverage, periods)
    since = min(active_since.values(), default=_month_start(periods[thirds(len(periods))[1].start]))

    # topics: monthly over their own window, with the window's totals
    window_start = (date.fromisoformat(run_date) - timedelta(days=topic_window_days)).isoformat()
    months = period_sequence(run_date[:7], "month",
                             max(5, (date.fromisoformat(run_date).year * 12
                                     + date.fromisoformat(run_date).month)
                                 - (int(window_start[:4]) * 12 + int(window_start[5:7])) + 1))
    topic_rows = store.all_topic_series(model)
    topic_series = series_matrix(((r["topic_id"], _as_month(r["period"]), r["kind"], r["count"])
                                  for r in topic_rows), months, "month")
    topic_totals_map: dict[str, np.ndarray] = {}
    seen: set[tuple[str, str]] = set()
    for r in topic_rows:
        key = (_as_month(r["period"]), r["kind"])
        if key in seen or key[0] not in months:
            continue
        seen.add(key)
        topic_totals_map.setdefault(r["kind"], np.zeros(len(months)))[months.index(key[0])] = \
            r["total"]
    topics = store.all_live_topics(model)
    _, t_active = thirds(len(months))
    novelty = topic_novelty(topics, topic_series, t_active.start)
    topic_since = _month_start(months[t_active.start])
    # evidence from each stream's own active window, as for fields below
    topic_coverage = stream_coverage(topic_totals_map)
    topic_active_since = _active_since(topic_coverage, months)
    topic_evidence: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in store.topic_evidence(model, topic_since, run_date):
        if (row["published"] or "")[:10] >= topic_active_since.get(row["kind"], topic_since):
            topic_evidence[row["topic_id"]].append(row)

    from scanner.terms.service import term_carriers

    found = term_carriers(store, run_date, topic_since, taxonomy.chinese_terms)
    judged = {t["id"]: term_judgement(topic_evidence[t["id"]], found) for t in topics}
    topic_entities = [Entity("topics", t["id"], None, topic_series.get(t["id"], {}),
                             topic_evidence[t["id"]], novelty.get(t["id"], 0.0),
                             {"label": t["label"], "keywords": t["keywords"],
                              "best_field": t["best_field"], "best_share": t["best_share"],
                              "outside_taxonomy": t["outside_taxonomy"],
                              "born": t["born_run_date"], "size": t["size"],
                              "top_evidence": _evidence_items(topic_evidence[t["id"]],
                                                              "similarity"),
                              "carried_terms": judged[t["id"]][1]},
                             position=t.get("centroid"), term_items=judged[t["id"]][0])
                      for t in topics]
    from scanner.report.review import rejected_topics

    topic_entities = _with_items(topic_entities)
    # computed once for the topics and the watchlist, with the same stream weights
    topic_facts = {e.id: indicators(e, topic_totals_map, stream_weights(settings),
                                    topic_coverage, settings.forecast_periods,
                                    settings.trend_half_life)
                   for e in topic_entities}
    rejected = rejected_topics(store)  # the panel said no: off the watchlist
    watch = [Entity("watchlist", e.id, None, e.counts, e.evidence, e.novelty, e.extra,
                    term_items=e.term_items)
             for e in topic_entities if e.extra["outside_taxonomy"] == 1 and e.id not in rejected
             and topic_facts[e.id]["technology_share"] >= WATCH_MIN_TECHNOLOGY]

    field_series = series_matrix(store.field_month_counts(taxonomy_key, model), periods,
                                 period)
    pathway_series = series_matrix(
        ((f"{f}/{p}", m, k, n) for f, p, m, k, n in
         store.pathway_month_counts(taxonomy_key, model)), periods, period)
    field_evidence: dict[str, list[dict[str, Any]]] = defaultdict(list)
    pathway_evidence: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in store.field_evidence(taxonomy_key, model, since, run_date):
        if (row["published"] or "")[:10] < active_since.get(row["kind"], since):
            continue
        field_evidence[row["field_id"]].append(row)
        if row["pathway_id"]:
            pathway_evidence[f"{row['field_id']}/{row['pathway_id']}"].append(row)
    field_entities, pathway_entities = [], []
    for f in taxonomy.active_fields:
        weights = {t["id"]: (t["affinity"] or {}).get(f.id, {}).get("share", 0.0) * t["size"]
                   for t in topics}
        field_entities.append(Entity(
            "fields", f.id, f.direction, field_series.get(f.id, {}), field_evidence[f.id],
            weighted_novelty(weights, novelty),
            {"tier": f.tier, "direction": f.direction, "name_zh": f.zh, "name_en": f.en,
             "top_evidence": _evidence_items(field_evidence[f.id], "score")}))
        for p in f.pathways:
            key = f"{f.id}/{p.id}"
            pweights = {t["id"]: (t["pathway_affinity"] or {}).get(p.id, 0.0) * t["size"]
                        for t in topics}
            pathway_entities.append(Entity(
                "pathways", p.id, f.id, pathway_series.get(key, {}), pathway_evidence[key],
                weighted_novelty(pweights, novelty),
                {"name_zh": p.zh, "name_en": p.en,
                 "top_evidence": _evidence_items(pathway_evidence[key], "score", 3)}))

    pairs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for t in topics:
        strong = sorted(fid for fid, a in (t["affinity"] or {}).items()
                        if a["share"] >= settings.convergence_share)
        for i, a in enumerate(strong):
            for b in strong[i + 1:]:
                pairs[(a, b)].append(t)
    pair_entities = []
    for (a, b), shared in sorted(pairs.items()):
        counts: dict[str, np.ndarray] = {}
        for t in shared:
            for kind, arr in topic_series.get(t["id"], {}).items():
                counts[kind] = counts.get(kind, np.zeros(len(months))) + arr
        pair_entities.append(Entity(
            "convergence", f"{a}+{b}", None, counts,
            [e for t in shared for e in topic_evidence[t["id"]]],
            float(np.mean([novelty.get(t["id"], 0.0) for t in shared])),
            {"fields": [a, b], "topics": [t["id"] for t in shared]}))

    ranked_topics = rank_entities(topic_entities, topic_totals_map, settings, topic_facts)
    # the watchlist's topics keep the forecasts and term shares of the topic list (their
    # nearest topics are on the whole map, not among the watchlist's few)
    as_topics = {r["entity_id"]: r["indicators"] for r in ranked_topics}
    lists = {  # an entity without a single item in its periods has nothing to rank
        "fields": rank_entities(_with_items(field_entities), totals, settings),
        "pathways": rank_entities(_with_items(pathway_entities), totals, settings),
        "topics": ranked_topics,
        "watchlist": rank_entities(watch, topic_totals_map, settings, as_topics, inherit=True),
        "convergence": rank_entities(_with_items(pair_entities), topic_totals_map, settings),
    }
    for row in lists["fields"]:
        row["indicators"]["stage_vs_tier"] = stage_versus_tier(row["indicators"]["stage"],
                                                               row["indicators"]["tier"])
    rows = []
    for name, ranked in lists.items():
        previous = store.previous_ranks(run_date, name)
        for row in ranked:
            row["previous_rank"] = previous.get(row["entity_id"])
            rows.append({**row, "run_date": run_date, "taxonomy": taxonomy_key, "model": model,
                         "indicators": {**row["indicators"],
                                        "periods": months if name in ("topics", "watchlist",
                                                                      "convergence")
                                        else periods}})
    store.save_signals(run_date, rows)
    return lists



def period_meta(choice: PeriodChoice, periods: list[str],
                coverage: dict[str, StreamCoverage]) -> dict[str, Any]:
    """The period choice and per-stream coverage, for the run summary and the report."""
    streams = {}
    for kind, info in choice.streams.items():
        cov = coverage.get(kind)
        entered = bool(cov and cov.usable)
        streams[kind] = {**info, "periods_covered": cov.periods if cov else 0,
                         "items_in_periods": cov.items if cov else 0, "entered": entered,
                         "left_out": "" if entered else (
                             cov.reason if cov and cov.periods else
                             f"its items end in {info['last']}, before the run's periods "
                             f"({periods[0]} to {periods[-1]}): nothing to judge them by")}
    warnings = list(choice.warnings)
    warnings += [f"{kind} stays out of the composites: {s['left_out']}"
                 for kind, s in streams.items() if not s["entered"]]
    return {"period": choice.period, "periods": periods, "period_chosen": choice.chosen,
            "period_reason": choice.reason, "streams": streams, "warnings": warnings}


#: The emerging terms named beside a topic: its most carried ones.
TERMS_NAMED = 3


def term_judgement(rows: Sequence[dict[str, Any]],
                   found: tuple[dict[str, list[str]], set[str]] | None
                   ) -> tuple[tuple[int, int] | None, list[str]]:
    """A topic's ((evidence rows carrying one of the run's emerging terms, rows of a
    stream whose terms were ranked), its most carried terms); (None, []) without terms."""
    if found is None:
        return None, []
    carriers, streams = found
    mine = [r for r in rows if r["kind"] in streams]
    carried = Counter(t for r in mine for t in carriers.get(r["id"], []))
    return ((sum(r["id"] in carriers for r in mine), len(mine)),
            [t for t, _ in carried.most_common(TERMS_NAMED)])


def _with_items(entities: Sequence[Entity]) -> list[Entity]:
    return [e for e in entities if sum(float(a.sum()) for a in e.counts.values()) > 0]



def _as_month(label: str) -> str:
    """A stored series period as 'YYYY-MM' (ISO weeks map to the month of their Monday)."""
    if "-W" in label:
        from datetime import date

        monday = date.fromisocalendar(int(label[:4]), int(label[-2:]), 1)
        return f"{monday.year:04d}-{monday.month:02d}"
    return label
