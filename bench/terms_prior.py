"""Experiment (issue #18): leave out terms whose words read as phrasing, judged by the
embedding model on the term alone.

    PYTHONPATH=$PWD .venv/bin/python bench/terms_prior.py [--model multilingual-e5-small]
        [--heldout] [--labels data/labels/terms_crossers_r1.jsonl]

bench/terms_oracle.py showed that a top 100 cannot hold the known emergences on growth
alone, even with the future known: about 2,000 candidates reach 0.1% in the 12-36 months
after each cut-off. In a blind labelling of 180 of them (docs/evaluation.md, ninth
session), 46% were subjects and 8% technologies a panel would list. This experiment asks
whether the model can tell them from phrasing on the term's own words, which needs no
item vectors, so the backtest can run it. Each candidate the default criteria keep is
embedded as a passage, and two prompts as queries (e5's roles):
"an emerging technology, device, material, model or method" and "a common phrase of
academic writing". A term closer to the second than to the first is left out (zero is
the rule's only threshold; nothing was tuned). The rest keep the defaults' order and
fill the top 100. Printed like bench/terms_settings.py (dev list; held-out with
--heldout). Counts come from bench/terms_settings.py's cache; term vectors are cached
under .cache/bench/ (keyed by the model and the prompts). `--labels FILE` only prints
the score's AUC on blind labels (JSON lines with term, kind, technology): technologies
against the rest, and subjects against phrasing.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PROMPTS = ("an emerging technology, device, material, model or method",
           "a common phrase of academic writing")


def prior(embedder, terms: list[str], cache: dict[str, float]) -> dict[str, float]:
    """Cosine to the technology prompt minus cosine to the phrasing prompt, per term."""
    todo = [t for t in dict.fromkeys(terms) if t not in cache]
    if todo:
        prompts = embedder.embed(list(PROMPTS), role="query")
        vectors = embedder.embed(todo, role="passage")
        diff = vectors @ prompts[0] - vectors @ prompts[1]
        cache.update(zip(todo, diff.astype(float).tolist(), strict=True))
    return {t: cache[t] for t in terms}


def label_auc(embedder, path: Path) -> None:
    """AUC of the score on blind term labels (the figures docs/evaluation.md quotes)."""
    import json

    from sklearn.metrics import roc_auc_score

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    score = prior(embedder, [r["term"] for r in rows], {})
    x = np.array([score[r["term"]] for r in rows])
    tech = np.array([bool(r["technology"]) for r in rows])
    kind = np.array([r["kind"] for r in rows])
    judged = kind != "unclear"
    print(f"{len(rows)} terms, {tech.sum()} technologies: AUC technology "
          f"{roc_auc_score(tech, x):.3f}; subject against phrasing "
          f"{roc_auc_score(kind[judged] == 'subject', x[judged]):.3f}")


def main() -> None:
    from terms_settings import CACHE, cutoffs_of, load, precision_of, print_lists

    from scanner.config import TermSettings
    from scanner.embed import load_embedder
    from scanner.evaluation.terms import (
        cutoff_windows,
        evaluate_cutoff,
    )
    from scanner.terms.emergence import build_window, score_window

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--heldout", action="store_true")
    ap.add_argument("--labels", type=Path)
    args = ap.parse_args()
    if args.labels:
        label_auc(load_embedder(args.model), args.labels)
        return
    counts, known, series, totals, months = load("arxiv")
    key = hashlib.sha256("|".join(PROMPTS).encode()).hexdigest()[:8]
    path = CACHE / f"terms-prior-{args.model}-{key}.pkl"
    cache: dict[str, float] = pickle.loads(path.read_bytes()) if path.is_file() else {}
    embedder = load_embedder(args.model)
    results, left_out = [], []
    for m, (fitted, _) in cutoff_windows(counts, cutoffs_of("arxiv", counts),
                                         TermSettings()).items():
        if fitted is None:
            continue
        settings = fitted.settings
        res = evaluate_cutoff(counts, m, settings, settings.top, note=fitted.note)
        c = counts.month_index(m)
        window = build_window(counts, c, settings)
        every = score_window(counts, window, replace(settings, top=10**6))
        p = prior(embedder, [r["term"] for r in every], cache)
        kept = [r for r in every if p[r["term"]] >= 0][:settings.top]
        dropped = [r["term"] for r in every[:settings.top] if p[r["term"]] < 0]
        left_out.append(len(dropped))
        res.ranked = kept
        if res.judged:
            res.precision["ours"] = precision_of(counts, window, settings, kept)
        print(f"{m}: {len(dropped)} of the defaults' top {settings.top} left out "
              f"(e.g. {dropped[:6]}); p@100 {res.precision.get('ours')}; first 8 kept: "
              f"{[r['term'] for r in kept[:8]]}", flush=True)
        results.append(res)
    path.write_bytes(pickle.dumps(cache))
    print_lists("prior", known, results, series, totals, months, args.heldout)


if __name__ == "__main__":
    main()
