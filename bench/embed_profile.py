"""Where an embedding's time goes: OpenVINO's per-layer profile of the float32 and int8
builds, and the int8 speed-up that profile allows.

Run: .venv/bin/python bench/embed_profile.py [--model multilingual-e5-small] [--n 100]

For English abstracts and Chinese news (the texts of bench/embed.py), each build runs
the embedder's own length-sorted batches on one thread with OpenVINO's performance
counters on; the layers' times are summed by layer type and the kernel OpenVINO chose
(`brgemm_avx512_bf16` says the "float32" build's matmuls run in bf16 on this CPU). The
last lines give each part's int8 speed-up and the end-to-end bound they imply
(Amdahl: every part at its measured speed-up), beside the measured end-to-end ratio.
Both builds must be in the model cache (`scanner models build`, and the int8 build by
one int8 run or `make calibrators`).
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from embed import texts  # noqa: E402

#: Layer types grouped into the parts of a transformer encoder the summary names.
PARTS = {"FullyConnected": "dense layers", "FullyConnectedQuantizedLegacy": "dense layers",
         "Subgraph": "attention"}


def profile(embedder, folder: Path, batch_texts: list[str]) -> collections.Counter:
    """Seconds per (layer type, kernel) over the embedder's batches of these texts."""
    from scanner.embed.openvino import import_openvino

    compiled = import_openvino().Core().compile_model(
        str(folder / "model.xml"), "CPU",
        {"PERF_COUNT": True, "INFERENCE_NUM_THREADS": 1, "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    spent: collections.Counter = collections.Counter()
    for _, arrays in embedder.batches(embedder._encode(batch_texts, "passage")):
        request.infer(arrays)
        for layer in request.profiling_info:
            spent[(layer.node_type, layer.exec_type)] += layer.real_time.total_seconds()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    from scanner.embed.openvino import BATCH_SIZE, OpenVinoEmbedder
    from scanner.embed.registry import int8_model_folder, model_spec, openvino_model_folder

    spec = model_spec(args.model)
    folders = {"openvino": openvino_model_folder(spec), "openvino-int8": int8_model_folder(spec)}
    for lang in ("en", "zh"):
        batch_texts = texts(lang, args.n)
        parts: dict[str, collections.Counter] = {}
        for build in ("openvino", "openvino-int8"):
            folder = folders[build]
            embedder = OpenVinoEmbedder.__new__(OpenVinoEmbedder)  # tokenizer and batches
            embedder.batch_size = BATCH_SIZE
            embedder.setup_tokenizer(spec, folder, spec.max_tokens)
            spent = profile(embedder, folder, batch_texts)
            total = sum(spent.values())
            print(f"\n{lang} {build}: {total:.2f} s on one thread for {args.n} texts")
            for (kind, kernel), seconds in spent.most_common(6):
                print(f"  {100 * seconds / total:5.1f}%  {kind:30} {kernel}")
            parts[build] = collections.Counter()
            for (kind, _), seconds in spent.items():
                parts[build][PARTS.get(kind, "the rest")] += seconds
        f32, i8 = parts["openvino"], parts["openvino-int8"]
        f32_total, i8_total = sum(f32.values()), sum(i8.values())
        print(f"{lang}: int8 speed-up by part (share of the float32 time):")
        for part in ("dense layers", "attention", "the rest"):
            print(f"  {part:13} {f32[part] / max(i8[part], 1e-9):5.2f}x  "
                  f"({100 * f32[part] / f32_total:4.1f}%)")
        bound = f32_total / (f32["dense layers"] / 2 + i8_total - i8["dense layers"])
        print(f"  end to end    {f32_total / i8_total:5.2f}x on one thread; the dense layers "
              f"at 2.00x (VNNI's int8 multiply-add rate over bf16's), the rest as measured: "
              f"{bound:5.2f}x")


if __name__ == "__main__":
    main()
