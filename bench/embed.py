"""Embedding benchmark: speed against this CPU's compute bound, memory, load time.

Run: .venv/bin/python bench/embed.py [--n 1000] [--models multilingual-e5-small,...]

For 1,000 English abstracts (arxiv_2010_2019) and 1,000 Chinese news items
(news_zh_2022_2024) and each model, in a fresh subprocess (so peak RSS is the
model's own): load time, items/s, tokens/s, peak RSS. The compute bound is the
sustained float32 matmul rate of this CPU with the same threads, measured on
matrices shaped like the model's layers; FLOPs per item come from the layer sizes
and the real token counts. The last column is achieved items/s over items/s at
that bound. Each model runs on its default backend (OpenVINO); e5-small also runs on
torch (our settings), and a baseline row runs plain sentence-transformers with its
default settings on the same texts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data" / "corpus"


def texts(kind: str, n: int) -> list[str]:
    """The benchmark texts, built as the pipeline builds them."""
    import pyarrow.parquet as pq

    from scanner.embed import item_text

    def first(name: str, columns: list[str]) -> list[dict]:
        # one batch only: reading whole columns would count the corpus in the peak RSS
        batches = pq.ParquetFile(SHARED / name).iter_batches(batch_size=n, columns=columns)
        return next(batches).to_pylist()

    if kind == "en":
        rows = first("arxiv_2010_2019.parquet", ["title", "abstract"])
        return [item_text({"kind": "paper", "title": r["title"], "summary": r["abstract"]})
                for r in rows]
    rows = first("news_zh_2022_2024.parquet", ["title", "text"])
    return [item_text({"kind": "news", "title": r["title"], "summary": r["text"]})
            for r in rows]


def matmul_gflops(threads: int, seconds: float = 3.0) -> float:
    """Sustained float32 GEMM rate with `threads` threads, layer-shaped operands."""
    import torch

    torch.set_num_threads(threads)
    a = torch.randn(2048, 384)
    b = torch.randn(384, 1536)
    c = torch.randn(2048, 1536)
    d = torch.randn(1536, 384)
    for _ in range(3):
        torch.mm(a, b)
    flops, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        torch.mm(a, b)
        torch.mm(c, d)
        flops += 2 * 2048 * 384 * 1536 * 2
    return flops / (time.perf_counter() - started) / 1e9


def flops_per_item(tokens: list[int], hidden: int, layers: int, ffn: int) -> float:
    """Mean forward FLOPs per item: dense layers per token plus attention per sequence."""
    dense = 2 * (4 * hidden * hidden + 2 * hidden * ffn) * layers
    total = sum(t * dense + layers * 4 * t * t * hidden for t in tokens)
    return total / len(tokens)


def worker(model_id: str, kind: str, n: int, threads: int, mode: str) -> dict:
    """One measurement, run in its own process."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ["HF_HUB_OFFLINE"] = "1"
    from scanner.embed import load_embedder, model_folder, model_spec

    data = texts(kind, n)
    # Measured here and now, before and after the run: the shared machine's rate drifts,
    # and the higher of the two (the lower fraction of the bound) is the one reported.
    bound = matmul_gflops(threads)
    started = time.perf_counter()
    if mode == "plain":  # plain sentence-transformers, its default batch size and threads
        from sentence_transformers import SentenceTransformer

        spec = model_spec(model_id)
        model = SentenceTransformer(str(model_folder(spec)), device="cpu")
        load = time.perf_counter() - started
        started = time.perf_counter()
        model.encode([spec.passage_prefix + t for t in data])
        tokens = [min(len(x), spec.max_tokens) for x in
                  model.tokenizer([spec.passage_prefix + t for t in data])["input_ids"]]
    else:
        embedder = load_embedder(model_id, threads, backend="" if mode == "default" else mode)
        load = time.perf_counter() - started
        started = time.perf_counter()
        embedder.embed(data)
        tokens = embedder.token_counts(data)  # type: ignore[attr-defined]
        spec = embedder.spec
    seconds = time.perf_counter() - started
    bound = max(bound, matmul_gflops(threads))
    label = {"default": "", "plain": " (plain ST defaults)", "torch": " (torch)",
             "openvino": " (openvino)"}[mode]
    return {"model": model_id + label, "texts": kind,
            "n": n, "load_s": round(load, 1), "items_s": n / seconds,
            "tokens_s": sum(tokens) / seconds, "mean_tokens": sum(tokens) / len(tokens),
            "tokens": tokens, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            / 1024, "max_tokens": spec.max_tokens, "gflops": bound}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--models", default="multilingual-e5-small,multilingual-e5-small-fast,"
                        "all-minilm-l6-v2")
    parser.add_argument("--texts", default="en,zh", help="en, zh or both")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        model_id, kind, mode = args.worker.split(":")
        print(json.dumps(worker(model_id, kind, args.n, args.threads, mode)))
        return
    if not SHARED.exists():
        sys.exit(f"{SHARED} is missing: put ../shared beside the repo root")
    print(f"CPU float32 matmul bound measured before and after each run with {args.threads} "
          "threads (the higher one counts)")
    kinds = args.texts.split(",")
    jobs = [(m, k, "default") for m in args.models.split(",") for k in kinds]
    if "multilingual-e5-small" in args.models.split(","):
        at = len(kinds)  # after the default model's own rows
        jobs[at:at] = [("multilingual-e5-small", k, mode) for mode in ("torch", "plain")
                       for k in kinds]
    print(f"{'model':42} {'texts':5} {'load s':>6} {'items/s':>8} {'tok/s':>7} "
          f"{'tokens':>6} {'RSS MB':>7} {'GFLOP/s':>8} {'bound/s':>8} {'of bound':>8}")
    for model_id, kind, mode in jobs:
        out = subprocess.run([sys.executable, __file__, "--n", str(args.n), "--threads",
                              str(args.threads), "--worker", f"{model_id}:{kind}:{mode}"],
                             capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        per_item = flops_per_item(row["tokens"], 384, 6 if "minilm" in model_id else 12, 1536)
        at_bound = row["gflops"] * 1e9 / per_item
        print(f"{row['model']:42} {kind:5} {row['load_s']:6.1f} {row['items_s']:8.1f} "
              f"{row['tokens_s']:7.0f} {row['mean_tokens']:6.0f} {row['peak_rss_mb']:7.0f} "
              f"{row['gflops']:8.1f} {at_bound:8.1f} {row['items_s'] / at_bound:8.0%}",
              flush=True)


if __name__ == "__main__":
    main()
