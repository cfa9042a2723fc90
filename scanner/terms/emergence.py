"""Emergence of terms after Porter and Carley, on shares of a stream's items (pure).

At a cut-off, the months before it form periods (TermSettings.period_months each): the
last `active_periods` are the active window, up to `base_periods` before them the base.
A candidate is neither too rare (`min_active_df` items in the active window and a month
with `min_month_df`) nor too common (at most `max_base_share` of the base's items).
A term has *emerged* when its share of the stream over the last year reaches
`emerged_share` (0.1%, the backtest's crossing level). Porter, Garner, Carley & Newman's
(2019) criteria, graded where a hard gate would reject real emergences, then filter:
- novelty: a base share at most `novelty_ratio` times the active share and at most
  `novelty_fraction` of `emerged_share`: a low but non-zero base share is normal a year
  or two before a term emerges, an established one is not (pyGrams likewise bounds the
  base share rather than asking for absence);
- persistence: items in at least `min_active_periods` of the active periods;
- community: items from at least `min_venues` venues (arXiv categories, sources), none
  holding more than `max_venue_share` of them (1.0, off, by default: a category is a
  field, not one group's series of papers);
- growth: faster than the stream's own: the lower bound of the interval on its share
  ratio (second half of the active window over all the periods before it) above
  `min_growth` (Wilson's interval on the conditional binomial of two Poisson counts),
  and the lower bound of its share's Poisson trend (log share per year, base and active
  periods, the stream's totals as offset) at least `min_doublings` doublings over
  `horizon_years`, both at `confidence`. With `venue_mix`, when a venue's share of the
  stream shifts more than tenfold over the window (a category a dump starts or stops
  harvesting, a feed added), a term's items there are judged against that venue's
  items and its other items against the rest of the stream (_venue_mix_offsets).
`rank_by` picks the order: "low", the trend's lower bound (fast risers, and a burst of
a few items has a wide interval, so it does not top the list); "projected", the lower
bound of the share projected `horizon_years` ahead over `emerged_share`, for terms not
emerged yet (nearing emergence: slower growers that are already close); "blend" (the
default) takes one from each in turn, its score being the trend's lower bound (log share
per year); "trend", the trend's z; "escore", EScore-style
(Carley et al. 2018): on square roots of shares per 10,000 items r_1..r_K over the
active periods, 2 x active trend (mean of the last three minus mean of the first three)
+ recent trend (last two minus the two before) + recent slope ((r_K - r_{K-2}) / 2).
Terms nested in a better-ranked term with mostly the same items ("generative
adversarial" under "generative adversarial network") are folded into it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

import numpy as np

from scanner.config import TermSettings
from scanner.terms.counts import TermCounts
from scanner.terms.stats import escore, poisson_trend, rate_ratio_interval, z_score
from scanner.terms.windows import base_periods_in

_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Window:
    """Per-term figures of one stream at one cut-off, for every term seen in the window."""

    cutoff: int  # month index: the first month not used
    start: int  # first month of the base
    base_periods: int
    terms: np.ndarray  # term indices into TermCounts.terms
    counts: np.ndarray  # [terms x periods] items, base periods then active ones
    totals: np.ndarray  # [periods] items of the stream
    month_max: np.ndarray  # the most items the term had in one month of the window
    venues: np.ndarray  # distinct venues in the active window
    top_venue: np.ndarray  # share of the active items from the term's largest venue
    main_venue: np.ndarray  # index of that venue (-1: no active item)
    stream_venues: int = 0  # distinct venues with items in the window (the community
    # test's bound: the window's, never a later month's)
    expected: np.ndarray | None = None  # [terms x periods] the growth tests' offsets when
    # a venue shifted (venue_mix, _venue_mix_offsets); None: the stream's totals


def window_bounds(cutoff: int, settings: TermSettings) -> tuple[int, int, int]:
    """(first month of the base, first month of the active window, base periods) of the
    window before month index `cutoff`."""
    p = settings.period_months
    active_start = cutoff - settings.active_periods * p
    if active_start < p:
        raise ValueError(f"cut-off {cutoff} leaves no base period before the active window")
    base = base_periods_in(settings, active_start)
    return active_start - base * p, active_start, base


def build_window(counts: TermCounts, cutoff: int, settings: TermSettings) -> Window:
    """The window's per-term counts from the months before `cutoff` only."""
    p = settings.period_months
    start, _, base = window_bounds(cutoff, settings)
    n_periods = base + settings.active_periods
    mask = (counts.month >= start) & (counts.month < cutoff)
    month = counts.month[mask] - start
    df = counts.df[mask].astype(float)
    terms, inverse = np.unique(counts.term[mask], return_inverse=True)
    n = len(terms)
    period = month // p
    matrix = np.bincount(inverse * n_periods + period, weights=df,
                         minlength=n * n_periods).reshape(n, n_periods)
    n_months = n_periods * p
    term_months = np.bincount(inverse * n_months + month, weights=df,
                              minlength=n * n_months).reshape(n, n_months)
    totals = np.array([counts.totals[start + i * p:start + (i + 1) * p].sum()
                       for i in range(n_periods)])
    active = month >= base * p
    pair = inverse[active].astype(np.int64) * (len(counts.venues) + 1) + counts.venue[mask][active]
    pairs, pair_inverse = np.unique(pair, return_inverse=True)
    pair_df = np.bincount(pair_inverse, weights=df[active])
    owner = pairs // (len(counts.venues) + 1)
    venues = np.bincount(owner, minlength=n)
    order = np.lexsort((pair_df, owner))  # by term, then items: each term's last is its top
    last = order[np.r_[owner[order][1:] != owner[order][:-1], True]] if len(order) else order
    top, main = np.zeros(n), np.full(n, -1)
    top[owner[last]] = pair_df[last]
    main[owner[last]] = pairs[last] % (len(counts.venues) + 1)
    active_df = matrix[:, base:].sum(axis=1)
    expected = None
    if settings.venue_mix and counts.venue_totals is not None and n:
        expected = _venue_mix_offsets(inverse, counts.venue[mask], df, n,
                                      window_venue_months(counts.venue_totals, start, cutoff),
                                      n_periods, p, base, float(totals.sum()))
    return Window(cutoff, start, base, terms, matrix, totals, term_months.max(axis=1), venues,
                  np.divide(top, active_df, out=np.ones(n), where=active_df > 0), main,
                  int(np.unique(counts.venue[mask]).size), expected)


