"""Experiment (issue #18): rank candidate terms by what the corpus's own past says.

    PYTHONPATH=$PWD .venv/bin/python bench/terms_learned.py [--variants gated,novelty,all]
        [--model hgb|logit] [--heldout]

At each cut-off c of the arXiv 2010-2019 term backtest, a classifier is trained on the
candidates of earlier cut-offs c' (every quarter with c' + 24 months <= c, so their label is
known at c): features from the window's figures at c' (the same figures the criteria
read), label "trailing-year share at c' + 24 months at least twice the one at c'" (the
backtest's own label). Candidates at c are then ranked by its probability, inside:
`gated` the default criteria (only the order changes), `novelty` the novelty criterion
alone, `all` every candidate. Cut-offs without two years of earlier cut-offs keep the
default list. Prints the same figures as bench/terms_settings.py (dev list; the held-out
list only with --heldout). Counts come from bench/terms_settings.py's cache.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def features(window, settings, f) -> np.ndarray:
    """One row per candidate: the window's figures, on scales a classifier can use."""
    rows = f["rows"]
    active = f["counts"][:, window.base_periods:].sum(axis=1)
    cols = [
        np.log1p(active), np.log(f["base_share"] + 0.01), np.log(f["active_share"] + 0.01),
        f["lower"], f["growth"], f["growth_se"], np.log(np.clip(f["ratio"], 1e-3, 1e3)),
        np.log(np.clip(f["low"], 1e-3, 1e3)), f["present"], np.log1p(window.venues[rows]),
        window.top_venue[rows], f["escore"], f["gap"], np.log1p(window.month_max[rows]),
        f["recent_trend"], f["slope"], f["active_trend"],
    ]
    x = np.column_stack(cols).astype(np.float64)
    return np.nan_to_num(x, nan=0.0, posinf=10.0, neginf=-10.0)


def labels(counts, window, f, c: int) -> np.ndarray:
    """The backtest's label for each candidate of the window at month index c."""
    from scanner.evaluation.terms import realised_growth

    return realised_growth(counts, window.terms[f["rows"]], c)[1]


def main() -> None:
    from terms_settings import cutoffs_of, every_candidate, load, print_lists

    from scanner.config import TermSettings
    from scanner.evaluation.terms import (
        HORIZON_MONTHS,
        evaluate_cutoff,
    )
    from scanner.terms.emergence import (
        build_window,
        criteria,
        fold_nested,
        score_window,
        spread_venues,
        window_figures,
    )

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="gated,novelty,all")
    ap.add_argument("--model", choices=["hgb", "logit"], default="hgb")
    ap.add_argument("--heldout", action="store_true")
    args = ap.parse_args()
    counts, known, series, totals, months = load("arxiv")
    settings = TermSettings()
    cutoffs = cutoffs_of("arxiv", counts)
    first = counts.month_index(cutoffs[0])
    # training cut-offs: every quarter back from the first backtest cut-off with a base
    # period before the active window (27 months of history), and the backtest's own
    need = (settings.active_periods + 1) * settings.period_months
    grid = sorted({first - 3 * k for k in range(12)} | {counts.month_index(m) for m in cutoffs})
    grid = [g for g in grid if g >= need]
    cache: dict[int, tuple] = {}

    def at(g: int):
        if g not in cache:
            w = build_window(counts, g, settings)
            f = window_figures(w, settings)
            cache[g] = (w, f, features(w, settings, f), criteria(w, settings, f))
        return cache[g]

    loose = replace(every_candidate(settings), top=10**6, venue_slots=1.0)
    for variant in args.variants.split(","):
        results = []
        for m in cutoffs:
            c = counts.month_index(m)
            res = evaluate_cutoff(counts, m, settings, settings.top)
            train = [g for g in grid if g + HORIZON_MONTHS <= c]
            if len(train) >= 2:
                xs, ys = [], []
                for g in train:
                    w, f, x, _ = at(g)
                    xs.append(x)
                    ys.append(labels(counts, w, f, g))
                x_train, y_train = np.vstack(xs), np.concatenate(ys)
                if args.model == "hgb":
                    from sklearn.ensemble import HistGradientBoostingClassifier
                    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05,
                                                           random_state=0)
                else:
                    from sklearn.linear_model import LogisticRegression
                    from sklearn.pipeline import make_pipeline
                    from sklearn.preprocessing import StandardScaler
                    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
                model.fit(x_train, y_train)
                w, f, x, passes = at(c)
                prob = model.predict_proba(x)[:, 1]
                if variant == "gated":
                    keep = np.logical_and.reduce(list(passes.values()))
                elif variant == "novelty":
                    keep = passes["novelty"]
                else:
                    keep = np.ones(len(prob), bool)
                name = {counts.terms[int(w.terms[r])]: (p, k)
                        for r, p, k in zip(f["rows"], prob, keep, strict=True)}
                every = score_window(counts, w, loose)
                chosen = [dict(r, score=round(float(name[r["term"]][0]), 4)) for r in every
                          if name[r["term"]][1]]
                chosen.sort(key=lambda r: -r["score"])
                ranked = spread_venues(fold_nested(chosen, settings.nested_overlap),
                                       settings.venue_slots, settings.top)[:settings.top]
                res.ranked = ranked
                if res.judged:
                    grew_of = dict(zip(name, labels(counts, w, f, c).tolist(), strict=True))
                    res.precision["ours"] = float(np.mean([grew_of.get(r["term"], False)
                                                           for r in ranked]))
                print(f"  {variant} {m} trained on {len(train)} cut-offs, {len(y_train)} rows "
                      f"({y_train.mean():.3f} grew); p@100 {res.precision.get('ours')}; "
                      f"first 8: {[r['term'] for r in ranked[:8]]}", flush=True)
            results.append(res)
        print_lists(variant, known, results, series, totals, months, args.heldout)


if __name__ == "__main__":
    main()
