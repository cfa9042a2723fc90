"""Term windows fitted to a young stream's history (pure).

The configured windows (quarters: two years active after up to a year of base) need
27 months of a stream before the cut-off; a store started by a nightly deployment, or
backfilled with a few months, would list no emerging term for two years. With
`fit_window` on (the default), such a stream is scored on monthly periods over the
history it has: the first 30% of its months the base (at least one), the rest the active
window (at least 4), persistence asking for the same fraction of active periods as the
configured rule (4 of 8: half). Every other criterion stays as configured; a short
window's trend has a wide interval, so few terms pass the growth criteria, which is what
a few months can support.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from scanner.config import TermSettings

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


def fit_window(settings: TermSettings, history_months: int) -> FittedWindow | None:
    """The window for a stream with `history_months` months before the cut-off: the
    configured one when it fits, else (with `fit_window`) a monthly one over the
    history; None when not even that fits (the caller skips the stream with a reason)."""
    need = months_needed(settings)
    if history_months >= need:
        return FittedWindow(settings)
    if not settings.fit_window:
        return None
    span = min(history_months, (settings.active_periods + settings.base_periods)
               * settings.period_months)
    base, active = _split(span)
    if active < MIN_ACTIVE_MONTHS:
        return None
    persistence = max(1, math.ceil(active * settings.min_active_periods
                                   / settings.active_periods))
    fitted = replace(settings, period_months=1, active_periods=active, base_periods=base,
                     min_active_periods=persistence)
    return FittedWindow(fitted, (
        f"monthly windows: {active} active months after a {base}-month base, items in "
        f"{persistence} of them ({history_months} months of history; the configured "
        f"windows need {need})"))


def _split(months: int) -> tuple[int, int]:
    """(base, active) months of a fitted window: the first 30% (at least one) the base,
    as the signals' windows are split (scanner.signals.indicators.thirds)."""
    base = max(1, round(0.3 * months))
    return base, months - base


def least_months(settings: TermSettings) -> int:
    """The shortest history any window fits."""
    if not settings.fit_window:
        return months_needed(settings)
    return next(n for n in range(2, months_needed(settings) + 1)
                if _split(n)[1] >= MIN_ACTIVE_MONTHS)


def short_history_reason(history_months: int, settings: TermSettings) -> str:
    """Why a stream too young for any window is not ranked."""
    least = least_months(settings)
    return (f"{history_months} months of history before the cut-off (at least {least} "
            "needed)")


def least_base_items(settings: TermSettings) -> int:
    """Items the base window needs before novelty can be judged: novelty asks for a base
    share under novelty_fraction x emerged_share (0.05%), which a base of fewer items
    cannot tell from never occurring (one item in 832 is already 0.12%)."""
    return math.ceil(1.0 / (settings.novelty_fraction * settings.emerged_share))


def thin_base_reason(base_items: int, settings: TermSettings) -> str:
    """Why a stream whose base window is too small to judge novelty is not ranked ("" when
    it is ranked): every word absent from a small base would read as new."""
    least = least_base_items(settings)
    if base_items >= least:
        return ""
    bound = settings.novelty_fraction * settings.emerged_share
    return (f"its base window holds {base_items} items; telling a share under {bound:.2%} "
            f"(novelty's bound) from none needs {least}")
