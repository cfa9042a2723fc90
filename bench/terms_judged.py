"""Experiment (issue #18): the nightly's phrasing check inside the arXiv term backtest.

    PYTHONPATH=$PWD .venv/bin/python bench/terms_judged.py [--model multilingual-e5-small]
        [--judge 300] [--carriers 30] [--heldout]

The nightly leaves out a candidate whose items are no closer to the term's own embedding
than the window's other items are (scanner/terms/specificity.py), but the backtest ranks
on counts alone: embedding all 298,495 abstracts takes hours here. This bench embeds only
what the check reads, at every cut-off of the arXiv 2010-2019 backtest:
- the first `--judge` terms of the default list (the nightly judges 50 at a time until 100
  pass);
- up to `--carriers` of each term's active-window items (the first in one seeded order of
  the corpus; the nightly reads all of them);
- 2,000 items of the active window (the first in the same order; the nightly draws a
  seeded sample).
Then it applies the nightly's rule, keeping the defaults' order: batches of 50, a term
kept unless the 90% lower bound of its AUC fails to clear `min_specificity` (0.5), under 3
carriers not judged and kept. It prints the figures of bench/terms_settings.py (the dev
list; the held-out list with --heldout). Vectors are cached in .cache/vectors/terms-judged.
The counts come from bench/terms_settings.py's cache.
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

BATCH = 50


def window_items(corpus, first_month: str, last_month: str):
    """(months, titles, texts) of the corpus's items from first_month to last_month."""
    months, titles, texts = [], [], []
    for chunk in corpus.chunks():
        for month, _venue, title, text in chunk:
            if month and first_month <= month <= last_month:
                months.append(month)
                titles.append(title or "")
                texts.append(text or "")
    return np.array(months), titles, texts


def main() -> None:
    from terms_settings import SHARED, cutoffs_of, load, precision_of, print_lists

    from scanner.config import TermSettings
    from scanner.embed import load_embedder
    from scanner.embed.service import item_text
    from scanner.evaluation.labels import cached_vectors
    from scanner.evaluation.terms import (
        cutoff_windows,
        evaluate_cutoff,
    )
    from scanner.terms.corpus import read_corpus, resolve_corpus
    from scanner.terms.counts import month_range
    from scanner.terms.emergence import build_window, score_window
    from scanner.terms.extract import item_terms
    from scanner.terms.specificity import SAMPLE, specificities
    from scanner.terms.stats import z_score

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--judge", type=int, default=300)
    ap.add_argument("--carriers", type=int, default=30)
    ap.add_argument("--heldout", action="store_true")
    args = ap.parse_args()
    counts, known, series, totals, months = load("arxiv")
    windows = {m: fitted for m, (fitted, _) in cutoff_windows(
        counts, cutoffs_of("arxiv", counts), TermSettings()).items() if fitted is not None}
    plans = {}
    for m, fitted in windows.items():
        s = fitted.settings
        c = counts.month_index(m)
        window = build_window(counts, c, s)
        every = score_window(counts, window, replace(s, top=10**6))
        active = month_range(counts.months[c - s.active_periods * s.period_months],
                             counts.months[c - 1])
        plans[m] = (every, active, window)
    first = min(a[0] for _, a, _ in plans.values())
    last = max(a[-1] for _, a, _ in plans.values())
    corpus = read_corpus(resolve_corpus("arxiv", SHARED)[0], name="arxiv")
    item_month, titles, texts = window_items(corpus, first, last)
    order = np.random.default_rng(0).permutation(len(item_month))
    rank_of = np.empty(len(order), dtype=np.int64)
    rank_of[order] = np.arange(len(order))
    wanted = {r["term"] for every, _, _ in plans.values() for r in every[:args.judge]}
    carried = [item_terms(t, x) & wanted for t, x in zip(titles, texts, strict=True)]
    carriers_of: dict[tuple[str, str], list[int]] = {}
    sample_of: dict[str, np.ndarray] = {}
    for m, (every, active, _) in plans.items():
        in_window = np.flatnonzero(np.isin(item_month, active))
        by_order = in_window[np.argsort(rank_of[in_window])]
        sample_of[m] = by_order[:SAMPLE]
        judge = {r["term"] for r in every[:args.judge]}
        for i in by_order:
            for term in carried[i] & judge:
                got = carriers_of.setdefault((m, term), [])
                if len(got) < args.carriers:
                    got.append(int(i))
        print(f"{m}: {len(in_window):,} items in the active window, carriers found for "
              f"{sum(1 for (mm, _) in carriers_of if mm == m)} of {len(judge)} terms",
              file=sys.stderr, flush=True)
    need = sorted({i for v in carriers_of.values() for i in v}
                  | {int(i) for v in sample_of.values() for i in v})
    print(f"embedding {len(need):,} items and {len(wanted):,} terms", file=sys.stderr,
          flush=True)
    embedder = load_embedder(args.model)
    cache = ROOT / ".cache" / "vectors" / "terms-judged"
    vectors = cached_vectors(embedder, [item_text({"title": titles[i], "summary": texts[i],
                                                   "kind": "paper"}) for i in need], cache)
    row_of = {i: k for k, i in enumerate(need)}
    term_list = sorted(wanted)
    term_vectors = dict(zip(term_list, embedder.embed(term_list, role="query"), strict=True))
    results = []
    for m, (every, _, window) in plans.items():
        s = windows[m].settings
        res = evaluate_cutoff(counts, m, s, s.top, note=windows[m].note)
        z = z_score(s.confidence)
        sample = sample_of[m]
        kept, phrasing = [], []
        for start in range(0, min(len(every), args.judge), BATCH):
            if len(kept) >= s.top:
                break
            batch = every[start:start + BATCH]
            carrier_rows = [carriers_of.get((m, r["term"]), []) for r in batch]
            judged = specificities(
                np.stack([term_vectors[r["term"]] for r in batch]),
                [vectors[[row_of[i] for i in rows]] for rows in carrier_rows],
                [vectors[[row_of[int(i)] for i in sample if int(i) not in rows]]
                 for rows in map(set, carrier_rows)], z)
            for row, j in zip(batch, judged, strict=True):
                if j is None or j.low > s.min_specificity:
                    kept.append(row)
                else:
                    phrasing.append(row["term"])
        if len(kept) < s.top:
            print(f"{m}: only {len(kept)} kept in the first {args.judge} judged",
                  file=sys.stderr)
        res.ranked = kept[:s.top]
        if res.judged:
            res.precision["ours"] = precision_of(counts, window, s, res.ranked)
        top_left = [t for t in phrasing if t in {r["term"] for r in every[:s.top]}]
        print(f"{m}: {len(phrasing)} left out ({len(top_left)} of the defaults' top "
              f"{s.top}, e.g. {top_left[:6]}); p@100 {res.precision.get('ours')}; first 8 "
              f"kept: {[r['term'] for r in kept[:8]]}", flush=True)
        results.append(res)
    print_lists("judged", known, results, series, totals, months, args.heldout)


if __name__ == "__main__":
    main()