#: A venue whose share of the stream differs by more than this factor between a window's
#: base and its active part did not cover the window evenly (a category a dump starts or
#: stops harvesting, a feed added to or dropped from the sources): an order of magnitude,
#: which a field's own growth over a two-year window does not reach.
VENUE_SHIFT = 10.0


def window_venue_months(venue_totals: np.ndarray, start: int, cutoff: int) -> np.ndarray:
    """[venues x (cutoff - start)] items per venue and month of a window (window_bounds:
    start >= 0), zeros for the months the counts do not reach (a run some months after
    a stream's newest item)."""
    part = venue_totals[:, start:cutoff]
    return np.pad(part, ((0, 0), (0, cutoff - start - part.shape[1])))


def shifted_venues(venue_months: np.ndarray, base_months: int) -> np.ndarray:
    """Per venue ([venues x months] items of the window), did its share of the stream
    change more than VENUE_SHIFT-fold between the base and the active months? A venue
    with fewer than VENUE_SHIFT items on its larger side never counts: a tenfold change
    that small cannot be told from chance (and an empty venue changed nothing)."""
    base = venue_months[:, :base_months].sum(axis=1)
    active = venue_months[:, base_months:].sum(axis=1)
    base_share = (base + 0.5) / max(base.sum(), 1.0)
    active_share = (active + 0.5) / max(active.sum(), 1.0)
    ratio = active_share / base_share
    shifted = (ratio > VENUE_SHIFT) | (ratio < 1.0 / VENUE_SHIFT)
    return shifted & (np.maximum(base, active) >= VENUE_SHIFT)


