"""Embedding benchmark: speed against this CPU's compute bound, memory, load time.

Run: .venv/bin/python bench/embed.py [--n 1000] [--models multilingual-e5-small,...]

For 1,000 English abstracts (arxiv_2010_2019) and 1,000 Chinese news items
(news_zh_2022_2024) and each model, in a fresh subprocess (so peak RSS is the
model's own): load time, items/s, tokens/s, peak RSS. The compute bound is the
sustained float32 matmul rate of this CPU with the same threads, measured on
matrices shaped like the model's layers; FLOPs per item come from the layer sizes
and the real token counts. The last column is achieved items/s over items/s at
that bound (for int8 rows too: how far past the float32 bound int8 gets). Each model
runs on OpenVINO float32 and on its int8 build, interleaved (float32, int8, float32, ...)
for --rounds rounds, since the shared machine's rate drifts; the summary gives the
median items/s of each and the int8/float32 ratio, by wall time and by CPU time (the
process's user+system seconds, less sensitive to other processes on the cores).
e5-small also runs on torch (our settings), and a baseline row runs plain
sentence-transformers with its default settings (skipped with --no-baselines).
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
    cpu_started = time.process_time()
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
        cpu_started = time.process_time()
        model.encode([spec.passage_prefix + t for t in data])
        cpu = time.process_time() - cpu_started
        tokens = [min(len(x), spec.max_tokens) for x in
                  model.tokenizer([spec.passage_prefix + t for t in data])["input_ids"]]
    else:
        if mode.endswith("1stream"):  # the setting before issue #22: one inference stream
            import scanner.embed.openvino

            scanner.embed.openvino.STREAMS = 1
            mode_backend = mode.removesuffix("-1stream")
        else:
            mode_backend = "" if mode == "default" else mode
        embedder = load_embedder(model_id, threads, backend=mode_backend)
        load = time.perf_counter() - started
        started = time.perf_counter()
        cpu_started = time.process_time()
        embedder.embed(data)
        cpu = time.process_time() - cpu_started
        tokens = embedder.token_counts(data)  # type: ignore[attr-defined]
        spec = embedder.spec
    seconds = time.perf_counter() - started
    bound = max(bound, matmul_gflops(threads))
    label = {"default": "", "plain": " (plain ST defaults)", "torch": " (torch)",
             "openvino": " (openvino)", "openvino-int8": " (openvino-int8)",
             "openvino-1stream": " (openvino, 1 stream)",
             "openvino-int8-1stream": " (openvino-int8, 1 stream)"}[mode]
    return {"model": model_id + label, "texts": kind,
            "n": n, "load_s": round(load, 1), "items_s": n / seconds, "cpu_s": cpu,
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
    parser.add_argument("--rounds", type=int, default=2,
                        help="float32/int8 pairs per model and texts, interleaved")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip the torch and plain sentence-transformers rows")
    parser.add_argument("--one-stream", action="store_true",
                        help="also run float32 with one inference stream (before issue #22)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        model_id, kind, mode = args.worker.split(":")
        print(json.dumps(worker(model_id, kind, args.n, args.threads, mode)))
        return
    if not SHARED.exists():
        sys.exit(f"{SHARED} is missing: put ../shared beside the repo root")
    from scanner.embed import model_spec

    print(f"CPU float32 matmul bound measured before and after each run with {args.threads} "
          "threads (the higher one counts); * marks each model's default backend")
    kinds = args.texts.split(",")
    models = args.models.split(",")
    modes = ("openvino-1stream", "openvino", "openvino-int8") if args.one_stream else \
        ("openvino", "openvino-int8")
    jobs = [(m, k, mode) for m in models for k in kinds for _ in range(args.rounds)
            for mode in modes]
    if "multilingual-e5-small" in models and not args.no_baselines:
        at = len(kinds) * args.rounds * len(modes)  # after the default model's own rows
        jobs[at:at] = [("multilingual-e5-small", k, mode) for mode in ("torch", "plain")
                       for k in kinds]
    print(f"{'model':42} {'texts':5} {'load s':>6} {'items/s':>8} {'tok/s':>7} "
          f"{'tokens':>6} {'RSS MB':>7} {'GFLOP/s':>8} {'bound/s':>8} {'of bound':>8}")
    rows: dict[tuple[str, str, str], list[dict]] = {}
    for model_id, kind, mode in jobs:
        out = subprocess.run([sys.executable, __file__, "--n", str(args.n), "--threads",
                              str(args.threads), "--worker", f"{model_id}:{kind}:{mode}"],
                             capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.setdefault((model_id, kind, mode), []).append(row)
        per_item = flops_per_item(row["tokens"], 384, 6 if "minilm" in model_id else 12, 1536)
        at_bound = row["gflops"] * 1e9 / per_item
        mark = "*" if mode == model_spec(model_id).backends[0] else ""
        print(f"{row['model'] + mark:42} {kind:5} {row['load_s']:6.1f} {row['items_s']:8.1f} "
              f"{row['tokens_s']:7.0f} {row['mean_tokens']:6.0f} {row['peak_rss_mb']:7.0f} "
              f"{row['gflops']:8.1f} {at_bound:8.1f} {row['items_s'] / at_bound:8.0%}",
              flush=True)
    print(f"\nint8 against float32 (OpenVINO), median of {args.rounds} interleaved runs each; "
          "x: by wall time, and by CPU time (user+system seconds of the embedding)")

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        half = len(ordered) // 2
        return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2

    bases = [("openvino", "float32")] + ([("openvino-1stream", "float32, 1 stream")]
                                         if args.one_stream else [])
    print(f"{'model':28} {'texts':5} {'int8 it/s':>9}   against {'':18} {'it/s':>6} "
          f"{'x wall':>7} {'x CPU':>7}")
    for model_id in models:
        for kind in kinds:
            int8 = rows[(model_id, kind, "openvino-int8")]
            b = median([r["items_s"] for r in int8])
            for base, name in bases:
                ref = rows[(model_id, kind, base)]
                a = median([r["items_s"] for r in ref])
                cpu = median([r["cpu_s"] for r in ref]) / median([r["cpu_s"] for r in int8])
                print(f"{model_id:28} {kind:5} {b:9.1f}   against {name:18} {a:6.1f} "
                      f"{b / a:7.2f} {cpu:7.2f}", flush=True)


if __name__ == "__main__":
    main()
