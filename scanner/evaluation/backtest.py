"""Backtest of the emergence ranking: does it predict which topics grow next?

Protocol, per cut-off date:
1. Only items published before the cut-off are used: their embeddings are clustered
   as the nightly full reclustering does (scanner.topics.Clusterer), and each topic's
   series of items per period (shares of all items of the period) is built from them.
2. Topics are ranked by the composite emergence score (scanner.signals.rank_entities,
   the same code the nightly run uses) and by the baselines: naive recent count growth
   (raw items in the last period over the one before), last-period share, and random
   order (averaged over 200 shuffles).
3. Items of the horizon after the cut-off are attached to the nearest topic by the same
   embeddings (above the topic's similarity floor); realised growth is a topic's share
   in the horizon over its share in the same length of time before the cut-off. Both
   shares are measured on items the clustering never saw: a random half of that window
   before the cut-off is held out of the clustering and attached as the future is (the
   series the rankings see hold them too, attached). Clustering the whole window instead
   rewarded size (docs/evaluation.md, issue #17); `label="in-sample"` keeps that label.
4. Figures: precision@10 and @20 of "grows at least 2x in share", Spearman correlation
   between score and realised log growth, and the threat score hits / (hits + misses +
   false alarms) when the top 10% of each ranking are flagged, for two labels of
   exceptional growth: "grew 2x" and "in the top tenth of realised growth" (the share of
   topics that double in two years is 0-8% here, so the first rests on 0-13 topics; the
   second, relative like Klavans et al.'s exceptional-growth label, always has a tenth).
5. Fields, when the corpus carries field assignments (the nightly calibrator's, from each
   item's own text and vector): each field's share per period before the cut-off, ranked
   by the same composite score (novelty from its topics, weighted by their members'
   share in the field) and baselines, against its realised share growth in the horizon;
   fields with fewer than MIN_FIELD_ITEMS items in the window before are not judged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np

from scanner.config import SignalSettings, TopicSettings
from scanner.evaluation.corpus import Corpus
from scanner.evaluation.topicterms import TermMarker, term_items
from scanner.signals import Entity, rank_entities, topic_novelty, weighted_novelty
from scanner.topics import Clusterer, attach

GROWTH_LABEL = 2.0
#: A field is judged only with this many items in the window before the cut-off: below
#: it, "grew 2x" is 2 items becoming 5 (measured on arXiv: the fields that "doubled"
#: were mostly such), and the ranking's confidence factor rightly holds them back.
MIN_FIELD_ITEMS = 20


#: The protocols of issue #6: corpus preset, file under the shared data folder, cut-offs,
#: horizon in days, period length in months.
PROTOCOLS: dict[str, tuple[str, str, str, int, int]] = {
    "arxiv": ("arxiv-2010-2019", "corpus/arxiv_2010_2019.parquet",
              "2014-01-01,2015-01-01,2016-01-01,2017-01-01", 730, 6),
    "news": ("news-zh", "corpus/news_zh_2022_2024.parquet", "2024-01-01", 366, 1),
    # issue #17's third corpus, never tuned on: arXiv CS 2025-03 to 2026-07 in months
    "arxiv-cs": ("arxiv-cs-daily", "corpus/arxiv_cs_2025_2026.parquet",
                 "2025-10-01,2025-12-01", 180, 1),
}


def _period_edges(cutoff: date, months: int, n: int) -> list[tuple[date, date]]:
    """n consecutive periods of `months` months ending at the cut-off, oldest first."""
    edges = []
    end = cutoff
    for _ in range(n):
        year, month = end.year, end.month - months
        while month <= 0:
            year, month = year - 1, month + 12
        start = date(year, month, 1) if end.day == 1 else date(year, month, end.day)
        edges.append((start, end))
        end = start
    return edges[::-1]


def _spearman(a: Sequence[float], b: Sequence[float]) -> float:
    from scipy.stats import spearmanr

    value = spearmanr(a, b).statistic
    return float(value) if np.isfinite(value) else 0.0


def top_tenth(values: np.ndarray) -> np.ndarray:
    """The items ranked in the top tenth (at least one) of values, ties by position."""
    order = np.argsort(-values, kind="stable")
    chosen = np.zeros(len(values), dtype=bool)
    chosen[order[:max(1, round(0.1 * len(values)))]] = True
    return chosen


def threat_score(flagged: np.ndarray, actual: np.ndarray) -> float:
    """hits / (hits + misses + false alarms)."""
    hits = int((flagged & actual).sum())
    misses = int((~flagged & actual).sum())
    false_alarms = int((flagged & ~actual).sum())
    return hits / max(hits + misses + false_alarms, 1)


def _metrics(scores: np.ndarray, realised: np.ndarray, grew: np.ndarray) -> dict[str, float]:
    order = np.argsort(-scores, kind="stable")
    flagged = top_tenth(scores)
    return {"p@10": float(grew[order[:10]].mean()), "p@20": float(grew[order[:20]].mean()),
            "spearman": _spearman(scores, np.log(realised)),
            "threat": threat_score(flagged, grew),
            "threat_top": threat_score(flagged, top_tenth(realised))}


def backtest_cutoff(corpus: Corpus, cutoff: str, horizon_days: int, period_months: int,
                    periods: int, topic_settings: TopicSettings,
                    signal_settings: SignalSettings, seed: int = 0,
                    label: str = "held-out", terms: TermMarker | None = None
                    ) -> dict[str, Any]:
    """All methods' figures at one cut-off; `label` "held-out" (the default, step 3 of the
    module's protocol) or "in-sample" (the base window's items were clustered: the label
    of the earlier tables, which favours large topics). `terms` (a
    topicterms.TermMarker) gives topics the terms sub-score, as the nightly run does;
    without it the sub-score is left out."""
    cut = date.fromisoformat(cutoff)
    horizon_end = (cut + timedelta(days=horizon_days)).isoformat()
    recent_start = (cut - timedelta(days=horizon_days)).isoformat()
    past = np.flatnonzero(corpus.dates < cutoff)
    future = np.flatnonzero((corpus.dates >= cutoff) & (corpus.dates < horizon_end))
    vectors = corpus.vectors
    recent_rows = np.flatnonzero(corpus.dates[past] >= recent_start)
    fitted = np.ones(len(past), dtype=bool)
    if label == "held-out":  # half the base window is attached like the future, not fitted
        held = np.random.default_rng(seed).permutation(recent_rows)[:len(recent_rows) // 2]
        fitted[held] = False
    elif label != "in-sample":
        raise ValueError(f"unknown label {label!r}: held-out or in-sample")
    clusterer = Clusterer.for_window(topic_settings, int(fitted.sum()), seed).fit(
        vectors[past[fitted]])
    n_topics = len(clusterer.centroids_)
    labels, _ = attach(vectors[past], clusterer.centroids_, clusterer.floors_)
    labels[fitted] = clusterer.labels_
    future_labels, _ = attach(vectors[future], clusterer.centroids_, clusterer.floors_)

    edges = _period_edges(cut, period_months, periods)
    past_dates = corpus.dates[past]
    in_periods = [(past_dates >= start.isoformat()) & (past_dates < end.isoformat())
                  for start, end in edges]
    past_kinds = corpus.item_kinds()[past]
    streams = sorted(set(past_kinds.tolist()))
    totals_by = {k: np.array([(in_period & (past_kinds == k)).sum() for in_period in in_periods],
                             dtype=float) for k in streams}
    counts_by = {k: np.zeros((n_topics, periods)) for k in streams}
    for p, in_period in enumerate(in_periods):
        for k in streams:
            assigned = labels[in_period & (past_kinds == k)]
            counts_by[k][:, p] = np.bincount(assigned[assigned >= 0], minlength=n_topics)
    totals = sum(totals_by.values())  # the baselines see every stream pooled
    counts = sum(counts_by.values())
    # the active window of the series (Carley's last 70%): the items impact is judged on
    in_active = past_dates >= edges[round(0.3 * periods)][0].isoformat()
    active, active_labels = past[in_active], labels[in_active]
    marks = terms.marks(corpus, cutoff, active) if terms is not None else None
    topics = [{"id": str(c), "centroid": clusterer.centroids_[c]} for c in range(n_topics)]
    series = {str(c): {k: counts_by[k][c] for k in streams} for c in range(n_topics)}
    novelty = topic_novelty(topics, series, round(0.3 * periods))
    members = [active[active_labels == c] for c in range(n_topics)]  # active window's
    entities = [Entity("topics", str(c), None, series[str(c)],
                       _venue_evidence(corpus, members[c]), novelty[str(c)],
                       position=clusterer.centroids_[c], term_items=term_items(marks, members[c]))
                for c in range(n_topics)]
    ours = _scores(entities, totals_by, signal_settings)

    base_rows = recent_rows[~fitted[recent_rows]] if label == "held-out" else recent_rows
    recent_labels = labels[base_rows]
    before = np.bincount(recent_labels[recent_labels >= 0], minlength=n_topics)
    after = np.bincount(future_labels[future_labels >= 0], minlength=n_topics)
    realised = _realised_growth(before, after, len(recent_labels), len(future))
    grew = realised >= GROWTH_LABEL

    result: dict[str, Any] = {
        "cutoff": cutoff, "items_before": len(past), "items_after": len(future),
        "topics": n_topics, "grew_2x": int(grew.sum()), "label": label,
        "base_unattached": float((recent_labels == -1).mean()) if len(recent_labels) else 0.0,
        "future_unattached": float((future_labels == -1).mean()) if len(future) else 0.0,
        "methods": {"emergence score (ours)": _metrics(ours, realised, grew)},
        "terms_ranked": {k: len(v) for k, v in terms.ranked.get(cutoff, {}).items()}
        if terms is not None else None,
    }
    result["methods"].update(_baseline_metrics(counts, totals, realised, grew, seed))
    result["ceiling"] = noise_ceiling(before, after, seed=seed)
    if corpus.fields is not None:
        result["fields"] = _field_backtest(
            corpus, past, future, labels, in_periods, totals_by, active, recent_start,
            novelty, signal_settings, seed)
    return result


def _venue_evidence(corpus: Corpus, rows: np.ndarray) -> list[dict[str, Any]]:
    """Evidence rows for the impact sub-score: one per item, with its venue."""
    kinds = corpus.item_kinds()
    return [{"kind": str(kinds[i]), "source_id": "corpus", "authors": "[]",
             "primary_category": corpus.venues[i], "title": "", "summary": ""} for i in rows]


def _scores(entities: Sequence[Entity], totals: dict[str, np.ndarray],
            settings: SignalSettings) -> np.ndarray:
    """The composite emergence score of each entity, in the entities' order."""
    by_id = {row["entity_id"]: row["score"]
             for row in rank_entities(entities, totals, settings)}
    return np.array([by_id[e.id] for e in entities])


