"""Share forecast: an entity's expected share change over the next periods, from a Poisson
trend of its share shrunk toward its neighbours' trend (empirical Bayes).

Why (docs/evaluation.md, issue #17): on the backtests, a topic's share over the last
periods is partly counting noise and bursts, which regress; a ratio of two windows
rewards both. The forecast fits log share = level + slope x period (Poisson, offset log
of the stream's totals, robust to a single period far off the line) over all periods
the stream covers, older periods discounted (half their weight per half-life, by default
the forecast's horizon: a topic that rose and then turned down over the last periods is
not projected up on its window's average direction), shrinks each slope toward the
precision-weighted mean slope of its neighbours (a topic's nearest topics on the map;
for lists without positions, the whole list) by its own standard error (normal-normal
empirical Bayes, the between-entity variance by DerSimonian and Laird's moments), and
compares the share this trend projects for the next `horizon` periods with the share
observed over the last `horizon` periods: a one-period burst sits above its trend line
and is expected to fall back; a steady rise is expected to go on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

#: Items of prior per series (spread over its periods), so an all-zero series is finite.
PRIOR_ITEMS = 0.5


#: Limited translation: a shrunk slope stays within this many of its standard errors of
#: the measured one (Efron and Morris's usual bound, one standard error).
LIMIT = 1.0


#: Tukey's biweight constant (95% efficiency under the model): a period whose Pearson
#: residual exceeds it, in units of the series' robust scale, gets no weight in the trend.
BIWEIGHT_C = 4.685


@dataclass(frozen=True)
class Trend:
    """A robust Poisson trend of one series' share: log share = level + slope x (t - centre)."""

    level: float
    slope: float  # per period
    slope_se: float
    centre: float  # the mean period index
    periods: int
    recent_log_share: float  # log share over the last `horizon` periods (smoothed)
    recent_items: float
    horizon: int
    weights: tuple[float, ...] = ()  # each period's weight in the fit (0: an outlier;
    # older periods discounted by the half-life)
    counts: tuple[float, ...] = ()
    totals: tuple[float, ...] = ()


