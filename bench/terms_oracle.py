"""What would a ranking that knew the future reach on the term backtest? (issue #18)

    PYTHONPATH=$PWD .venv/bin/python bench/terms_oracle.py [--corpus arxiv] [--heldout]
        [--horizon 24] [--by share|ratio]

At each cut-off of the backtest, the candidates (the same pool as ours and the baselines',
`emergence.candidates`) that have not emerged yet (trailing-year share under the emerged
level at the cut-off) are ranked by their *realised* trailing-year share `--horizon`
months later (`--by ratio`: that share over today's), the quantity the backtest's label
and the crossing month are both made of. The list is then built as ours is (nested terms
folded, venues spread) and judged exactly like ours (`known_term_figures`, `summary`).

It is not a method: a predictor of each term's future share with no error at all. It
measures how much of the target (every known term flagged before its crossing month, a
median lead of 12 months) a top-100 list of this pool can reach even with the answer:
which part of the shortfall comes from the list's 100 slots against the thousands of
candidates that grow as much, and which part from our predictions. Also prints how many
candidates reach the emerged level 12-36 months after each cut-off. Reads
bench/terms_settings.py's cache.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def oracle_ranked(counts, cutoff: str, settings, top: int, horizon: int, by: str = "share"
                  ) -> tuple[list[dict], list[str] | None, float]:
    """(the top `top` not-yet-emerged candidates by realised share `horizon` months on, the
    candidates that reach the emerged level 12-36 months after the cut-off, the list's
    precision on the backtest's label)."""
    from scanner.evaluation.terms import realised_growth, trailing_share
    from scanner.terms.emergence import build_window, candidates, fold_nested, spread_venues

    c = counts.month_index(cutoff)
    window = build_window(counts, c, settings)
    rows = candidates(window, settings)
    terms = window.terms[rows]
    series, grew = realised_growth(counts, terms, c)
    now = trailing_share(series, counts.totals, c)
    later = trailing_share(series, counts.totals, c + horizon)
    open_ = now < settings.emerged_share
    # by "ratio": the realised growth of the share (a term's items counted at least once
    # in the base year, so that 0 -> 2 items is not infinite growth)
    floor = 1.0 / max(counts.totals[max(0, c - 12):c].sum(), 1.0)
    key = later if by == "share" else later / np.maximum(now, floor)
    active = window.counts[rows, window.base_periods:].sum(axis=1)
    order = [i for i in np.argsort(-key, kind="stable") if open_[i]][:20 * top]
    listed = [{"term": counts.terms[int(terms[i])], "score": float(key[i]), "row": int(i),
               "active_items": int(active[i]), "main_venue": int(window.main_venue[rows[i]])}
              for i in order]
    # the list a panel gets is built as ours is: nested terms folded, venues spread
    ranked = spread_venues(fold_nested(listed, settings.nested_overlap),
                           settings.venue_slots, top)[:top]
    order = [r["row"] for r in ranked]
    crossing: list[str] | None = None  # None: the corpus ends before c + 36 months
    if c + 36 <= len(counts.months):
        ahead = np.column_stack([trailing_share(series, counts.totals, c + k)
                                 for k in range(12, 37)])
        reach = open_ & (ahead >= settings.emerged_share).any(axis=1)  # touched, not "stays"
        crossing = [counts.terms[int(t)] for t in terms[reach]]
    precision = float(np.mean(grew[order])) if order else 0.0
    return ranked, crossing, precision


def pool_bound(counts, windows, rows, series, totals, months, which: str,
               floor: bool = True) -> None:
    """A true bound for any list drawn from the candidate pool: the first cut-off at which
    a candidate matching each known term is in the pool and not yet emerged (no list of
    the pool can flag it earlier), and the lead that gives. `floor` False: every term with
    an item in the active window, as if the candidate floor were 1 item."""
    import re
    from dataclasses import replace

    from scanner.evaluation.terms import crossing_month, term_matrix, trailing_share
    from scanner.terms.counts import months_between
    from scanner.terms.emergence import build_window, candidates

    open_pool = {}
    for m, (fitted, _) in windows.items():
        if fitted is None:
            continue
        s = fitted.settings if floor else replace(fitted.settings, min_active_df=1,
                                                   min_month_df=1)
        c = counts.month_index(m)
        window = build_window(counts, c, s)
        terms = window.terms[candidates(window, s)]
        now = trailing_share(term_matrix(counts, terms), counts.totals, c)
        open_pool[m] = [counts.terms[int(t)] for t in terms[now < s.emerged_share]]
    leads = []
    for k in rows:
        if k["role"] != "emerging":
            continue
        pat = re.compile(k["regex"], re.IGNORECASE)
        crossing = crossing_month(series[k["term"]], totals, months)
        first = next((m for m in sorted(open_pool) if any(pat.search(t) for t in
                                                          open_pool[m])), None)
        lead = months_between(first, crossing) if first and crossing else None
        if first and (crossing is None or first < crossing):
            leads.append(lead)
        name = "pool bound" if floor else "any-term bound"
        print(f"    {name} {which}: {k['term']:32s} crossing {crossing} first in the open "
              f"pool {first} (lead at most {lead})")
    known_leads = [v for v in leads if v is not None]
    emerging = sum(k["role"] == "emerging" for k in rows)
    print(f"{'pool bound' if floor else 'any-term bound'} {which}: {len(leads)} of {emerging} "
          f"can be flagged before crossing; their largest possible leads, median "
          f"{float(np.median(known_leads)) if known_leads else None}; "
          f"{sum(v >= 12 for v in known_leads)} can lead by 12 months or more")


def main() -> None:
    from terms_settings import cutoffs_of, load, print_summary

    from scanner.config import TermSettings
    from scanner.evaluation.terms import (
        HORIZON_MONTHS,
        cutoff_windows,
        evaluate_cutoff,
        known_term_figures,
        summary,
    )

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="arxiv")
    ap.add_argument("--heldout", action="store_true")
    ap.add_argument("--horizon", type=int, default=24,
                    help="months ahead of the realised share the oracle ranks by")
    ap.add_argument("--by", choices=["share", "ratio"], default="share",
                    help="rank by the realised share, or by its ratio to today's")
    ap.add_argument("--sample", type=Path, metavar="CSV",
                    help="write a seeded random sample of the candidates that reach the emerged "
                    "level 12-36 months on (cut-off, term), --sample-size per cut-off, "
                    "for a blind labelling of what they name")
    ap.add_argument("--sample-size", type=int, default=0)
    ap.add_argument("--sample-cutoffs", default="2014-01,2015-07,2017-01")
    args = ap.parse_args()
    sampled: list[tuple[str, str]] = []
    counts, known, series, totals, months = load(args.corpus)
    configured = TermSettings()
    results = []
    windows = cutoff_windows(counts, cutoffs_of(args.corpus, counts), configured)
    for m, (fitted, _) in windows.items():
        if fitted is None:
            continue
        settings = fitted.settings
        if counts.month_index(m) + max(HORIZON_MONTHS, args.horizon) > len(counts.months):
            print(f"{m}: not {args.horizon} months of future in the corpus, skipped")
            continue
        res = evaluate_cutoff(counts, m, settings, settings.top, note=fitted.note)
        ranked, crossing, precision = oracle_ranked(counts, m, settings, settings.top,
                                                   args.horizon, args.by)
        ours = {r["term"] for r in res.ranked}
        res.ranked = ranked
        res.precision["ours"] = precision
        print(f"{m}: oracle's first 12: {[r['term'] for r in ranked[:12]]}")
        reached = "n/a (under 36 months left)" if crossing is None else f"{len(crossing):,}"
        print(f"{m}: pool {res.pool:,}; candidates whose trailing-year share touches "
              f"{settings.emerged_share:.1%} 12-36 months later: {reached}; top "
              f"{settings.top} shared with ours: {len(ours & {r['term'] for r in ranked})}",
              flush=True)
        results.append(res)
        if args.sample and crossing and m in args.sample_cutoffs.split(","):
            rng = np.random.default_rng(int(m.replace("-", "")))
            take = rng.choice(len(crossing), size=min(args.sample_size, len(crossing)),
                              replace=False)
            sampled += [(m, crossing[int(i)]) for i in take]
    if args.sample:
        import csv

        with args.sample.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows([("cutoff", "term"), *sampled])
    for which, rows in known.items():
        if which == "heldout" and not args.heldout:
            continue
        pool_bound(counts, windows, rows, series, totals, months, which)
        pool_bound(counts, windows, rows, series, totals, months, which, floor=False)
        figures = known_term_figures(results, rows, series, totals, months)
        print_summary(f"oracle {args.by} {args.horizon}", which, summary(results, figures), figures)
        for f in figures:
            if f["role"] == "emerging":
                print(f"    {f['term']:32s} crossing {f['crossing']} first oracle flag "
                      f"{f['flagged']} ({f['match']}, best rank {f['best_rank']})")


if __name__ == "__main__":
    main()
