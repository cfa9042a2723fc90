"""The topic backtest on a whole corpus: enough items per topic for the label to carry signal.

Run: .venv/bin/python bench/backtest_whole.py [--corpus arxiv] [--sample 0] [--seeds 3]
         [--components 128] [--n-clusters 0] [--label held-out|in-sample]

The 30,000-paper protocol leaves a few dozen to a few hundred items per topic and
window, so realised two-year share growth is mostly Poisson noise (an oracle's top-tenth
threat score 0.10-0.22; docs/evaluation.md, issue #17). This runs the same backtest code
(scanner.evaluation.backtest.backtest_cutoff: clustering, held-out base, rankings,
baselines, noise ceiling) on every row of a protocol's corpus (or --sample rows), with
vectors a 2-core machine can make for 300,000 abstracts in minutes: LSA
(scanner.evaluation.lexical, as `scanner evaluate backtest --vectors lsa` uses), fitted
at each cut-off on the items before it only and cached under .cache/bench/. The vectors are
lexical, as the hashing vectors of bench/signals_ablation.py are; an evaluation device,
not a registry model, and the nightly run never sees them. This adds what the command
does not print: means over --seeds and each cut-off's noise ceiling. --n-clusters fixes
the number of topics (0: the nightly rule, sqrt(n/2) capped at max_clusters).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from signals_ablation import CUTOFFS, SHARED, _mean, print_table, variants  # noqa: E402

from scanner.config import SignalSettings, TopicSettings  # noqa: E402
from scanner.evaluation.backtest import (  # noqa: E402
    PROTOCOLS,
    backtest_cutoff,
)

CACHE = REPO / ".cache" / "bench"
TAXONOMY = REPO / "data" / "taxonomy" / "taxonomy-2025.1.toml"


def corpus_at(corpus: str, sample: int, components: int) -> Any:
    """A function of a cut-off: the protocol corpus's rows (all, or a seeded sample), read
    by load_corpus, with LSA vectors fitted on the items before that cut-off (cached)."""
    from scanner.evaluation.corpus import load_corpus
    from scanner.evaluation.lexical import at_cutoff

    preset_name, relative = PROTOCOLS[corpus][:2]
    path = SHARED / relative
    if not path.is_file():
        sys.exit(f"missing {path}: the benchmark reads the shared corpus beside the repo")
    rows = load_corpus(None, path, preset_name, "lsa", sample or None, 20100101, None,
                       vectors="lsa")

    def at(cutoff: str) -> Any:
        cache = CACHE / f"lsa3-{corpus}-{sample or 'all'}-{components}-{cutoff}.npy"
        if cache.is_file():
            return replace(rows, vectors=np.load(cache))
        started = time.monotonic()
        fitted = at_cutoff(rows, cutoff, components)
        print(f"LSA of {len(rows.dates):,} items fitted on the "
              f"{int((rows.dates < cutoff).sum()):,} before {cutoff}: "
              f"{time.monotonic() - started:.0f} s", flush=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(cache, fitted.vectors)
        return fitted

    at.rows = rows  # type: ignore[attr-defined]
    return at


def term_marker(corpus: str, sample: int, rows: Any) -> Any:
    """The corpus's term counts for the terms sub-score (topicterms.TermMarker), counted
    once and cached under .cache/bench/, keyed by the term settings and the extraction
    code (the counts are per month: each cut-off ranks the months before it only)."""
    import hashlib
    import pickle

    from scanner.config import TermSettings
    from scanner.evaluation.topicterms import TermMarker, corpus_term_counts
    from scanner.taxonomy import load_taxonomy
    from scanner.terms import counts as counts_module
    from scanner.terms import extract
    from scanner.terms.extract import ChineseSegmenter

    settings = TermSettings()
    vocabulary = load_taxonomy(TAXONOMY).chinese_terms
    segmenter = ChineseSegmenter(vocabulary)
    key = hashlib.sha256(repr((settings, vocabulary)).encode()
                         + Path(extract.__file__).read_bytes()
                         + Path(counts_module.__file__).read_bytes()).hexdigest()[:12]
    cache = CACHE / f"topicterms-{corpus}-{sample or 'all'}-{key}.pkl"
    if cache.is_file():
        return TermMarker(pickle.loads(cache.read_bytes()), settings, segmenter)
    started = time.monotonic()
    counts = corpus_term_counts(rows, segmenter)
    print(f"terms of {len(rows.dates):,} items counted: {time.monotonic() - started:.0f} s",
          flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(counts))
    return TermMarker(counts, settings, segmenter)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(PROTOCOLS), default="arxiv")
    parser.add_argument("--sample", type=int, default=0, help="0: every row")
    parser.add_argument("--components", type=int, default=128)
    parser.add_argument("--n-clusters", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--label", choices=("held-out", "in-sample"), default="held-out")
    parser.add_argument("--cutoffs", default="", help="default: the protocol's")
    parser.add_argument("--no-terms", action="store_true", help="leave the terms "
                        "sub-score out (topics carrying emerging terms), as before it")
    parser.add_argument("--variants", action="store_true", help="the ablation of "
                        "bench/signals_ablation.py (seed 0) instead of the full table")
    args = parser.parse_args()
    _, _, cutoffs, horizon, months = PROTOCOLS[args.corpus]
    cutoffs = args.cutoffs or CUTOFFS.get(args.corpus, cutoffs)
    corpus_of = corpus_at(args.corpus, args.sample, args.components)
    topics = replace(TopicSettings(), n_clusters=args.n_clusters)
    terms = None if args.no_terms else term_marker(args.corpus, args.sample,
                                                   corpus_of.rows)  # type: ignore[attr-defined]
    print(f"{args.corpus}: LSA {args.components} fitted per cut-off, {args.label} "
          f"base, cut-offs {cutoffs}, {months}-month periods x 8, horizon {horizon} d, "
          f"topics {args.n_clusters or 'sqrt(n/2)'}", flush=True)
    if args.variants:
        print("| cut-off | ranking | Spearman | threat (top tenth) |\n| --- | --- | ---: | ---: |")
        for cutoff in cutoffs.split(","):
            corpus = corpus_of(cutoff)
            for name, settings in variants().items():
                m = backtest_cutoff(corpus, cutoff, horizon, months, 8, topics, settings,
                                    label=args.label, terms=terms
                                    )["methods"]["emergence score (ours)"]
                print(f"| {cutoff} | {name} | {m['spearman']:.3f} | {m['threat_top']:.2f} |",
                      flush=True)
        return
    results = []
    for cutoff in cutoffs.split(","):
        corpus = corpus_of(cutoff)
        started = time.monotonic()
        results.append(_mean([backtest_cutoff(corpus, cutoff, horizon, months, 8, topics,
                                              SignalSettings(), seed=seed, label=args.label,
                                              terms=terms)
                              for seed in range(args.seeds)]))
        if terms is not None:
            ranked = {k: len(v) for k, v in terms.ranked.get(cutoff, {}).items()}
            print(f"{cutoff}: emerging terms ranked per stream {ranked}", flush=True)
        print(f"{cutoff}: {time.monotonic() - started:.0f} s", flush=True)
    print_table(results, args.seeds)


if __name__ == "__main__":
    main()
