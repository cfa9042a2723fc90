"""Term windows fitted to a young stream's history (pure).

The configured windows (quarters: two years active after up to a year of base) need
36 months of a stream before the cut-off to be whole; a store started by a nightly
deployment, or backfilled with a few months, listed no emerging term for 27 months and
then ranked on a base of a single quarter. With `fit_window` on (the default), a stream
with less history than the whole configured span is scored on monthly periods over the
history it has: the first 30% of its months the base (at least one), the rest the active
window (at least 4), persistence asking for the same fraction of active periods as the
configured rule (4 of 8: half). Every other criterion stays as configured; a short
window's trend has a wide interval, so few terms pass the growth criteria, which is what
a few months can support. A base too small to judge novelty at all is skipped
(`thin_base_reason`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from scanner.config import TermSettings
from scanner.signals.indicators import thirds

#: Fewest active months of a fitted window (the configuration's own minimum).
MIN_ACTIVE_MONTHS = 4


@dataclass(frozen=True)
class FittedWindow:
    """The settings to score a stream with, and a note when they are not the configured
    ones (shown in the report beside the stream's terms)."""

    settings: TermSettings
    note: str = ""


def months_needed(settings: TermSettings) -> int:
    """Months of history the configured window needs: the active window and one base period."""
    return settings.period_months * (settings.active_periods + 1)


def full_span(settings: TermSettings) -> int:
    """Months of the configured windows with their whole base."""
    return settings.period_months * (settings.active_periods + settings.base_periods)


def base_periods_in(settings: TermSettings, months_before_active: int) -> int:
    """Base periods of a window whose active part starts `months_before_active` months
    into the stream: the configured number, or the whole periods there are (the one rule
    build_window and the thin-base check share)."""
    return min(settings.base_periods, months_before_active // settings.period_months)


def fit_window(settings: TermSettings, history_months: int) -> FittedWindow | None:
    """The window for a stream with `history_months` months before the cut-off: the
    configured one when its whole span fits (or fitting is off and one base period
    fits), else a monthly one over the history; None when neither fits (the caller skips
    the stream with a reason)."""
    if history_months >= full_span(settings) or (
            not settings.fit_window and history_months >= months_needed(settings)):
        return FittedWindow(settings)
    if not settings.fit_window:
        return None
    base_slice, active_slice = thirds(history_months)
    base, active = base_slice.stop, active_slice.stop - active_slice.start
    if active < MIN_ACTIVE_MONTHS:
        return None
    persistence = max(1, math.ceil(active * settings.min_active_periods
                                   / settings.active_periods))
    fitted = replace(settings, period_months=1, active_periods=active, base_periods=base,
                     min_active_periods=persistence)
    return FittedWindow(fitted, (
        f"monthly windows: {active} active months after a {base}-month base, items in "
        f"{persistence} of them ({history_months} months of history; the configured "
        f"windows need {full_span(settings)})"))


def least_months(settings: TermSettings) -> int:
    """The shortest history any window fits."""
    if not settings.fit_window:
        return months_needed(settings)
    return next((n for n in range(2, full_span(settings) + 1)
                 if fit_window(settings, n) is not None), full_span(settings))


def short_history_reason(history_months: int, settings: TermSettings) -> str:
    """Why a stream too young for any window is not ranked."""
    months = "1 month" if history_months == 1 else f"{history_months} months"
    return (f"{months} of history before the cut-off (at least "
            f"{least_months(settings)} needed)")


def least_base_items(settings: TermSettings) -> int:
    """Items the base window needs before novelty can be judged: novelty asks for a base
    share under novelty_fraction x emerged_share (0.05%), which a base of fewer items
    cannot tell from never occurring (one item in 832 is already 0.12%). A bound of 0
    asks for absence, which any base can show."""
    bound = settings.novelty_fraction * settings.emerged_share
    return math.ceil(1.0 / bound) if bound > 0 else 0


def thin_base_reason(base_items: int, settings: TermSettings) -> str:
    """Why a stream whose base window is too small to judge novelty is not ranked ("" when
    it is ranked): every word absent from a small base would read as new."""
    least = least_base_items(settings)
    if base_items >= least:
        return ""
    bound = settings.novelty_fraction * settings.emerged_share
    return (f"its base window holds {base_items} items; telling a share under {bound:.2%} "
            f"(novelty's bound) from none needs {least}")
