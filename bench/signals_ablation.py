"""Which sub-scores of the composite predict growth: the emergence backtest re-ranked by
each variant of the signal settings, at every cut-off of a protocol.

Run: .venv/bin/python bench/signals_ablation.py [--corpus arxiv|news] [--sample N]
     [--model hashing-test]
Embeddings are cached in .cache/bench/ablation-<corpus>-<model>.db (hashing-test needs
no model and takes a few minutes; a real model embeds the sample once).
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
from scanner.evaluation.backtest import PROTOCOLS, backtest_cutoff, load_corpus  # noqa: E402
from scanner.store import Store  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def variants() -> dict[str, SignalSettings]:
    """The default, each weight switched off or alone, and a stronger shrinkage."""
    base = SignalSettings()
    out = {"default": base, "with novelty (old)": replace(base, weight_novelty=1.0)}
    names = ("novelty", "growth", "coherence", "impact")
    for name in names:
        alone = {f"weight_{n}": (1.0 if n == name else 0.0) for n in names}
        out[f"{name} alone"] = replace(base, **alone)
    for k in (30.0, 100.0):
        out[f"support_k {k:.0f}"] = replace(base, support_k=k)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(PROTOCOLS), default="arxiv")
    parser.add_argument("--sample", type=int, default=30_000)
    parser.add_argument("--model", default="hashing-test")
    args = parser.parse_args()
    preset, relative, cutoffs, horizon, months = PROTOCOLS[args.corpus]
    path = SHARED / relative
    if not path.is_file():
        sys.exit(f"missing {path}: the ablation reads the shared corpus beside the repo")
    db = REPO / ".cache" / "bench" / f"ablation-{args.corpus}-{args.model}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    with Store(db) as store:
        corpus = load_corpus(store, path, preset, args.model, args.sample, 20100101,
                             lambda: load_embedder(args.model))
    print(f"{args.corpus}: {len(corpus.dates)} items, model {args.model}")
    print("| cut-off | ranking | Spearman | threat (top tenth) | P@10 |")
    print("| --- | --- | ---: | ---: | ---: |")
    for cutoff in cutoffs.split(","):
        for name, settings in variants().items():
            result = backtest_cutoff(corpus, cutoff, horizon, months, 8, TopicSettings(),
                                     settings)
            m = result["methods"]["emergence score (ours)"]
            print(f"| {cutoff} | {name} | {m['spearman']:.3f} | {m['threat_top']:.2f} | "
                  f"{m['p@10']:.2f} |", flush=True)
        for name in ("naive count growth", "last-period share"):
            m = result["methods"][name]
            print(f"| {cutoff} | {name} | {m['spearman']:.3f} | {m['threat_top']:.2f} | "
                  f"{m['p@10']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
