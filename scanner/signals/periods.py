"""The signals' period, chosen from the data when the config leaves it to `auto`.

The finest of month, quarter, half and year at which the largest stream (item kind)
has at least MIN_ITEMS_PER_PERIOD items in a typical (median) period with items, and
spans at least MIN_PERIODS periods up to the run date; the series then covers that
largest stream's span, at most MAX_PERIODS periods. A configured period that the data
cannot fill (no stream spans half of the configured periods) is kept but warned about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from scanner.signals.ranking import fold_period, period_sequence

PERIODS = ("month", "quarter", "half", "year")
MIN_ITEMS_PER_PERIOD = 30
MIN_PERIODS = 6
MAX_PERIODS = 12
MONTHS_PER = {"month": 1, "quarter": 3, "half": 6, "year": 12}


@dataclass
class PeriodChoice:
    """The period and series length a run's signals use, and why."""

    period: str
    periods: int
    chosen: str  # "auto" or "config"
    reason: str
    warnings: list[str] = field(default_factory=list)
    streams: dict[str, dict[str, object]] = field(default_factory=dict)


def _span(first_month: str, run_month: str, period: str) -> int:
    """Periods from the one holding first_month to the one holding run_month."""
    per = MONTHS_PER[period]

    def index(month: str) -> int:
        return int(month[:4]) * (12 // per) + (int(month[5:7]) - 1) // per

    return max(index(run_month) - index(first_month), 0) + 1


def choose_period(month_totals: Iterable[tuple[str, str, int]], run_date: str,
                  period: str = "auto", periods: int = 0) -> PeriodChoice:
    """The period for a run from (month, kind, items) totals up to the run date."""
    run_month = run_date[:7]
    by_kind: dict[str, dict[str, int]] = defaultdict(dict)
    for month, kind, n in month_totals:
        if month and month <= run_month and n > 0:
            by_kind[kind][month] = by_kind[kind].get(month, 0) + n
    streams: dict[str, dict[str, object]] = {
        kind: {"first": min(months), "last": max(months), "items": sum(months.values())}
        for kind, months in sorted(by_kind.items())}

    def fill(p: str, kind: str) -> tuple[int, float]:
        folded: dict[str, int] = defaultdict(int)
        for month, n in by_kind[kind].items():
            folded[fold_period(month, p)] += n
        span = _span(str(streams[kind]["first"]), run_month, p)
        return span, float(np.median(list(folded.values()))) if folded else 0.0

    late = [k for k, info in streams.items()
            if _span(str(info["last"]), run_month, "month") > 2]
    stale = (f"the run date {run_date} is after every stream's newest item "
             f"({max(str(streams[k]['last']) for k in late)}): the last periods are empty "
             "and every series looks like a decline" if late and len(late) == len(streams)
             else "")
    if period != "auto":
        n = periods or 10
        choice = PeriodChoice(period, n, "config", f"[signals] period = {period!r}")
        if streams and max(min(fill(period, k)[0], n) for k in streams) < n / 2:
            choice.warnings.append(
                f"the configured period {period!r} x {n} reaches back further than the data: "
                f"no stream spans half of those periods, so their series start with zeros; "
                f"leave period = 'auto' or choose a finer period")
        choice.streams = streams
        choice.warnings += [stale] if stale else []
        return choice
    if not streams:
        return PeriodChoice("month", periods or MIN_PERIODS, "auto", "no items yet",
                            streams=streams)
    largest = max(streams, key=lambda k: int(streams[k]["items"]))  # type: ignore[arg-type]
    for p in PERIODS:
        span, median = fill(p, largest)
        if median >= MIN_ITEMS_PER_PERIOD and span >= MIN_PERIODS:
            n = periods or min(span, MAX_PERIODS)
            return PeriodChoice(p, n, "auto", (
                f"{p}: the largest stream ({largest}) has a median of {median:.0f} items a "
                f"{p} over {span} {p}s"), [stale] if stale else [], streams)
    span, median = fill("year", largest)
    n = periods or max(min(span, MAX_PERIODS), 3)
    return PeriodChoice("year", n, "auto", (
        f"year: too few items for finer periods (largest stream {largest}: median "
        f"{median:.0f} a year over {span} years)"),
        warnings=[f"the data are thin: {streams[largest]['items']} {largest} items in all"],
        streams=streams)


def run_periods(choice: PeriodChoice, run_date: str) -> list[str]:
    """The period labels of the series, oldest first."""
    return period_sequence(run_date[:7], choice.period, choice.periods)