def _realised_growth(before: np.ndarray, after: np.ndarray, n_before: int, n_after: int
                     ) -> np.ndarray:
    """Share in the horizon over share in the same length before (smoothed by a half)."""
    return ((after + 0.5) / (n_after + 1)) / ((before + 0.5) / (n_before + 1))


def noise_ceiling(before: np.ndarray, after: np.ndarray, draws: int = 500, seed: int = 0
                  ) -> dict[str, float]:
    """How much of realised log growth is counting noise, and the top-tenth threat score
    an oracle that knew every topic's true growth would get against the noisy label.

    Noise: Poisson, var of log growth ~ 1/before + 1/after (items, smoothed by a half);
    true growth: normal with the variance left after the noise's (method of moments). A
    perfect ranking of the label itself scores 1; random order about tenth^2 / tenth."""
    noise_var = 1 / (before + 0.5) + 1 / (after + 0.5)
    observed = np.log((after + 0.5) / (before + 0.5))
    signal_var = max(float(observed.var() - noise_var.mean()), 0.0)
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(draws):
        truth = rng.normal(0.0, math.sqrt(signal_var), len(before))
        label = truth + rng.normal(0.0, np.sqrt(noise_var))
        scores.append(threat_score(top_tenth(truth), top_tenth(label)))
    return {"signal_sd": math.sqrt(signal_var), "noise_sd": math.sqrt(float(noise_var.mean())),
            "oracle_threat": float(np.mean(scores))}