def shifted_venue_names(counts: TermCounts, cutoff_month: str, settings: TermSettings
                        ) -> list[str]:
    """The venues of the window before `cutoff_month` that shifted (shifted_venues),
    most items first: what a report names beside the list when venue_mix is on."""
    if not settings.venue_mix or counts.venue_totals is None:
        return []
    cutoff = counts.month_index(cutoff_month)
    start, active_start, _ = window_bounds(cutoff, settings)
    months = window_venue_months(counts.venue_totals, start, cutoff)
    shifted = shifted_venues(months, active_start - start)
    order = np.argsort(-months.sum(axis=1), kind="stable")
    return [counts.venues[v] for v in order if shifted[v]]


def _venue_mix_offsets(term: np.ndarray, venue: np.ndarray, df: np.ndarray, n: int,
                       venue_months: np.ndarray, n_periods: int, p: int, base: int,
                       stream_items: float) -> np.ndarray | None:
    """[terms x periods] the series each term would have if it kept its share of each
    of its venues: a term's items in a venue that did not cover the window evenly
    (shifted_venues) follow that venue's items; its other items follow the other
    venues' items together, i.e. the stream without the shifted venues. A word that is
    everyday in a category the corpus starts to harvest then shows no growth, while a
    field growing inside the stream is judged against the stream, as without the rule.
    Each term's row is scaled to the window's `stream_items`, the scale of the stream's
    totals the offsets replace (the trend and ratio floor an offset at one item). None
    when no venue shifted."""
    from scipy.sparse import coo_matrix

    shifted = shifted_venues(venue_months, base * p)
    if not shifted.any():
        return None
    per_period = venue_months.reshape(len(venue_months), n_periods, p).sum(axis=2)
    steady = per_period[~shifted].sum(axis=0)
    exposure = np.where(shifted[:, None], per_period, steady[None, :])
    exposure = exposure / np.maximum(exposure.sum(axis=1, keepdims=True), 1.0)
    mix = coo_matrix((df, (term, venue)), shape=(n, len(per_period))).tocsr()
    expected = np.asarray(mix @ exposure)
    return expected * (stream_items / np.maximum(expected.sum(axis=1, keepdims=True), 1e-12))


def candidates(window: Window, settings: TermSettings) -> np.ndarray:
    """Rows of the window that are neither too rare nor too common (the baselines' pool)."""
    base = window.base_periods
    active_df = window.counts[:, base:].sum(axis=1)
    base_share = window.counts[:, :base].sum(axis=1) / max(window.totals[:base].sum(), 1.0)
    return np.flatnonzero((active_df >= settings.min_active_df) &
                          (window.month_max >= settings.min_month_df) &
                          (base_share <= settings.max_base_share))


