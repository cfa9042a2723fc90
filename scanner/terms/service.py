"""The terms stage against the store: count new items' terms, rank each stream, keep it.

A night counts only the items not counted yet; `rebuild` clears the counts and counts
every stored item again (a rescore). Ranking scores each stream (item kind) with the
months up to and including the run date's month, then gives each of the top terms its
monthly series, evidence items, and the topics and fields of its items; a term no field
holds `outside_share` of its items of is "outside the taxonomy".
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from scanner.config import TermSettings
from scanner.store import Store
from scanner.terms.counts import Key, TermCounts, count_items, from_counter, months_between
from scanner.terms.emergence import rank_terms, shifted_venue_names
from scanner.terms.extract import ChineseSegmenter, item_terms, month_of
from scanner.terms.specificity import SAMPLE, specificities
from scanner.terms.stats import z_score
from scanner.terms.windows import (
    FittedWindow,
    base_periods_in,
    fit_window,
    short_history_reason,
    thin_base_reason,
)

#: Evidence items kept per ranked term.
EVIDENCE_ITEMS = 5
#: Candidates described and judged at a time, until `top` pass the specificity check.
BATCH = 50

#: Term texts -> their query embeddings (the run's model), for the specificity check.
Encoder = Callable[[Sequence[str]], np.ndarray]


def _venue(item: dict[str, Any]) -> str:
    return item.get("primary_category") or item.get("source_id") or "?"


def count_new_items(store: Store, segmenter: ChineseSegmenter | None,
                    batch: int = 5000) -> int:
    """Count the terms of items not counted yet, a batch per transaction; items counted."""
    done = 0
    while True:
        items = store.items_to_count(batch)
        if not items:
            return done
        rows = [(month_of(i["published"]), i["kind"], _venue(i), i["title"], i["summary"])
                for i in items]
        store.add_term_counts(count_items(rows, segmenter),
                              [(i["id"], r[0], r[1], r[2])
                               for i, r in zip(items, rows, strict=True)])
        done += len(items)


def stored_counts(store: Store, stream: str, settings: TermSettings | None = None,
                  cutoff: str | None = None,
                  item_totals: Sequence[tuple[str, str, int]] | None = None) -> TermCounts:
    """One stream's TermCounts from the store: every count, or with `settings` and
    `cutoff` (YYYY-MM, the first month not used) only the window's months of the terms
    with enough items in the active window (what rank_terms can keep). `item_totals`:
    store.term_item_totals() when the caller has read it already."""
    if settings is None or cutoff is None:
        rows = store.term_count_rows(stream)
    else:
        p = settings.period_months
        rows = store.term_count_rows(
            stream, since=add_months(cutoff, -(settings.active_periods +
                                               settings.base_periods) * p),
            active_since=add_months(cutoff, -settings.active_periods * p),
            min_active_df=settings.min_active_df)
    counts: Counter[Key] = Counter({(t, m, stream, v): n for t, m, v, n in rows})
    totals: Counter[tuple[str, str]] = Counter({(m, s): n
                                                for m, s, n in (
                                                    store.term_item_totals()
                                                    if item_totals is None else item_totals)})
    by_venue = Counter({(m, v): n for m, v, n in store.term_venue_totals(stream)})
    return from_counter(counts, totals, stream, by_venue)


def add_months(month: str, n: int) -> str:
    """YYYY-MM n months after (or before, when negative) `month`."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def next_month(run_date: str) -> str:
    """The month after the run date's (the first month a run does not see)."""
    return add_months(run_date[:7], 1)