def _baseline_metrics(counts: np.ndarray, totals: np.ndarray, realised: np.ndarray,
                      grew: np.ndarray, seed: int) -> dict[str, dict[str, float]]:
    """The baselines' figures: naive count growth, last-period share, random order."""
    out = {"naive count growth": _metrics((counts[:, -1] + 0.5) / (counts[:, -2] + 0.5),
                                          realised, grew),
           "last-period share": _metrics(counts[:, -1] / max(totals[-1], 1), realised, grew)}
    rng = np.random.default_rng(seed)
    shuffles = [_metrics(rng.random(len(counts)), realised, grew) for _ in range(200)]
    out["random"] = {k: float(np.mean([s[k] for s in shuffles])) for k in shuffles[0]}
    return out


def _field_backtest(corpus: Corpus, past: np.ndarray, future: np.ndarray,
                    topic_labels: np.ndarray, in_periods: Sequence[np.ndarray],
                    totals_by: dict[str, np.ndarray], active: np.ndarray, recent_start: str,
                    topic_novelties: dict[str, float], settings: SignalSettings, seed: int
                    ) -> dict[str, Any]:
    """The fields' ranking at one cut-off against their realised share growth (periods,
    their totals and the active window's items as the topics' ranking had them)."""
    assert corpus.fields is not None
    fields = corpus.fields
    past_kinds = corpus.item_kinds()[past]
    counts_by = {k: np.stack([fields[past[in_period & (past_kinds == k)]].sum(axis=0)
                              for in_period in in_periods], axis=1).astype(float)
                 for k in totals_by}
    counts = sum(counts_by.values())
    totals = sum(totals_by.values())
    entities = []
    for j, field_id in enumerate(corpus.field_ids):
        member_topics = topic_labels[fields[past, j]]
        weights = {str(c): float((member_topics == c).sum())
                   for c in np.unique(member_topics[member_topics >= 0])}
        entities.append(Entity("fields", field_id, None, {k: c[j] for k, c in counts_by.items()},
                               _venue_evidence(corpus, active[fields[active, j]]),
                               weighted_novelty(weights, topic_novelties)))
    ours = _scores(entities, totals_by, settings)
    before_rows = past[corpus.dates[past] >= recent_start]
    before = fields[before_rows].sum(axis=0)
    realised = _realised_growth(before, fields[future].sum(axis=0), len(before_rows),
                                len(future))
    judged = np.flatnonzero(before >= MIN_FIELD_ITEMS)
    grew = realised[judged] >= GROWTH_LABEL
    if len(judged) < 2:  # nothing to rank
        return {"fields": len(entities), "judged": len(judged), "grew_2x": int(grew.sum()),
                "methods": {}}
    return {"fields": len(entities), "judged": len(judged), "grew_2x": int(grew.sum()),
            "methods": {"emergence score (ours)": _metrics(ours[judged], realised[judged], grew),
                        **_baseline_metrics(counts[judged], totals, realised[judged], grew,
                                            seed)}}


