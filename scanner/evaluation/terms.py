"""Backtest of emerging terms: flagged early, and do they grow? (pure, on TermCounts).

Protocol, per cut-off: terms are scored from the months before it only
(scanner.terms.emergence). A term "grew" when its trailing 12-month share two years
after the cut-off is at least twice its trailing 12-month share at the cut-off.
precision@N of our top N is set against three baselines ranking the same candidate pool
(neither too rare nor too common, scanner.term_emergence.candidates): naive count growth
(items in the last 12 months over the 12 before, raw counts), last-period share, and
random order (its expected precision: the pool's share of growers). A cut-off less than
two years before the corpus ends is scored but not judged.

With a list of known terms (term, regex, role = emerging | control): a known term's
crossing month is the first month its trailing 12-month share of the stream reaches
0.1% and stays there to the end of the corpus (regex on title and text, case-blind);
it is flagged at the first cut-off whose top N holds a term matching its regex; the lead
is crossing month minus that cut-off, in months. Controls should never be flagged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from scanner.config import TermSettings
from scanner.terms.counts import TermCounts, month_range, months_between
from scanner.terms.emergence import build_window, candidates, score_window
from scanner.terms.service import stream_windows
from scanner.terms.windows import FittedWindow

HORIZON_MONTHS = 24
TRAILING_MONTHS = 12
GROWTH_FACTOR = 2.0
CROSSING_SHARE = 0.001
FIGURES = ("score", "escore", "active_trend", "recent_trend", "slope", "trend", "trend_low",
           "trend_high", "recent_share", "projected_share", "emerged", "share_ratio", "ratio_low",
           "ratio_high", "base_share", "active_share", "late_items", "early_items",
           "base_items", "active_items", "active_periods", "venues", "top_venue_share")


def parse_cutoffs(spec: str) -> list[str]:
    """Cut-off months from "D,D,..." or a quarterly range "D..D" (dates YYYY-MM[-DD])."""
    spec = spec.strip()
    if ".." in spec:
        first, last = (part.strip()[:7] for part in spec.split("..", 1))
        months = month_range(first, last)
        return months[::3]
    out = []
    for part in spec.split(","):
        text = part.strip()
        try:
            day = date.fromisoformat(text if len(text) > 7 else f"{text}-01")
        except ValueError as exc:
            raise ValueError(f"cut-off {text!r} is not a YYYY-MM-DD date") from exc
        if day.day != 1:
            raise ValueError(f"cut-off {text!r}: cut-offs are first days of months")
        out.append(text[:7])
    return out


def quarters_back(months: Sequence[str]) -> list[str]:
    """Default cut-offs: every third month counting back from the corpus's last month (a
    dump's last month is usually partial, so it is the last cut-off, never inside a
    window), oldest first; the window rule then drops those it cannot rank."""
    return list(months[::-1][::3][::-1])


def backtest_cutoffs(given: str | None, protocol: str | None, months: Sequence[str]
                     ) -> list[str]:
    """The cut-offs to score: those given ("D,D" or "D..D"), else the protocol's, else
    quarters_back over the corpus's months."""
    spec = given or protocol
    return parse_cutoffs(spec) if spec else quarters_back(months)


def cutoff_windows(counts: TermCounts, cutoffs: Sequence[str], settings: TermSettings
                   ) -> dict[str, tuple[FittedWindow | None, str]]:
    """Per cut-off month, the window the nightly run would rank the stream on (configured,
    or fitted to a short history), or None and why it would not rank it (too short a
    history, too thin a base, no items left before the cut-off): the backtest flags a
    term when a nightly deployment running at that date would have."""
    item_totals = [(m, counts.stream, int(n)) for m, n in
                   zip(counts.months, counts.totals, strict=True) if n]
    out = {}
    for cutoff in cutoffs:
        if counts.month_index(cutoff) > len(counts.months):
            out[cutoff] = (None, f"after the corpus's last month ({counts.months[-1]})")
            continue
        out[cutoff] = stream_windows(item_totals, cutoff, settings,
                                     [counts.stream])[counts.stream]
    return out


def trailing_share(counts: np.ndarray, totals: np.ndarray, end: int,
                   months: int = TRAILING_MONTHS) -> np.ndarray:
    """Share over the `months` months before month index `end` ([terms x months] input)."""
    lo = max(0, end - months)
    return counts[..., lo:end].sum(axis=-1) / max(totals[lo:end].sum(), 1.0)