def window_figures(window: Window, settings: TermSettings) -> dict[str, np.ndarray]:
    """The figures behind the criteria for every candidate row of the window (`rows`,
    indices into it): shares per 10,000 items, the share ratio's interval, the Poisson
    trend and its lower bound, the EScore parts, the trailing year's share and the log
    share still to go before emerging."""
    rows = candidates(window, settings)
    base, k = window.base_periods, settings.active_periods
    c = window.counts[rows]
    totals = window.totals
    shares = 1e4 * c / np.maximum(totals, 1.0)
    half = base + k // 2
    late, early = c[:, half:].sum(axis=1), c[:, :half].sum(axis=1)
    offsets = totals if window.expected is None else window.expected[rows]
    ratio, low, high = rate_ratio_interval(late, offsets[..., half:].sum(axis=-1), early,
                                           offsets[..., :half].sum(axis=-1),
                                           settings.confidence)
    escores, trend, recent, slope = escore(shares[:, base:])
    years = np.arange(c.shape[1]) * settings.period_months / 12
    growth, growth_se, _ = poisson_trend(c, offsets, years)
    year = max(1, 12 // settings.period_months)
    # the trailing year's share (not `recent`, the EScore's recent trend above)
    last_year = (c[:, -year:].sum(axis=1) + 0.5) / max(totals[-year:].sum(), 1.0)
    return {
        "rows": rows, "counts": c,
        "base_share": 1e4 * c[:, :base].sum(axis=1) / max(totals[:base].sum(), 1.0),
        "active_share": 1e4 * c[:, base:].sum(axis=1) / max(totals[base:].sum(), 1.0),
        "late": late, "early": early, "ratio": ratio, "low": low, "high": high,
        "present": (c[:, base:] > 0).sum(axis=1),
        "escore": escores, "active_trend": trend, "recent_trend": recent, "slope": slope,
        "growth": growth, "growth_se": growth_se,
        "lower": growth - z_score(settings.confidence) * growth_se,
        "last_year": last_year,
        "gap": np.log(settings.emerged_share / last_year),  # log share still to go
    }


def criteria(window: Window, settings: TermSettings, f: dict[str, np.ndarray]
             ) -> dict[str, np.ndarray]:
    """Each criterion's pass mask over the candidate rows of `window_figures`."""
    rows, base_share, active_share = f["rows"], f["base_share"], f["active_share"]
    lower = f["lower"]
    return {
        "novelty": (base_share <= settings.novelty_ratio * active_share) &
                   (base_share <= 1e4 * settings.novelty_fraction * settings.emerged_share),
        "persistence": f["present"] >= settings.min_active_periods,
        "community": (window.venues[rows] >= min(settings.min_venues, window.stream_venues)) &
                     ((window.top_venue[rows] <= settings.max_venue_share) |
                      (window.stream_venues < settings.min_venues)),
        "growth": (f["low"] > settings.min_growth) & (lower > 0) &
                  (lower * settings.horizon_years >= settings.min_doublings * np.log(2)),
    }


def score_window(counts: TermCounts, window: Window, settings: TermSettings
                 ) -> list[dict[str, Any]]:
    """Emerging terms of the window, best first, each with its figures and support."""
    f = window_figures(window, settings)
    passes = criteria(window, settings, f)
    rows, c, base, lower, gap = f["rows"], f["counts"], window.base_periods, f["lower"], f["gap"]
    growth, growth_se, last_year = f["growth"], f["growth_se"], f["last_year"]
    z = z_score(settings.confidence)
    projected = settings.horizon_years * lower - gap  # log(projected / emerged share), low
    keep = np.logical_and.reduce(list(passes.values()))
    order, score = _order(settings.rank_by, keep, lower, projected, gap,
                          growth / growth_se, f["escore"])
    out: list[dict[str, Any]] = []
    for i in order:
        t = int(window.terms[rows[i]])
        out.append({
            "term": counts.terms[t], "stream": counts.stream, "score": round(float(score[i]), 4),
            "active_trend": round(float(f["active_trend"][i]), 4),
            "recent_trend": round(float(f["recent_trend"][i]), 4),
            "slope": round(float(f["slope"][i]), 4), "escore": round(float(f["escore"][i]), 4),
            "trend": round(float(growth[i]), 4), "emerged": bool(gap[i] <= 0),
            "recent_share": round(float(last_year[i]), 7),
            "projected_share": round(float(last_year[i] * np.exp(
                settings.horizon_years * max(lower[i], 0.0))), 7),
            "trend_low": round(float(lower[i]), 4),
            "trend_high": round(float(growth[i] + z * growth_se[i]), 4),
            "share_ratio": _num(f["ratio"][i]), "ratio_low": _num(f["low"][i]),
            "ratio_high": _num(f["high"][i]),
            "base_share": round(float(f["base_share"][i]) / 1e4, 7),
            "active_share": round(float(f["active_share"][i]) / 1e4, 7),
            "late_items": int(f["late"][i]), "early_items": int(f["early"][i]),
            "base_items": int(c[i, :base].sum()), "active_items": int(c[i, base:].sum()),
            "active_periods": int(f["present"][i]), "venues": int(window.venues[rows[i]]),
            "top_venue_share": round(float(window.top_venue[rows[i]]), 4),
            "main_venue": counts.venues[window.main_venue[rows[i]]]
            if window.main_venue[rows[i]] >= 0 else None,
            "series": [int(v) for v in c[i]],
        })
    ranked = spread_venues(fold_nested(out, settings.nested_overlap), settings.venue_slots,
                           settings.top)
    if settings.young_slots > 0:
        from scanner.terms.young import interleave, young_rows

        young = fold_nested(young_rows(counts, window, settings), settings.nested_overlap)
        ranked = interleave(ranked, young, settings.young_slots, settings.top)
    return ranked


def _order(rank_by: str, keep: np.ndarray, lower: np.ndarray, projected: np.ndarray,
           gap: np.ndarray, z: np.ndarray, escores: np.ndarray
           ) -> tuple[list[int], np.ndarray]:
    """(rows in rank order, the score shown) of the kept rows under `rank_by`."""
    def by(values: np.ndarray, mask: np.ndarray) -> list[int]:
        return [int(i) for i in np.argsort(-values, kind="stable") if mask[i]]

    if rank_by == "blend":  # rising and nearing, taken in turn
        rising, nearing = by(lower, keep), by(projected, keep & (gap > 0))
        order: list[int] = []
        seen: set[int] = set()
        for pair in zip_longest(rising, nearing):
            for i in pair:
                if i is not None and i not in seen:
                    seen.add(i)
                    order.append(i)
        return order, lower
    if rank_by == "projected":
        return by(projected, keep & (gap > 0)), projected
    scores = {"low": lower, "trend": z, "escore": escores}
    if rank_by not in scores:
        raise ValueError(f"rank_by {rank_by!r}: expected blend, low, projected, trend or escore")
    score = scores[rank_by]
    return by(score, keep & (score > 0)), score


def spread_venues(ranked: list[dict[str, Any]], slots: float, top: int
                  ) -> list[dict[str, Any]]:
    """At most `slots` x `top` of the first `top` terms from one main venue; the terms
    held back follow, in their order (1.0: no limit). A panel scans many fields, and
    one field's burst of related terms would otherwise fill the list."""
    if slots >= 1.0:
        return ranked
    limit = max(1, int(slots * top))
    used: dict[Any, int] = {}
    first, held = [], []
    for row in ranked:
        venue = row.get("main_venue")
        if len(first) < top and used.get(venue, 0) < limit:
            used[venue] = used.get(venue, 0) + 1
            first.append(row)
        else:
            held.append(row)
    return first + held


def _num(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), 4)