def format_field_table(results: Sequence[dict[str, Any]]) -> str:
    """The fields' Markdown table (empty when the corpus had no field assignments)."""
    rows = [r for r in results if "fields" in r]
    if not rows:
        return ""
    lines = ["| cut-off | fields judged | grew 2x | method | P@10 | Spearman | threat (2x) "
             "| threat (top tenth) |",
             "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        f = r["fields"]
        for name, m in f["methods"].items():
            lines.append(f"| {r['cutoff']} | {f['judged']} | {f['grew_2x']} | {name} | "
                         f"{m['p@10']:.2f} | {m['spearman']:.3f} | {m['threat']:.2f} | "
                         f"{m['threat_top']:.2f} |")
    return "\n".join(lines)


def format_table(results: Sequence[dict[str, Any]]) -> str:
    """A Markdown table: one row per cut-off and method."""
    lines = ["| cut-off | topics | grew 2x | method | P@10 | P@20 | Spearman | threat (2x) "
             "| threat (top tenth) |",
             "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        for name, m in r["methods"].items():
            lines.append(f"| {r['cutoff']} | {r['topics']} | {r['grew_2x']} | {name} | "
                         f"{m['p@10']:.2f} | {m['p@20']:.2f} | {m['spearman']:.3f} | "
                         f"{m['threat']:.2f} | {m['threat_top']:.2f} |")
    return "\n".join(lines)
