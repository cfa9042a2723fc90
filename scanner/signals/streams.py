"""Per-stream indicators: papers, news and policy are different evidence, so each stream's
share is computed against that stream's own totals, over the periods that stream covers,
and an entity's composite combines its streams.

A stream enters an entity's composite when it covers at least MIN_STREAM_PERIODS periods
(from its first period with items), has items in the active window of those periods at
no less than STOPPED_RATE of its base window's rate per period (a stream that stopped
before it, as a news dump ending a year before the papers, has no share to judge
there) and holds MIN_STREAM_ITEMS items overall; thinner streams are
shown with their figures and the reason they were left out. Share growth combines
across streams by inverse-variance weighting of the log ratios (times the stream's
configured weight), so a stream with three items cannot outvote one with three hundred;
the interval is that of the combined estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from scanner.signals.forecast import share_trend, trend_figures
from scanner.signals.indicators import (
    emergence_score,
    kleinberg_bursts,
    persistence,
    share_growth,
    thirds,
)

#: Periods (from its first with items) a stream must cover to be judged.
MIN_STREAM_PERIODS = 4

#: Items a stream must hold over its periods to be judged.
MIN_STREAM_ITEMS = 30

#: A stream whose items per period in the active window fall under this fraction of its
#: base window's has (nearly) stopped: a share of a trickle is not evidence of a trend
#: (one item of a stopped news stream once read "x32 (4.05-253)").
STOPPED_RATE = 0.1

Z90 = 1.645


def _rate(totals: np.ndarray) -> float:
    """Items per period."""
    return float(totals.sum()) / max(len(totals), 1)


@dataclass(frozen=True)
class StreamCoverage:
    """What one stream covers of a run's periods."""

    kind: str
    first: int  # index of its first period with items (len(periods) when none)
    periods: int  # periods from that one to the last
    items: int  # all items of the stream over those periods
    usable: bool
    reason: str


def stream_coverage(totals: Mapping[str, np.ndarray]) -> dict[str, StreamCoverage]:
    """Per stream (item kind): its span of the run's periods and whether it can be judged."""
    out = {}
    for kind, total in sorted(totals.items()):
        total = np.asarray(total, dtype=float)
        covered = np.flatnonzero(total > 0)
        first = int(covered[0]) if len(covered) else len(total)
        periods, items = len(total) - first, int(total.sum())
        reason = ""
        own = total[first:]  # the periods from the stream's first with items
        base, active = thirds(periods) if periods else (slice(0, 0), slice(0, 0))
        base_rate, active_rate = _rate(own[base]), _rate(own[active])
        if periods < MIN_STREAM_PERIODS:
            reason = (f"covers {periods} of {len(total)} periods "
                      f"(needs {MIN_STREAM_PERIODS})")
        elif active_rate == 0:  # it stopped: a share of nothing is no figure
            reason = (f"no items in its active window (the last {active.stop - active.start} "
                      f"of {len(total)} periods; its newest are in period "
                      f"{int(covered[-1]) + 1})")
        elif active_rate < STOPPED_RATE * base_rate:
            reason = (f"its items fall from {base_rate:.0f} to {active_rate:.1f} per period "
                      "in its active window: the source nearly stopped")
        elif items < MIN_STREAM_ITEMS:
            reason = f"{items} items in its periods (needs {MIN_STREAM_ITEMS})"
        out[kind] = StreamCoverage(kind, first, periods, items, not reason, reason)
    return out