def describe_terms(store: Store, ranked: Sequence[dict[str, Any]], counts: TermCounts,
                   cutoff: str, settings: TermSettings, taxonomy: str, model: str,
                   segmenter: ChineseSegmenter | None) -> list[dict[str, Any]]:
    """Each ranked term with its monthly series, evidence items, topics and fields."""
    active_start = add_months(cutoff, -settings.active_periods * settings.period_months)
    out = []
    for row in ranked:
        items = [i for i in store.term_candidate_items(row["term"], f"{active_start}-01",
                                                       f"{cutoff}-01", counts.stream)
                 if row["term"] in item_terms(i["title"], i["summary"], segmenter)]
        ids = [i["id"] for i in items]
        fields = store.fields_of_items(ids, taxonomy, model)
        topics = store.topics_of_items(ids, model)
        field_counts = Counter(f for fs in fields.values() for f in fs)
        topic_counts = Counter(topics.values())
        best = field_counts.most_common(1)
        share = best[0][1] / len(ids) if best and ids else 0.0
        series = counts.series(row["term"])
        out.append({
            **row, "cutoff": cutoff,
            "monthly": {m: int(v) for m, v in zip(counts.months, series, strict=True) if v},
            "evidence": [{"id": i["id"], "title": i["title"], "url": i["url"],
                          "published": i["published"]} for i in items[:EVIDENCE_ITEMS]],
            "fields": [{"field": f, "items": n, "share": round(n / len(ids), 3)}
                       for f, n in field_counts.most_common(5)],
            "topics": [{"topic": t, "items": n} for t, n in topic_counts.most_common(5)],
            "best_field": best[0][0] if best else None, "best_field_share": round(share, 3),
            "outside_taxonomy": share < settings.outside_share,
            "evidence_items": len(ids), "item_ids": ids,
        })
    return out


def ranked_and_judged(store: Store, rows: Sequence[dict[str, Any]], counts: TermCounts,
                      cutoff: str, settings: TermSettings, taxonomy: str, model: str,
                      segmenter: ChineseSegmenter | None, encode: Encoder | None
                      ) -> tuple[list[dict[str, Any]], list[str], str]:
    """(the first `top` described terms that pass the specificity check, the terms left
    out as phrasing in rank order, why none was judged or ''). Candidates are described
    and judged BATCH at a time, so a night describes about as many as it keeps."""
    top = settings.top

    def described(part: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return describe_terms(store, part, counts, cutoff, settings, taxonomy, model,
                              segmenter)

    if settings.min_specificity <= 0:
        return _without_ids(described(rows[:top])), [], ""
    active_start = add_months(cutoff, -settings.active_periods * settings.period_months)
    window_ids, window = _window_sample(store, counts.stream, f"{active_start}-01",
                                        f"{cutoff}-01", model) if encode else ([], None)
    if encode is None or window is None or not len(window_ids):
        why = "no model to embed the terms" if encode is None else \
            "no item of the window has a vector"
        return _without_ids(described(rows[:top])), [], why
    kept: list[dict[str, Any]] = []
    phrasing: list[str] = []
    z = z_score(settings.confidence)
    for start in range(0, len(rows), BATCH):
        if len(kept) >= top:
            break
        batch = described(rows[start:start + BATCH])
        try:
            vectors = encode([r["term"] for r in batch])
        except Exception as exc:  # the check is an extra: a model that fails keeps the list
            rest = described(rows[start + BATCH:start + BATCH + top - len(kept)])
            return _without_ids((kept + batch + rest)[:top]), phrasing, \
                f"the model could not embed the terms: {exc}"
        carriers, others = [], []
        for row in batch:
            ids, matrix = store.item_embeddings(model, row["item_ids"]) if row["item_ids"] \
                else ([], np.zeros((0, window.shape[1]), dtype=np.float32))
            carriers.append(matrix)
            others.append(window[~np.isin(window_ids, ids)])
        for row, judged in zip(batch, specificities(vectors, carriers, others, z),
                               strict=True):
            if judged is not None:
                row["specificity"] = {"auc": judged.auc, "low": judged.low,
                                      "carriers": judged.carriers}
            if judged is None or judged.low > settings.min_specificity:
                kept.append(row)
            else:
                phrasing.append(row["term"])
    return _without_ids(kept[:top]), phrasing, ""


def _window_sample(store: Store, stream: str, since: str, before: str, model: str
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """(ids, vectors) of a seeded sample of the stream's items published from `since` to
    the day before `before` that have a vector (None: no item)."""
    ids = store.item_ids_published(since, before, stream)
    if len(ids) > SAMPLE:
        rng = np.random.default_rng(0)
        ids = [ids[i] for i in sorted(rng.choice(len(ids), SAMPLE, replace=False))]
    found, vectors = store.item_embeddings(model, ids) if ids else ([], None)
    return np.asarray(found, dtype=object), vectors if len(found) else None


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "item_ids"} for r in rows]


