"""Topic discovery against BERTopic on the same embeddings: time, memory, outliers, agreement.

Run: .venv/bin/python bench/topics.py [--sizes 10000,50000,100000]
         [--model multilingual-e5-small-fast] [--methods ours,bertopic]

Inputs: a fixed random sample of ../shared/data/corpus/arxiv_2010_2019.parquet and its
embeddings from bench/corpus_cache.py (the 10k and 50k points are prefixes of the 100k
sample). Each method runs in a fresh subprocess, so its wall time and peak RSS are its
own (loading the vectors and texts is included for both):

- ours: scanner.topics.Clusterer as the nightly full reclustering runs it (PCA 50,
  k-means with k = sqrt(n/2) capped at 300, robust outlier floor, minimum size 8) plus
  scanner.topics.keywords c-TF-IDF keywords;
- BERTopic 0.17 with its defaults (UMAP 5-d, HDBSCAN min_cluster_size 10, CountVectorizer
  c-TF-IDF), given the same embeddings; it runs in the benchmark venv
  (.cache/bench-venv, `make bench-env`), never in the project's.

Agreement with arXiv primary categories: NMI and adjusted Rand, over all items (the
unassigned as one group) and over assigned items only.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
BENCH_PYTHON = REPO / ".cache" / "bench-venv" / "bin" / "python"
PROJECT_PYTHON = REPO / ".venv" / "bin" / "python"


def _rss_mb() -> float:
    """Current resident memory of this process in MB."""
    import gc
    import os

    gc.collect()
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _texts_and_categories(n: int) -> tuple[list[str], list[str]]:
    from corpus_cache import sample_rows

    rows = sample_rows(n)
    return ([f"{r['title']}. {r['abstract']}" for r in rows], [r["primary_cat"] for r in rows])


def run_ours(n: int, model: str) -> dict:
    """Our full reclustering and keywords; labels with -1 for unassigned."""
    from corpus_cache import load_prefix

    from scanner.config import TopicSettings
    from scanner.topics import Clusterer
    from scanner.topics.keywords import ctfidf_keywords

    started = time.monotonic()
    vectors = load_prefix(n, model)
    texts, _ = _texts_and_categories(n)
    loaded = _rss_mb()
    settings = TopicSettings()
    clusterer = Clusterer.for_window(settings, n).fit(vectors)
    labels = clusterer.labels_.tolist()
    keywords = ctfidf_keywords([t[:1000] for t in texts], labels, ["en"] * n)
    return {"labels": labels, "seconds": time.monotonic() - started, "inputs_rss_mb": loaded,
            "example": [" / ".join(keywords[c]["en"][:4]) for c in sorted(keywords)[:3]]}


def run_bertopic(n: int, model: str) -> dict:
    """BERTopic with default settings on the same vectors; -1 is its outlier topic."""
    from bertopic import BERTopic
    from corpus_cache import load_prefix

    started = time.monotonic()
    vectors = load_prefix(n, model)
    texts, _ = _texts_and_categories(n)
    loaded = _rss_mb()
    topic_model = BERTopic(embedding_model=None, verbose=False)
    labels, _ = topic_model.fit_transform(texts, embeddings=vectors)
    info = topic_model.get_topic_info()
    examples = [str(name) for name in info["Name"].tolist() if not str(name).startswith("-1")][:3]
    return {"labels": [int(x) for x in labels], "seconds": time.monotonic() - started,
            "inputs_rss_mb": loaded, "example": examples}


def _child(method: str, n: int, model: str, out: Path) -> None:
    result = run_ours(n, model) if method == "ours" else run_bertopic(n, model)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps(result))


def measure(method: str, n: int, model: str) -> dict:
    """Run one method in a fresh process; its result with wall time and peak RSS."""
    python = BENCH_PYTHON if method == "bertopic" else PROJECT_PYTHON
    if not python.exists():
        raise SystemExit(f"{python} is missing: run `make bench-env` first")
    out = REPO / ".cache" / "bench" / f"topics-{method}-{n}.json"
    started = time.monotonic()
    subprocess.run([str(python), __file__, "--child", method, "--n", str(n),
                    "--model", model, "--out", str(out)], check=True)
    result = json.loads(out.read_text())
    result["wall"] = time.monotonic() - started
    return result


def agreement(labels: list[int], categories: list[str]) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    kept = [i for i, label in enumerate(labels) if label != -1]
    return {
        "nmi_all": normalized_mutual_info_score(categories, labels),
        "ari_all": adjusted_rand_score(categories, labels),
        "nmi_assigned": normalized_mutual_info_score([categories[i] for i in kept],
                                                     [labels[i] for i in kept]),
        "ari_assigned": adjusted_rand_score([categories[i] for i in kept],
                                            [labels[i] for i in kept]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--model", default="multilingual-e5-small-fast")
    parser.add_argument("--methods", default="ours,bertopic")
    parser.add_argument("--child")
    parser.add_argument("--n", type=int)
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.n, args.model, Path(args.out))
        return
    header = (f"{'n':>7} {'method':<9} {'wall s':>7} {'peak MB':>8} {'+inputs':>8} {'topics':>6} "
              f"{'unassigned':>10} {'NMI all':>8} {'ARI all':>8} {'NMI asg':>8} {'ARI asg':>8}")
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        _, categories = _texts_and_categories(n)
        results = {}
        for method in args.methods.split(","):
            result = measure(method, n, args.model)
            score = agreement(result["labels"], categories)
            unassigned = sum(1 for x in result["labels"] if x == -1) / n
            topics = len(set(result["labels"]) - {-1})
            results[method] = result
            above = result["peak_rss_mb"] - result["inputs_rss_mb"]
            rows.append(f"{n:>7} {method:<9} {result['wall']:>7.1f} {result['peak_rss_mb']:>8.0f} "
                        f"{above:>8.0f} {topics:>6} {unassigned:>10.1%} {score['nmi_all']:>8.3f} "
                        f"{score['ari_all']:>8.3f} {score['nmi_assigned']:>8.3f} "
                        f"{score['ari_assigned']:>8.3f}")
            print(rows[-1], flush=True)
            print(f"        examples: {result['example']}", flush=True)
        if {"ours", "bertopic"} <= set(results):
            ours, theirs = results["ours"], results["bertopic"]
            above = [r["peak_rss_mb"] - r["inputs_rss_mb"] for r in (ours, theirs)]
            print(f"        ours vs BERTopic at {n}: {theirs['wall'] / ours['wall']:.1f}x faster, "
                  f"{ours['peak_rss_mb'] / theirs['peak_rss_mb']:.0%} of its peak memory "
                  f"({above[0] / max(above[1], 1):.0%} of the memory it adds above the "
                  "loaded inputs)", flush=True)
    print(f"\nmodel {args.model}; arXiv 2010-2019 random sample\n{header}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