def stream_figures(counts: np.ndarray, totals: np.ndarray, horizon: int = 0,
                   half_life: float = 0.0) -> dict[str, Any]:
    """One stream's figures over the periods it covers (counts and totals from there);
    `horizon`: the periods its trend forecasts (0: half of them); `half_life`: of the
    trend's discount of older periods (0: the horizon; inf: none)."""
    base, active = thirds(len(totals))
    growth = share_growth(counts, totals, base, active)
    escore = emergence_score(counts, totals)
    bursts = kleinberg_bursts(np.round(counts), totals)
    log_se = (math.log(growth.high) - math.log(growth.low)) / (2 * Z90)
    return {
        "items": int(counts.sum()), "items_active": int(counts[active].sum()),
        "total_active": int(totals[active].sum()), "total_base": int(totals[base].sum()),
        "items_base": int(counts[base].sum()),
        "share_active": round(float(counts[active].sum() / max(totals[active].sum(), 1)), 6),
        "share_base": round(float(counts[base].sum() / max(totals[base].sum(), 1)), 6),
        # six decimals: a composite of one stream then shows the very same figures
        "growth": round(growth.ratio, 6), "growth_low": round(growth.low, 6),
        "growth_high": round(growth.high, 6), "log_se": round(log_se, 6),
        "log_growth": round(math.log(growth.ratio), 6),  # combine_streams' input, 6 decimals
        "escore": round(escore.escore, 3), "emergence_candidate": escore.candidate,
        "bursting_now": bool(bursts[-1]) if len(bursts) else False,
        "burst_periods": int(bursts.sum()),
        "persistence": round(persistence(counts[active]), 3),
        "series": [round(float(c), 2) for c in counts],
        "totals": [int(t) for t in totals],
        "trend": trend_figures(share_trend(counts, totals, horizon, half_life=half_life)),
    }


def combine_streams(entity_counts: Mapping[str, np.ndarray], totals: Mapping[str, np.ndarray],
                    coverage: Mapping[str, StreamCoverage],
                    weights: Mapping[str, float] | None = None, horizon: int = 0,
                    half_life: float = 0.0) -> dict[str, Any]:
    """Per-stream figures and the composite over the usable streams (`horizon` and
    `half_life` of each stream's share trend: stream_figures).

    Returns the composite's growth (ratio, 90% interval), EScore, persistence, bursting,
    each stream's share trend (its forecast needs the whole list: forecast.list_forecasts),
    items in the active windows (one count, shared by score, explanation and evidence),
    `streams` with each stream's figures, and `streams_used`.
    """
    weights = weights or {}
    streams: dict[str, dict[str, Any]] = {}
    used: list[str] = []
    for kind, cov in coverage.items():
        counts = np.asarray(entity_counts.get(kind, np.zeros(len(totals[kind]))), dtype=float)
        if cov.periods == 0:
            continue
        figures = stream_figures(counts[cov.first:], np.asarray(totals[kind][cov.first:],
                                                                dtype=float), horizon,
                                 half_life)
        figures["first_period"] = cov.first
        figures["entered"] = cov.usable and weights.get(kind, 1.0) > 0
        figures["left_out"] = "" if figures["entered"] else (
            cov.reason or "its weight is 0 in the config")
        streams[kind] = figures
        if figures["entered"] and figures["items"] > 0:
            used.append(kind)
    if not used:
        used = [k for k in streams if streams[k]["entered"]]
    info = {k: weights.get(k, 1.0) / max(streams[k]["log_se"], 1e-6) ** 2 for k in used}
    total_info = sum(info.values())
    if total_info > 0:
        log_ratio = sum(info[k] * streams[k]["log_growth"] for k in used) / total_info
        se = 1 / math.sqrt(total_info) if total_info else 0.0
        support_w = {k: weights.get(k, 1.0) * streams[k]["items"] for k in used}
        sw = sum(support_w.values()) or 1.0
        escore = sum(support_w[k] * streams[k]["escore"] for k in used) / sw
        persist = sum(support_w[k] * streams[k]["persistence"] for k in used) / sw
    else:
        log_ratio, se, escore, persist = 0.0, 0.0, 0.0, 0.0
    items_active = sum(streams[k]["items_active"] for k in used)
    return {
        "growth": round(math.exp(log_ratio), 6),
        "growth_low": round(math.exp(log_ratio - Z90 * se), 6),
        "growth_high": round(math.exp(log_ratio + Z90 * se), 6),
        "escore": round(escore, 3),
        "persistence": round(persist, 3),
        "bursting_now": any(streams[k]["bursting_now"] for k in used),
        "burst_periods": max((streams[k]["burst_periods"] for k in used), default=0),
        "emergence_candidate": any(streams[k]["emergence_candidate"] for k in used),
        "support": float(items_active),
        "items_active": int(items_active),
        "share_active": round(items_active / max(
            sum(streams[k]["total_active"] for k in used), 1), 6),
        "share_base": round(sum(streams[k]["items_base"] for k in used) / max(
            sum(streams[k]["total_base"] for k in used), 1), 6),
        "streams": streams, "streams_used": used,
    }