def share_trend(counts: np.ndarray, totals: np.ndarray, horizon: int = 0,
                iterations: int = 30, half_life: float = math.inf) -> Trend:
    """The robust Poisson trend of counts / totals and the recent share.

    Iteratively reweighted Newton steps on the Poisson likelihood (offset log totals)
    with Tukey's biweight on the Pearson residuals, scaled by their median absolute
    deviation (at least 1, the Poisson scale), from a Theil-Sen start on log share: a
    single period far off the line (a one-period burst) is left out of the trend instead
    of bending it; on an ordinary series every weight stays near 1. `horizon` periods
    (0: half the series, at least one) form the recent window. `half_life` (periods; 0:
    the horizon; inf: none) discounts each older period's likelihood by half per
    half-life, so the trend follows a turn of the last periods instead of the window's
    average direction (a topic that rose and then fell is not projected to rise)."""
    counts = np.asarray(counts, dtype=float)
    totals = np.maximum(np.asarray(totals, dtype=float), 1.0)
    n = len(counts)
    horizon = min(n, horizon or max(1, n // 2))
    half_life = half_life or horizon
    y = counts + PRIOR_ITEMS / max(n, 1)
    x = np.arange(n, dtype=float) - (n - 1) / 2
    log_share = np.log(y / totals)
    i, j = np.triu_indices(n, 1)
    slope = float(np.median((log_share[j] - log_share[i]) / (x[j] - x[i]))) if n > 1 else 0.0
    level = float(np.median(log_share - slope * x)) if n else 0.0
    discount = 0.5 ** ((n - 1 - np.arange(n)) / half_life)
    weights = discount
    for _ in range(iterations):
        mu = np.exp(level + slope * x) * totals
        resid = (y - mu) / np.sqrt(mu)
        scale = max(1.0, 1.4826 * float(np.median(np.abs(resid - np.median(resid)))))
        u = resid / (BIWEIGHT_C * scale)
        weights = discount * np.where(np.abs(u) < 1, (1 - u ** 2) ** 2, 0.0)
        wm = weights * mu
        g_a, g_b = float((weights * (y - mu)).sum()), float((weights * (y - mu) * x).sum())
        h_aa, h_ab, h_bb = float(wm.sum()), float((wm * x).sum()), float((wm * x * x).sum())
        det = max(h_aa * h_bb - h_ab ** 2, 1e-12)
        level += (h_bb * g_a - h_ab * g_b) / det
        slope = min(max(slope + (h_aa * g_b - h_ab * g_a) / det, -20.0), 20.0)
    wm = weights * np.exp(level + slope * x) * totals
    h_aa, h_ab, h_bb = float(wm.sum()), float((wm * x).sum()), float((wm * x * x).sum())
    slope_se = math.sqrt(h_aa / max(h_aa * h_bb - h_ab ** 2, 1e-12)) if n > 1 else 1e3
    recent = slice(n - horizon, n)
    recent_items = float(counts[recent].sum())
    recent_log = math.log((recent_items + PRIOR_ITEMS) / (float(totals[recent].sum()) + 1.0))
    return Trend(level, slope, slope_se, (n - 1) / 2, n, recent_log, recent_items, horizon,
                 tuple(weights.round(4).tolist()), tuple(counts.tolist()),
                 tuple(totals.tolist()))


def shrink_slopes(slopes: Sequence[float], ses: Sequence[float],
                  neighbours: Sequence[np.ndarray] | None = None
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """(shrunk slopes, their posterior standard errors, the between-entity sd tau).

    Each slope moves toward its prior mean by se^2 / (se^2 + tau^2) (normal-normal
    empirical Bayes). The prior is the precision-weighted mean slope of the whole list
    (tau^2 by DerSimonian and Laird's moments), or with `neighbours` (per entity, the
    indices of its nearest entities, itself left out: nearest_neighbours) two levels:
    the entity's region (its neighbours' weighted mean m_i, of noise variance v_i =
    1/W_i + tau^2 c_i, W_i their total weight, c_i their squared weights' sum over W_i^2)
    around the list's mean g, and the entity around its region. tau^2 is the moment
    estimate of the spread around the regions (E[Q] = n + sum w_i / W_i + tau^2
    sum w_i (1 + c_i)), tau_r^2 that of the regions around g (the mean of (m_i - g)^2 -
    v_i); the prior is g + l_i (m_i - g) with l_i = tau_r^2 / (tau_r^2 + v_i), so a region
    that differs from the list pulls its small topics toward its trend, and regions
    that differ only by noise leave the list's prior. No slope moves more than LIMIT
    standard errors (limited translation). Under three entities nothing is shrunk."""
    b, se = np.asarray(slopes, dtype=float), np.maximum(np.asarray(ses, dtype=float), 1e-9)
    if len(b) < 3:
        return b, se, math.inf
    w = 1 / se ** 2
    mean = float((w * b).sum() / w.sum())
    if neighbours is None:
        q = float((w * (b - mean) ** 2).sum())
        tau2 = max((q - (len(b) - 1)) / float(w.sum() - (w ** 2).sum() / w.sum()), 1e-8)
        prior, spread2 = np.full(len(b), mean), np.full(len(b), tau2)
    else:
        total = np.array([float(w[nb].sum()) for nb in neighbours])
        region = np.array([float((w[nb] * b[nb]).sum()) for nb in neighbours]) / total
        squares = np.array([float((w[nb] ** 2).sum()) for nb in neighbours]) / total ** 2
        q = float((w * (b - region) ** 2).sum())
        tau2 = max((q - len(b) - float((w / total).sum())) / float((w * (1 + squares)).sum()),
                   1e-8)
        noise = 1 / total + tau2 * squares  # of each region's mean
        tau_r2 = max(float(np.mean((region - mean) ** 2 - noise)), 0.0)
        pull = tau_r2 / (tau_r2 + noise)
        prior = mean + pull * (region - mean)
        spread2 = tau2 + tau_r2 * noise / (tau_r2 + noise)  # of a slope around its prior
    keep = spread2 / (spread2 + se ** 2)
    # limited translation (Efron and Morris 1972): no slope moves more than LIMIT of its
    # own standard errors, so one topic far off the normal prior (a steady doubling among
    # flat topics) keeps most of a trend it measured well
    shrunk = np.clip(prior + keep * (b - prior), b - LIMIT * se, b + LIMIT * se)
    return shrunk, np.sqrt(keep) * se, math.sqrt(tau2)


def nearest_neighbours(positions: np.ndarray, k: int = 0) -> list[np.ndarray]:
    """Per row of `positions` (e.g. topic centroids), the indices of its k most
    cosine-similar other rows; k 0: the square root of the number of rows (at least 3,
    at most all the others), a k-nearest-neighbour rule of thumb, not a fitted figure."""
    n = len(positions)
    k = min(max(k or round(math.sqrt(n)), 3), n - 1)
    unit = positions / np.maximum(np.linalg.norm(positions, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    return list(np.argsort(-sims, axis=1, kind="stable")[:, :k])


def _neighbours(positions: Sequence[np.ndarray | None]) -> list[np.ndarray] | None:
    """nearest_neighbours among the rows that have a position; a row without one takes
    every other row (the list's prior); None (the list's prior for all) when fewer than
    four rows have one."""
    placed = [i for i, p in enumerate(positions) if p is not None]
    if len(placed) < 4:
        return None
    near = nearest_neighbours(np.stack([positions[i] for i in placed]))
    out = [np.delete(np.arange(len(positions)), i) for i in range(len(positions))]
    for row, nb in zip(placed, near, strict=True):
        out[row] = np.asarray(placed)[nb]
    return out


def forecast(trend: Trend, slope: float, slope_se: float) -> tuple[float, float]:
    """(expected log share change, its standard error): the share the (shrunk) trend
    projects for the next `horizon` periods over the share of the last `horizon`. The
    level is refitted for the shrunk slope, with the trend's period weights."""
    ahead = (trend.periods - 1 + (trend.horizon + 1) / 2) - trend.centre
    level = trend.level
    if trend.counts:
        x = np.arange(trend.periods, dtype=float) - trend.centre
        w = np.asarray(trend.weights, dtype=float)
        y = np.asarray(trend.counts, dtype=float) + PRIOR_ITEMS / trend.periods
        expected = (w * np.asarray(trend.totals, dtype=float) * np.exp(slope * x)).sum()
        if expected > 0 and (w * y).sum() > 0:
            level = math.log(float((w * y).sum() / expected))
    change = level + slope * ahead - trend.recent_log_share
    se = math.sqrt((slope_se * ahead) ** 2 + 1 / (trend.recent_items + PRIOR_ITEMS))
    return change, se


def trend_figures(trend: Trend) -> dict[str, Any]:
    """A trend as plain numbers (stored with the indicators)."""
    return {k: list(v) if isinstance(v, tuple) else round(float(v), 6)
            for k, v in asdict(trend).items()}


def trend_from_figures(figures: dict[str, Any]) -> Trend:
    """The Trend stored by trend_figures."""
    ints, tuples = ("periods", "horizon"), ("weights", "counts", "totals")
    return Trend(**{k: int(v) if k in ints else tuple(v) if k in tuples else float(v)
                    for k, v in figures.items()})


def list_forecasts(facts: Sequence[dict[str, Any]], weights: dict[str, float] | None = None,
                   z: float = 1.645, positions: Sequence[np.ndarray | None] | None = None
                   ) -> None:
    """Add each entity's forecast to its facts (in place), per stream and combined.

    Per stream, the slopes of the entities whose composite that stream entered are shrunk
    together, each toward its nearest neighbours' among them when `positions` (one vector
    per fact, e.g. a topic's centroid; None for a fact without one) are given, else
    toward the list's; an entity's
    streams combine by inverse variance times the stream's weight (as share growth does).
    Sets `forecast` (expected share ratio), `forecast_low` and `forecast_high` (90%),
    `trend_slope` (shrunk, per period), `forecast_periods` and `forecast_prior`
    ("neighbours" or "list")."""
    weights = weights or {}
    kinds = sorted({k for f in facts for k in f.get("streams", {})})
    for kind in kinds:
        at = [i for i, f in enumerate(facts)
              if kind in f.get("streams", {}) and "trend" in f["streams"][kind]]
        rows = [facts[i] for i in at]
        trends = [trend_from_figures(f["streams"][kind]["trend"]) for f in rows]
        near = _neighbours([positions[i] for i in at]) if positions is not None else None
        slopes, ses, _ = shrink_slopes([t.slope for t in trends], [t.slope_se for t in trends],
                                       near)
        for f, trend, slope, se in zip(rows, trends, slopes, ses, strict=True):
            change, change_se = forecast(trend, float(slope), float(se))
            f["streams"][kind].update(forecast=round(math.exp(change), 4),
                                      forecast_log=round(change, 5),
                                      forecast_se=round(change_se, 5),
                                      trend_slope=round(float(slope), 5),
                                      forecast_prior="neighbours" if near else "list")
    for f in facts:
        used = [k for k in f.get("streams_used", []) if "forecast_log" in f["streams"][k]]
        info = {k: weights.get(k, 1.0) / max(f["streams"][k]["forecast_se"], 1e-6) ** 2
                for k in used}
        total = sum(info.values())
        if total <= 0:
            change, se, slope, horizon = 0.0, 0.0, 0.0, 0
        else:
            change = sum(info[k] * f["streams"][k]["forecast_log"] for k in used) / total
            se = 1 / math.sqrt(total)
            slope = sum(info[k] * f["streams"][k]["trend_slope"] for k in used) / total
            horizon = max(int(f["streams"][k]["trend"]["horizon"]) for k in used)
        prior = "neighbours" if any(f["streams"][k].get("forecast_prior") == "neighbours"
                                    for k in used) else "list"
        f.update(forecast_prior=prior, forecast=round(math.exp(change), 4),
                 forecast_low=round(math.exp(change - z * se), 4),
                 forecast_high=round(math.exp(change + z * se), 4),
                 forecast_log=round(change, 5), trend_slope=round(slope, 5),
                 forecast_periods=horizon)
