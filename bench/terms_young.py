"""Young terms (#18): criteria for terms of a few items, judged in the arXiv backtest.

    PYTHONPATH=$PWD .venv/bin/python bench/terms_young.py [--study] [--slots 0.25,...]
        [--heldout]

The defaults' floor (8 items in the active window, a month with 2) keeps a term out of
the pool until about a year before it crosses 0.1% (bench/terms_oracle.py: the held-out
bound's median lead is 11.5 months with the floor, 35 without). This bench tries a
second track for terms born inside the window (scanner.terms.young): no item in the
base, a few items, present in most periods since its first, more than one venue, and
not slowing down. `--study` prints, per judged cut-off, how often each order of the
young pool picks terms that take off (trailing-year share at least a quarter of the
emerged level two years on) against the random rate of that pool. Without it, each
`--slots` share of the top 100 is given to the young track (taken in turn with the
defaults' list) and the dev list's figures are printed (held-out only with
`--heldout`). Counts come from bench/terms_settings.py's cache.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from terms_settings import cutoffs_of, load, print_lists  # noqa: E402


def took_off(counts, terms: np.ndarray, c: int, settings) -> np.ndarray:
    """Whether each term's trailing-year share two years after month index c reaches a
    quarter of the emerged level (a term that will be seen by the main criteria)."""
    from scanner.evaluation.terms import HORIZON_MONTHS, term_matrix, trailing_share

    series = term_matrix(counts, terms)
    return trailing_share(series, counts.totals, c + HORIZON_MONTHS) >= settings.emerged_share / 4


def study(name: str, data, settings) -> None:
    from scanner.evaluation.terms import HORIZON_MONTHS, cutoff_windows
    from scanner.terms.emergence import build_window
    from scanner.terms.young import young_figures, young_order

    counts = data[0]
    rng = np.random.default_rng(0)
    rates: dict[str, list[float]] = {}
    for cutoff, (fitted, _) in cutoff_windows(counts, cutoffs_of(name, counts),
                                              settings).items():
        c = counts.month_index(cutoff)
        if fitted is None or c + HORIZON_MONTHS > len(counts.months):
            continue
        s = fitted.settings
        window = build_window(counts, c, s)
        f = young_figures(window, s)
        rows = f["rows"]
        off = took_off(counts, window.terms[rows], c, s)
        keep = f["keep"]
        orders = {
            "pool random": rng.permutation(len(rows)),
            "pool by items": np.argsort(-f["active"], kind="stable"),
            "kept random": rng.permutation(np.flatnonzero(keep)),
            "kept by items": [i for i in np.argsort(-f["active"], kind="stable") if keep[i]],
            "kept by young order": young_order(f),
        }
        line = [f"{cutoff} pool {len(rows):6d} kept {int(keep.sum()):5d} "
                f"base rate {off.mean():.3f} kept rate {off[keep].mean() if keep.any() else 0:.3f}"]
        for label, order in orders.items():
            top = np.asarray(order[:30], dtype=int)
            rate = float(off[top].mean()) if len(top) else 0.0
            rates.setdefault(label, []).append(rate)
            line.append(f"{label} {rate:.2f}")
        print(" | ".join(line), flush=True)
    print("mean top-30 take-off rate: " +
          ", ".join(f"{k} {np.mean(v):.3f}" for k, v in rates.items()))


def run_slots(name: str, data, settings, slots: float, heldout: bool, show: bool) -> None:
    from scanner.evaluation.terms import cutoff_windows, evaluate_cutoff

    counts, known, series, totals, months = data
    young = replace(settings, young_slots=slots)
    results = [evaluate_cutoff(counts, m, fitted.settings, young.top, note=fitted.note)
               for m, (fitted, _) in cutoff_windows(counts, cutoffs_of(name, counts),
                                                    young).items() if fitted is not None]
    if show:
        for r in results:
            kids = [x["term"] for x in r.ranked if x.get("young")]
            print(r.cutoff, len(kids), kids[:12])
    print_lists(f"young {slots}", known, results, series, totals, months, heldout)
    for r in results:
        if r.judged:
            print(f"  {r.cutoff} ours {r.precision['ours']:.2f} young "
                  f"{r.precision.get('young')} cg {r.precision['count_growth']:.2f} "
                  f"ls {r.precision['last_share']:.2f} rnd {r.precision['random']:.3f}")


def main() -> None:
    from scanner.config import TermSettings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="arxiv")
    ap.add_argument("--study", action="store_true")
    ap.add_argument("--slots", default="0.25")
    ap.add_argument("--heldout", action="store_true")
    ap.add_argument("--show", action="store_true", help="print each cut-off's young terms")
    args = ap.parse_args()
    data = load(args.corpus)
    settings = TermSettings()
    if args.study:
        study(args.corpus, data, settings)
        return
    for slots in (float(s) for s in args.slots.split(",")):
        run_slots(args.corpus, data, settings, slots, args.heldout, args.show)


if __name__ == "__main__":
    main()