def _nested(a: dict[str, Any], b: dict[str, Any], overlap: float) -> float:
    """The smaller item count over the larger when one term's words sit inside the
    other's and that share reaches `overlap`; else 0."""
    x, y = f" {a['term']} ", f" {b['term']} "
    if _CJK.search(x + y):  # Chinese words have no spaces between them
        x, y = x.strip(), y.strip()
    if x not in y and y not in x:
        return 0.0
    small, large = sorted((a["active_items"], b["active_items"]))
    return small / large if large and small / large >= overlap else 0.0


def fold_nested(ranked: list[dict[str, Any]], overlap: float,
                same: float = 0.8) -> list[dict[str, Any]]:
    """Fold a term whose words sit inside (or around) a better-ranked kept term's when
    the smaller of the two holds at least `overlap` of the larger's active items; when
    they hold nearly the same items (`same`), the longer, more specific term stays, at
    the better one's rank, and takes in every kept term nested in it."""
    kept: list[dict[str, Any]] = []
    for row in ranked:
        k = next((k for k, better in enumerate(kept) if _nested(row, better, overlap)), None)
        if k is None:
            kept.append(row)
            continue
        better = kept[k]
        if len(row["term"]) > len(better["term"]) and _nested(row, better, overlap) >= same:
            row = {**row, "folded": [*better.get("folded", []), better["term"]]}
            others = [j for j, t in enumerate(kept) if j != k and _nested(row, t, same)]
            for j in others:
                row["folded"] += [kept[j]["term"], *kept[j].get("folded", [])]
            kept[k] = row
            kept = [t for j, t in enumerate(kept) if j not in others]
        else:
            better.setdefault("folded", []).append(row["term"])
    return kept


def rank_terms(counts: TermCounts, cutoff_month: str, settings: TermSettings
               ) -> list[dict[str, Any]]:
    """Emerging terms of one stream from the months before `cutoff_month` (YYYY-MM)."""
    return score_window(counts, build_window(counts, counts.month_index(cutoff_month),
                                             settings), settings)
