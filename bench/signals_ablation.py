"""Which sub-scores of the composite predict growth: the emergence backtest re-ranked by
each variant of the signal settings, at every cut-off of a protocol, with every baseline.

Run: .venv/bin/python bench/signals_ablation.py [--corpus arxiv|news|arxiv-cs]
     [--sample N] [--model hashing-test] [--label held-out|in-sample] [--table]
Embeddings are cached in .cache/bench/ablation-<corpus>-<model>.db (hashing-test needs
no model and takes a few minutes; a real model embeds the sample once). --table prints
the full backtest table of the default settings instead of the variants. Protocols:
arXiv 2010-2019 (half-years, 730 d), Chinese news (months, 366 d, cut-offs 2023-07-01 and
2024-01-01), arXiv CS 2025-2026 (months, 180 d); 8 periods before each cut-off.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scanner.config import SignalSettings, TopicSettings  # noqa: E402
from scanner.embed import load_embedder  # noqa: E402
from scanner.evaluation.backtest import (  # noqa: E402
    PROTOCOLS,
    backtest_cutoff,
    format_table,
)
from scanner.evaluation.corpus import load_corpus  # noqa: E402
from scanner.store import Store  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
CUTOFFS = {"news": "2023-07-01,2024-01-01"}  # two cut-offs where the protocol has one


def variants() -> dict[str, SignalSettings]:
    """The default, each weight switched off or alone, and other shrinkage / horizons."""
    base = SignalSettings()
    out = {"default": base, "with novelty": replace(base, weight_novelty=1.0)}
    names = ("novelty", "growth", "coherence", "impact")
    for name in names:
        alone = {f"weight_{n}": (1.0 if n == name else 0.0) for n in names}
        out[f"{name} alone"] = replace(base, **alone)
    for k in (30.0, 100.0):
        out[f"support_k {k:.0f}"] = replace(base, support_k=k)
    for h in (2, 3):
        out[f"forecast_periods {h}"] = replace(base, forecast_periods=h)
    for life in (1000.0, 2.0, 8.0):  # no discount, and either side of the default (horizon)
        out[f"trend_half_life {life:g}"] = replace(base, trend_half_life=life)
    return out


def _mean(results: list[dict]) -> dict:
    """Seed 0's result with every method's figures averaged over the results."""
    out = dict(results[0])
    out["methods"] = {name: {k: sum(r["methods"][name][k] for r in results) / len(results)
                             for k in m} for name, m in results[0]["methods"].items()}
    out["ceiling"] = {k: sum(r["ceiling"][k] for r in results) / len(results)
                      for k in results[0]["ceiling"]}
    return out


def print_table(results: list[dict], seeds: int) -> None:
    """The backtest table, then each cut-off's topics, unattached shares and noise ceiling."""
    if seeds > 1:
        print(f"mean over seeds 0-{seeds - 1} (topics and grew 2x: seed 0's)")
    print(format_table(results))
    for r in results:
        c = r["ceiling"]
        print(f"{r['cutoff']}: {r['topics']} topics, {r['items_before']:,} items before, "
              f"unattached {r['base_unattached']:.3f} of the base window, "
              f"{r['future_unattached']:.3f} of the horizon; realised log growth: sd of true "
              f"growth {c['signal_sd']:.3f}, of counting noise {c['noise_sd']:.3f}; an "
              f"oracle's top-tenth threat {c['oracle_threat']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(PROTOCOLS), default="arxiv")
    parser.add_argument("--sample", type=int, default=30_000)
    parser.add_argument("--model", default="hashing-test")
    parser.add_argument("--label", choices=("held-out", "in-sample"), default="held-out")
    parser.add_argument("--table", action="store_true", help="the default's full table")
    parser.add_argument("--seeds", type=int, default=1, help="--table: mean over this many "
                        "seeds (clustering, held-out half, random order)")
    parser.add_argument("--no-terms", action="store_true", help="leave the terms sub-score "
                        "out (topics carrying emerging terms), as before it")
    args = parser.parse_args()
    preset, relative, cutoffs, horizon, months = PROTOCOLS[args.corpus]
    cutoffs = CUTOFFS.get(args.corpus, cutoffs)
    path = SHARED / relative
    if not path.is_file():
        sys.exit(f"missing {path}: the ablation reads the shared corpus beside the repo")
    db = REPO / ".cache" / "bench" / f"ablation-{args.corpus}-{args.model}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    with Store(db) as store:
        corpus = load_corpus(store, path, preset, args.model, args.sample, 20100101,
                             lambda: load_embedder(args.model))
    terms = None
    if not args.no_terms:
        from scanner.config import TermSettings
        from scanner.evaluation.topicterms import TermMarker
        from scanner.taxonomy import load_taxonomy
        from scanner.terms.extract import ChineseSegmenter

        taxonomy = load_taxonomy(REPO / "data" / "taxonomy" / "taxonomy-2025.1.toml")
        terms = TermMarker.of_corpus(corpus, TermSettings(),
                                     ChineseSegmenter(taxonomy.chinese_terms))
    print(f"{args.corpus}: {len(corpus.dates)} items, model {args.model}, {args.label} base, "
          f"cut-offs {cutoffs}, {months}-month periods x 8, horizon {horizon} d, terms "
          f"sub-score {'off' if terms is None else 'on'}")
    if args.table:
        results = [_mean([backtest_cutoff(corpus, c, horizon, months, 8, TopicSettings(),
                                          SignalSettings(), seed=seed, label=args.label,
                                          terms=terms)
                          for seed in range(args.seeds)]) for c in cutoffs.split(",")]
        print_table(results, args.seeds)
        return
    print("| cut-off | ranking | Spearman | threat (top tenth) | P@10 |")
    print("| --- | --- | ---: | ---: | ---: |")
    for cutoff in cutoffs.split(","):
        for name, settings in variants().items():
            result = backtest_cutoff(corpus, cutoff, horizon, months, 8, TopicSettings(),
                                     settings, label=args.label, terms=terms)
            m = result["methods"]["emergence score (ours)"]
            print(f"| {cutoff} | {name} | {m['spearman']:.3f} | {m['threat_top']:.2f} | "
                  f"{m['p@10']:.2f} |", flush=True)
        for name in ("naive count growth", "last-period share", "random"):
            m = result["methods"][name]
            print(f"| {cutoff} | {name} | {m['spearman']:.3f} | {m['threat_top']:.2f} | "
                  f"{m['p@10']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