def terms_run(store: Store, settings: TermSettings, run_date: str, taxonomy: str, model: str,
              vocabulary: Sequence[str] = (), rebuild: bool = False,
              encode: Encoder | None = None) -> dict[str, Any]:
    """Count (new items, or all when rebuilding), rank every stream, store the lists.
    `encode` embeds terms for the specificity check (None: not judged, and said)."""
    started = time.monotonic()
    segmenter = ChineseSegmenter(vocabulary)
    if rebuild:
        store.clear_term_counts()
    counted = count_new_items(store, segmenter)
    cutoff = next_month(run_date)
    ranked: dict[str, int] = {}
    skipped: dict[str, str] = {}
    windows: dict[str, str] = {}
    phrasing: dict[str, list[str]] = {}
    unjudged: dict[str, str] = {}
    shifted: dict[str, list[str]] = {}
    item_totals = store.term_item_totals()  # read once: every stream's months and totals
    for stream, (fitted, why) in stream_windows(item_totals, cutoff, settings,
                                                store.term_streams()).items():
        if fitted is None:
            skipped[stream] = why
            store.save_term_ranking(run_date, stream, [])
            continue
        if fitted.note:
            windows[stream] = fitted.note
        counts = stored_counts(store, stream, fitted.settings, cutoff, item_totals)
        if names := shifted_venue_names(counts, cutoff, fitted.settings):
            shifted[stream] = names
        described, phrasing[stream], why = ranked_and_judged(
            store, rank_terms(counts, cutoff, fitted.settings), counts, cutoff,
            fitted.settings, taxonomy, model, segmenter, encode)
        if why:
            unjudged[stream] = why
        store.save_term_ranking(run_date, stream, described)
        ranked[stream] = len(described)
    return {"counted": counted, "rebuilt": rebuild, "ranked": ranked, "skipped": skipped,
            "windows": windows, "phrasing": {k: v for k, v in phrasing.items() if v},
            "not_judged": unjudged, "venues_shifted": shifted,
            "seconds": round(time.monotonic() - started, 2)}


def stream_windows(item_totals: Sequence[tuple[str, str, int]], cutoff: str,
                   settings: TermSettings, streams: Iterable[str]
                   ) -> dict[str, tuple[FittedWindow | None, str]]:
    """Per stream, (the window it is ranked on at the cut-off month, '') or (None, why it
    is not ranked): stale, too short a history, or too thin a base (the nightly rule,
    which the topic backtest's term marks follow too)."""
    newest = newest_months(item_totals, cutoff)
    oldest = oldest_months(item_totals, cutoff)
    out: dict[str, tuple[FittedWindow | None, str]] = {}
    for stream in streams:
        stale = stale_stream_reason(newest.get(stream), cutoff, settings)
        history = months_between(oldest[stream], cutoff) if stream in oldest else 0
        fitted = fit_window(settings, history) if not stale else None
        if fitted is None:
            out[stream] = (None, stale or short_history_reason(history, settings))
            continue
        thin = thin_base_reason(base_items(item_totals, stream, cutoff, fitted.settings,
                                           history), fitted.settings)
        out[stream] = (None, thin) if thin else (fitted, "")
    return out


#: A stream's history starts at its first month with at least this share of its median
#: month's items: one stray old item (a 2021 paper in a 2025 backfill) does not make
#: four years of history of mostly empty months.
HISTORY_START_SHARE = 0.1


def oldest_months(item_totals: Iterable[tuple[str, str, int]], cutoff: str) -> dict[str, str]:
    """Each stream's first month before `cutoff` (YYYY-MM) whose items reach
    HISTORY_START_SHARE of the stream's median month there."""
    months: dict[str, dict[str, int]] = {}
    for month, stream, n in item_totals:
        if month < cutoff:
            months.setdefault(stream, {})[month] = months.get(stream, {}).get(month, 0) + n
    out = {}
    for stream, per_month in months.items():
        floor = HISTORY_START_SHARE * float(np.median(list(per_month.values())))
        out[stream] = min(m for m, n in per_month.items() if n >= floor)
    return out


