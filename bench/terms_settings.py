"""Emerging-terms settings on a corpus's term backtest, counted once and cached.

    PYTHONPATH=$PWD .venv/bin/python bench/terms_settings.py [--corpus arxiv|arxiv-cs]
        [--variants default,...] [--diagnose dev|heldout]

Counts the corpus once (cached as a pickle under .cache/bench/), then scores its default
cut-offs (arXiv 2010-2019: 20 quarters 2013-01 - 2017-10; arXiv CS 2025-26: every third
month back from 2026-07 that a window fits, on the nightly run's windows) for each
settings variant and prints the summary figures of the dev list (tuned on: arXiv
../shared/data/known_emergences_dev.csv, arXiv CS data/known_emergences_cs_dev.csv) and,
with `--heldout` only, of the project's held-out list (data/known_emergences_heldout.csv,
data/known_emergences_cs_heldout.csv). `--diagnose` prints,
for each emerging term of a list and each cut-off before it was flagged, the best-ranked
matching candidate and the gates it failed (why the term was not yet in the top 100).
"""

from __future__ import annotations

import argparse
import pickle
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
CACHE = ROOT / ".cache" / "bench"
LISTS = {"arxiv": {"dev": SHARED / "known_emergences_dev.csv",
                   "heldout": ROOT / "data" / "known_emergences_heldout.csv"},
         "arxiv-cs": {"dev": ROOT / "data" / "known_emergences_cs_dev.csv",
                      "heldout": ROOT / "data" / "known_emergences_cs_heldout.csv"}}

VARIANTS = {
    "default": {},
    "persist3": {"min_active_periods": 3},
    "persist2": {"min_active_periods": 2},
    "df6": {"min_active_df": 6},
    "df4_month1": {"min_active_df": 4, "min_month_df": 1},
    "persist3_df6": {"min_active_periods": 3, "min_active_df": 6},
    "venues2": {"min_venues": 2},
    "venues1": {"min_venues": 1},
    "venue_mix": {"venue_mix": True},
    "stream_totals": {"venue_mix": False},
}


def load(name: str):
    """(counts, known rows by list, regex series by list, totals, months), cached."""
    import pyarrow as pa

    from scanner.evaluation.terms import read_known
    from scanner.terms.corpus import read_corpus, regex_series, resolve_corpus
    from scanner.terms.counts import count_corpus

    path = CACHE / f"terms-{name}-counts.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    pa.set_memory_pool(pa.system_memory_pool())
    corpus = read_corpus(resolve_corpus(name, SHARED)[0], name=name)
    counts = count_corpus(corpus.chunks(), corpus.stream, workers=2)
    known = {which: read_known(p.read_text(encoding="utf-8"))
             for which, p in LISTS[name].items() if p.is_file()}
    patterns = {k["term"]: k["regex"] for rows in known.values() for k in rows}
    months, series, totals = regex_series(corpus, patterns)
    data = (counts, known, series, totals, months)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(data))
    return data


def cutoffs_of(name: str, counts) -> list[str]:
    """The backtest's default cut-offs of the corpus (as scanner.terms.corpus picks them)."""
    from scanner.evaluation.terms import backtest_cutoffs
    from scanner.terms.corpus import resolve_corpus

    return backtest_cutoffs(None, resolve_corpus(name, SHARED)[1], counts.months)


def run(name: str, settings, data):
    from scanner.evaluation.terms import (
        cutoff_windows,
        evaluate_cutoff,
        known_term_figures,
        summary,
    )

    counts, known, series, totals, months = data
    windows = cutoff_windows(counts, cutoffs_of(name, counts), settings)
    results = [evaluate_cutoff(counts, m, fitted.settings, settings.top, note=fitted.note)
               for m, (fitted, _) in windows.items() if fitted is not None]
    out = {}
    for name, rows in known.items():
        figures = known_term_figures(results, rows, series, totals, months)
        out[name] = (summary(results, figures), figures)
    return results, out


def precision_of(counts, window, settings, ranked: list[dict]) -> float:
    """The backtest's precision of a list that replaced ours at a judged cut-off (the
    window's: build_window at that cut-off)."""
    from scanner.evaluation.terms import realised_growth
    from scanner.terms.emergence import candidates

    pool = window.terms[candidates(window, settings)]
    grew = dict(zip((counts.terms[t] for t in pool),
                    realised_growth(counts, pool, window.cutoff)[1].tolist(), strict=True))
    return float(np.mean([grew.get(r["term"], False) for r in ranked]))