def term_matrix(counts: TermCounts, rows: np.ndarray) -> np.ndarray:
    """[len(rows) x months] items per month of the given term indices."""
    position = np.full(len(counts.terms), -1)
    position[rows] = np.arange(len(rows))
    where = position[counts.term]
    keep = where >= 0
    n_months = len(counts.months)
    flat = where[keep].astype(np.int64) * n_months + counts.month[keep]
    return np.bincount(flat, weights=counts.df[keep],
                       minlength=len(rows) * n_months).reshape(len(rows), n_months)


def realised_growth(counts: TermCounts, terms: np.ndarray, c: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(the terms' monthly series, whether each one's trailing-year share at month index
    c + HORIZON_MONTHS is at least GROWTH_FACTOR times the one at c): the backtest's label."""
    series = term_matrix(counts, terms)
    before = trailing_share(series, counts.totals, c)
    after = trailing_share(series, counts.totals, c + HORIZON_MONTHS)
    return series, after >= GROWTH_FACTOR * before


@dataclass
class CutoffResult:
    """One cut-off: our ranked list and the precision of every ranking."""

    cutoff: str
    ranked: list[dict[str, Any]]
    pool: int
    judged: bool
    precision: dict[str, float | None] = field(default_factory=dict)
    growers: int = 0
    window: str = ""  # the fitted window's note ("" for the configured one)


def evaluate_cutoff(counts: TermCounts, cutoff: str, settings: TermSettings, top: int,
                    note: str = "") -> CutoffResult:
    """Score from the months before the cut-off; judge against the two years after it.
    `settings` are the window's (cutoff_windows); `note` says how it was fitted."""
    c = counts.month_index(cutoff)
    window = build_window(counts, c, settings)
    ranked = score_window(counts, window, settings)[:top]
    pool = candidates(window, settings)
    judged = c + HORIZON_MONTHS <= len(counts.months)
    result = CutoffResult(cutoff, ranked, len(pool), judged, window=note)
    if not judged or not len(pool):
        return result
    terms = window.terms[pool]
    series, grew = realised_growth(counts, terms, c)
    result.growers = int(grew.sum())
    grew_of = dict(zip((counts.terms[t] for t in terms), grew.tolist(), strict=True))
    last12 = series[:, max(0, c - 12):c].sum(axis=1)  # a young corpus: the months it has
    prev12 = series[:, max(0, c - 24):max(0, c - 12)].sum(axis=1)
    p = settings.period_months
    last_period = series[:, c - p:c].sum(axis=1) / max(counts.totals[c - p:c].sum(), 1.0)
    rankings = {
        "count_growth": np.lexsort((-last12, -(last12 + 1) / (prev12 + 1))),
        "last_share": np.argsort(-last_period, kind="stable"),
    }
    outside = np.array([counts.index[r["term"]] for r in ranked if r["term"] not in grew_of
                        and r["term"] in counts.index], dtype=int)
    if len(outside):  # young terms (below the pool's floor) are judged on their own series
        grew_of.update(zip((counts.terms[t] for t in outside),
                           realised_growth(counts, outside, c)[1].tolist(), strict=True))
    ours = [bool(grew_of.get(r["term"], False)) for r in ranked]
    result.precision["ours"] = float(np.mean(ours)) if ours else None
    young = [g for g, r in zip(ours, ranked, strict=True) if r.get("young")]
    if young:
        result.precision["young"] = float(np.mean(young))
    for name, order in rankings.items():
        result.precision[name] = float(grew[order[:top]].mean())
    result.precision["random"] = float(grew.mean())
    return result


def crossing_month(series: np.ndarray, totals: np.ndarray, months: Sequence[str],
                   share: float = CROSSING_SHARE) -> str | None:
    """First month whose trailing 12-month share reaches `share` and stays there. In
    the corpus's first eleven months the trailing share is over the months there are: a
    term above the level from the start crossed then (or before), not in month 12."""
    csum, tsum = np.cumsum(np.r_[0, series]), np.cumsum(np.r_[0, totals])
    crossed = None
    for end in range(1, len(months) + 1):
        start = max(0, end - TRAILING_MONTHS)
        value = (csum[end] - csum[start]) / max(tsum[end] - tsum[start], 1.0)
        crossed = (crossed if crossed is not None else end - 1) if value >= share else None
    return months[crossed] if crossed is not None else None


def known_term_figures(results: Sequence[CutoffResult], known: Sequence[Mapping[str, str]],
                       series: Mapping[str, np.ndarray], totals: np.ndarray,
                       months: Sequence[str]) -> list[dict[str, Any]]:
    """Per known term: crossing month, first flagging cut-off and matching term, lead."""
    out = []
    for row in known:
        pattern = re.compile(row["regex"], re.IGNORECASE)
        crossing = crossing_month(series[row["term"]], totals, months)
        flagged_at = match = None
        ranks: list[int] = []
        for result in results:
            hit = next((r for r in result.ranked if pattern.search(r["term"])), None)
            if hit is not None:
                ranks.append(result.ranked.index(hit) + 1)
                if flagged_at is None:
                    flagged_at, match = result.cutoff, hit["term"]
        lead = months_between(flagged_at, crossing) if flagged_at and crossing else None
        out.append({"term": row["term"], "role": row["role"], "crossing": crossing,
                    "flagged": flagged_at, "match": match, "lead_months": lead,
                    "cutoffs_flagged": len(ranks), "best_rank": min(ranks) if ranks else None})
    return out


def summary(results: Sequence[CutoffResult], known: Sequence[dict[str, Any]]
            ) -> dict[str, Any]:
    """The targets' figures: leads, controls flagged, precision wins over baselines."""
    emerging = [k for k in known if k["role"] == "emerging"]
    leads = [k["lead_months"] for k in emerging if k["lead_months"] is not None]
    early = [k for k in emerging if k["flagged"] and (k["crossing"] is None or
                                                       k["flagged"] < k["crossing"])]
    judged = [r for r in results if r.judged and r.precision.get("ours") is not None]
    wins = sum(all(r.precision["ours"] > r.precision[b]  # type: ignore[operator]
                   for b in ("count_growth", "last_share", "random")) for r in judged)
    return {
        "emerging": len(emerging), "flagged_before_crossing": len(early),
        "median_lead_months": float(np.median(leads)) if leads else None,
        "controls": sum(k["role"] == "control" for k in known),
        "controls_flagged": sum(1 for k in known if k["role"] == "control" and k["flagged"]),
        "cutoffs_judged": len(judged), "cutoffs_beating_every_baseline": wins,
        "mean_precision": {name: round(float(np.mean([r.precision[name] for r in judged])), 4)
                           for name in ("ours", "count_growth", "last_share", "random")}
        if judged else {},
    }


def ranked_csv(results: Sequence[CutoffResult]) -> str:
    """One CSV of every cut-off's ranked list: cutoff, rank, term, score, figures, series."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["cutoff", "rank", "term", *FIGURES, "folded", "series"])
    for result in results:
        for rank, row in enumerate(result.ranked, 1):
            writer.writerow([result.cutoff, rank, row["term"], *(row[f] for f in FIGURES),
                             ";".join(row.get("folded", [])),
                             ";".join(str(v) for v in row["series"])])
    return buffer.getvalue()


def markdown(results: Sequence[CutoffResult], known: Sequence[dict[str, Any]], top: int,
             skipped: Mapping[str, str] | None = None) -> str:
    """The precision table per cut-off (with each fitted window and each cut-off the
    window rule skipped) and the known terms' table, as Markdown."""
    lines = [f"| cut-off | pool | growers | ours p@{top} (n) | count growth | last share "
             "| random |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        if not r.judged:
            lines.append(f"| {r.cutoff} | {r.pool} | not judged | ({len(r.ranked)}) | | | |")
            continue
        p = {k: "–" if v is None else f"{v:.2f}" for k, v in r.precision.items()}
        lines.append(f"| {r.cutoff} | {r.pool} | {r.growers} | {p['ours']} "
                     f"({len(r.ranked)}) | {p['count_growth']} | {p['last_share']} | "
                     f"{p['random']} |")
    notes = [f"- {r.cutoff}: {r.window}" for r in results if r.window]
    notes += [f"- {m}: not ranked, {why}" for m, why in (skipped or {}).items()]
    if notes:
        lines += ["", "Windows (the configured ones unless said):", *notes]
    if known:
        lines += ["", "| term | role | crossing | first flagged | matching term | lead "
                  "(months) | cut-offs in top | best rank |",
                  "| --- | --- | --- | --- | --- | ---: | ---: | ---: |"]
        for k in known:
            lines.append(f"| {k['term']} | {k['role']} | {k['crossing'] or 'never'} | "
                         f"{k['flagged'] or 'never'} | {k['match'] or ''} | "
                         f"{'' if k['lead_months'] is None else k['lead_months']} | "
                         f"{k['cutoffs_flagged']} | {k['best_rank'] or ''} |")
    return "\n".join(lines)


def read_known(text: str) -> list[dict[str, str]]:
    """Known terms from CSV text with columns term, regex, role (other rows ignored)."""
    rows = [r for r in csv.DictReader(io.StringIO(text))
            if r.get("role") in ("emerging", "control") and r.get("regex")]
    if not rows:
        raise ValueError("no row with a role of emerging or control and a regex")
    return [{"term": r["term"], "regex": r["regex"], "role": r["role"]} for r in rows]