def base_items(item_totals: Iterable[tuple[str, str, int]], stream: str, cutoff: str,
               settings: TermSettings, history: int) -> int:
    """Items of a stream in the base window that build_window makes of `history` months
    before `cutoff` (whole periods only, as many as the history holds)."""
    p = settings.period_months
    base = base_periods_in(settings, history - settings.active_periods * p)
    end = add_months(cutoff, -settings.active_periods * p)
    start = add_months(end, -base * p)
    return sum(n for month, s, n in item_totals if s == stream and start <= month < end)


def newest_months(item_totals: Iterable[tuple[str, str, int]], cutoff: str) -> dict[str, str]:
    """Each stream's newest month with counted items before `cutoff` (YYYY-MM), from
    store.term_item_totals(): a rerun of a past date judges the stream by what it held
    then, not by later items."""
    newest: dict[str, str] = {}
    for month, stream, _ in item_totals:
        if month < cutoff:
            newest[stream] = max(newest.get(stream, month), month)
    return newest


def stale_stream_reason(newest: str | None, cutoff: str, settings: TermSettings) -> str:
    """Why a stream's terms are not ranked at `cutoff` for being out of date ("" when
    they are ranked): its newest items are older than the last period before the cut-off,
    so its "emerging" terms would describe that time, not the run's (a news dump ending
    in 2024 beside 2025 papers ranked 2024's news words in a 2025 report)."""
    last_period = add_months(cutoff, -settings.period_months)
    if newest is None or newest >= last_period:
        return ""
    return (f"no items since {newest} (none in the last {settings.period_months} months "
            f"before {cutoff}): its terms would describe that time, not this run's")


def term_carriers(store: Store, run_date: str, since: str,
                  vocabulary: Sequence[str] | None = None
                  ) -> tuple[dict[str, list[str]], set[str]] | None:
    """({id: the run's emerging terms it carries, in rank order} for the items published
    from `since` to the run date that carry one of their stream's, the streams whose
    terms were ranked); None when the run ranked no term. The same extraction as the
    counts (item_terms on the whole text), run only on items whose text holds one of
    the terms' stems (both case-blind with every run of other characters than letters
    and digits made one space, as a phrase's words may be parted by a line break, a
    hyphen or an underscore; a final y dropped, as "policies" folds to "policy"): the
    link from terms to the topics that carry them, which the signals' terms sub-score
    reads. Chinese text is segmented keeping `vocabulary` whole (None: not segmented);
    jieba is loaded only when there is a ranking to match."""
    rows = [r for r in store.term_ranking(run_date) if r.get("term")]
    if not rows:
        return None
    segmenter = ChineseSegmenter(vocabulary) if vocabulary is not None else None
    ranked: dict[str, list[str]] = {}
    for row in rows:  # term_ranking is in rank order per stream
        ranked.setdefault(row["stream"], []).append(row["term"])
    stems = {k: re.compile("|".join(sorted({re.escape(_plain(t).removesuffix("y"))
                                            for t in terms}, key=len, reverse=True)))
             for k, terms in ranked.items()}
    carriers: dict[str, list[str]] = {}
    for item in store.window_items(since[:10], run_date[:10], sorted(ranked)):
        if not stems[item["kind"]].search(_plain(f"{item['title'] or ''} "
                                                 f"{item['summary'] or ''}")):
            continue
        held = item_terms(item["title"], item["summary"], segmenter)
        carried = [t for t in ranked[item["kind"]] if t in held]
        if carried:
            carriers[item["id"]] = carried
    return carriers, set(ranked)


_NOT_WORD = re.compile(r"[\W_]+")


def _plain(text: str) -> str:
    """Lower case, every run of characters other than letters and digits one space."""
    return _NOT_WORD.sub(" ", text.lower()).strip()


def ranked_terms(store: Store, run_date: str | None = None, stream: str | None = None,
                 field: str | None = None, outside: bool = False) -> list[dict[str, Any]]:
    """The ranked terms of a run (default: the newest) as plain dicts, for reports."""
    rows = store.term_ranking(run_date, stream)
    if field:
        rows = [r for r in rows if any(f["field"] == field for f in r.get("fields", []))]
    if outside:
        rows = [r for r in rows if r.get("outside_taxonomy")]
    return rows
