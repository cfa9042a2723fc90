"""Young terms: criteria for a term born inside the window, while it has a few items (pure).

The main criteria (scanner.terms.emergence) need 8 items in the two-year active window,
items in half of its quarters and a trend whose lower bound doubles the share: a term
first used a year ago cannot pass them whatever its course, so the fast risers
(generative adversarial networks: from the first paper to 0.1% of arXiv in 30 months)
are listed only months before they cross. This track judges such a term against its
own age, the same rules scaled to a few items:
- novelty: no item in the base (a term already in use is the main track's);
- support: at least `young_min_df` items in the active window (3: the fewest with which
  "present in most periods" says anything);
- persistence: items in at least half of the periods since its first (and in two);
- community: items from at least two venues (one venue's run of papers is one group's);
- not fading: the last year holds more of its items than the year before it, and a
  month with `min_month_df` items (which keeps one item per month in many months, a
  stock phrase, out);
then ordered by the lower bound (at `confidence`) of its items per year since birth:
the fastest uptake with the least doubt. `young_slots` of the top list are filled from
this order, one in turn with the main track's (0: off).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scanner.config import TermSettings
from scanner.terms.stats import z_score


def young_figures(window: Any, settings: TermSettings) -> dict[str, np.ndarray]:
    """Each row of the window with no base item and `young_min_df` active items (`rows`),
    its figures and whether it passes the young criteria (`keep`)."""
    base, k = window.base_periods, settings.active_periods
    counts = window.counts
    rows = np.flatnonzero((counts[:, :base].sum(axis=1) == 0) &
                          (counts[:, base:].sum(axis=1) >= settings.young_min_df))
    c = counts[rows, base:]
    present = c > 0
    first = np.argmax(present, axis=1)
    age = k - first  # periods since the first item, that one included
    periods = present.sum(axis=1)
    year = max(1, 12 // settings.period_months)
    last_year, year_before = c[:, -year:].sum(axis=1), c[:, -2 * year:-year].sum(axis=1)
    venues = window.venues[rows]
    active = c.sum(axis=1)
    years = age * settings.period_months / 12
    z = z_score(settings.confidence)
    # items per year since birth, lower bound of the Poisson rate (normal on the root)
    rate_low = np.maximum(np.sqrt(active) - z / 2, 0.0) ** 2 / years
    keep = ((periods >= np.maximum(2, np.ceil(age / 2))) &
            (venues >= min(2, window.stream_venues)) &  # as the main community test
            (last_year > year_before) &
            (window.month_max[rows] >= settings.min_month_df))
    return {"rows": rows, "active": active, "age": age, "periods": periods,
            "last_year": last_year, "year_before": year_before, "venues": venues,
            "rate_low": rate_low, "keep": keep}


def young_order(f: dict[str, np.ndarray]) -> list[int]:
    """Kept rows of young_figures, fastest lower-bound uptake first."""
    return [int(i) for i in np.argsort(-f["rate_low"], kind="stable") if f["keep"][i]]


def young_rows(counts: Any, window: Any, settings: TermSettings) -> list[dict[str, Any]]:
    """The young track's terms of the window, best first, with the figures behind them."""
    f = young_figures(window, settings)
    out = []
    for i in young_order(f):
        r = int(f["rows"][i])
        t = int(window.terms[r])
        out.append({
            "term": counts.terms[t], "stream": counts.stream, "young": True,
            "score": round(float(f["rate_low"][i]), 4), "emerged": False,
            "base_items": 0, "active_items": int(f["active"][i]),
            "age_periods": int(f["age"][i]), "active_periods": int(f["periods"][i]),
            "last_year_items": int(f["last_year"][i]),
            "year_before_items": int(f["year_before"][i]),
            "venues": int(f["venues"][i]),
            "main_venue": counts.venues[window.main_venue[r]]
            if window.main_venue[r] >= 0 else None,
            "top_venue_share": round(float(window.top_venue[r]), 4),
            "series": [int(v) for v in window.counts[r]],
        })
    return out


def interleave(main: list[dict[str, Any]], young: list[dict[str, Any]], slots: float,
               top: int) -> list[dict[str, Any]]:
    """The main list with `slots` of its first `top` places given to young terms, spread
    evenly (a young term the main list already holds is not repeated)."""
    if slots <= 0 or not young:
        return main
    held = {r["term"] for r in main}
    young = [r for r in young if r["term"] not in held][:round(slots * top)]
    out: list[dict[str, Any]] = []
    owed = 0.0
    m = iter(main)
    for y in young:
        owed += (1 - slots) / slots
        while owed >= 1:
            nxt = next(m, None)
            if nxt is None:
                break
            out.append(nxt)
            owed -= 1
        out.append(y)
    out.extend(m)
    return out