def print_lists(name: str, known, results, series, totals, months, heldout: bool) -> None:
    """print_summary for each known list of the corpus (held-out only when asked)."""
    from scanner.evaluation.terms import known_term_figures, summary

    for which, rows in known.items():
        if which == "heldout" and not heldout:
            continue
        figures = known_term_figures(results, rows, series, totals, months)
        print_summary(name, which, summary(results, figures), figures)


def every_candidate(settings):
    """The settings with every criterion off: all candidates of a window, scored."""
    return replace(settings, min_active_periods=0, min_venues=0, min_growth=-1e9,
                   min_doublings=-1e9, novelty_ratio=1e9, novelty_fraction=1e9)


def print_summary(name: str, which: str, s: dict, figures: list[dict]) -> None:
    """One line of a list's summary figures and each emerging term's lead."""
    leads = {f["term"]: f["lead_months"] for f in figures if f["role"] == "emerging"}
    print(f"{name:16s} {which:8s} before {s['flagged_before_crossing']}/{s['emerging']} "
          f"median {s['median_lead_months']} controls {s['controls_flagged']}/"
          f"{s['controls']} wins {s['cutoffs_beating_every_baseline']}/"
          f"{s['cutoffs_judged']} p@100 {s['mean_precision'].get('ours')} "
          f"leads {leads}", flush=True)


def diagnose(name: str, configured, data, which: str) -> None:
    """Why each emerging term of a list was not flagged at the cut-offs before it was."""
    import re

    from scanner.evaluation.terms import cutoff_windows
    from scanner.terms.emergence import build_window, candidates, score_window

    counts, known, *_ = data
    for cutoff, (fitted, _) in cutoff_windows(counts, cutoffs_of(name, counts),
                                              configured).items():
        if fitted is None:
            continue
        settings = fitted.settings
        loose = replace(every_candidate(settings), top=100000)
        c = counts.month_index(cutoff)
        window = build_window(counts, c, settings)
        strict = [r["term"] for r in score_window(counts, window, settings)]
        every = score_window(counts, window, loose)
        pool = {counts.terms[int(window.terms[i])] for i in candidates(window, settings)}
        for k in known[which]:
            if k["role"] != "emerging":
                continue
            pat = re.compile(k["regex"], re.IGNORECASE)
            rank = next((i + 1 for i, t in enumerate(strict) if pat.search(t)), None)
            if rank is not None and rank <= settings.top:
                continue
            hits = [r for r in every if pat.search(r["term"])]
            if not hits:
                inpool = any(pat.search(t) for t in pool)
                print(f"{cutoff} {k['term']:32s} no candidate (in pool: {inpool})")
                continue
            r = max(hits, key=lambda r: r["active_items"])
            fails = [g for g, ok in (
                ("persistence", r["active_periods"] >= settings.min_active_periods),
                ("community", r["venues"] >= settings.min_venues),
                ("growth-ratio", (r["ratio_low"] or 0) > settings.min_growth),
                ("doubling", r["trend_low"] * settings.horizon_years
                 >= settings.min_doublings * np.log(2)),
                ("novelty", r["base_share"] <= settings.novelty_fraction
                 * settings.emerged_share)) if not ok]
            print(f"{cutoff} {k['term']:32s} {r['term'][:30]:30s} items {r['active_items']:4d} "
                  f"periods {r['active_periods']} trend_low {r['trend_low']:.2f} "
                  f"strict rank {rank} fails {','.join(fails) or '-'}")


def main() -> None:
    from scanner.config import TermSettings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", choices=list(LISTS), default="arxiv")
    ap.add_argument("--variants", default="default")
    ap.add_argument("--diagnose", choices=["dev", "heldout"])
    ap.add_argument("--heldout", action="store_true",
                    help="also print the held-out list's figures (once, at the end of tuning)")
    args = ap.parse_args()
    if args.diagnose == "heldout" and not args.heldout:
        sys.exit("--diagnose heldout looks at the held-out list: add --heldout to mean it")
    data = load(args.corpus)
    if args.diagnose:
        diagnose(args.corpus, TermSettings(), data, args.diagnose)
        return
    for name in args.variants.split(","):
        settings = replace(TermSettings(), **VARIANTS[name])
        _, out = run(args.corpus, settings, data)
        for which, (s, figures) in out.items():
            if which == "heldout" and not args.heldout:
                continue
            print_summary(name, which, s, figures)


if __name__ == "__main__":
    main()
