"""The OpenVINO backend of the embedding engine: the same model, run by OpenVINO's CPU plugin.

On this machine kind (2 cores, AVX2, no AVX-512) it embeds 10-20 % faster than torch
with the same vectors (cosine 1.0000 on the benchmark texts; docs/evaluation.md).

Build, offline and once per model folder and OpenVINO version (cached beside the model
folder): the sentence-transformers folder's transformer is traced by
`openvino.convert_model` and saved as float32 IR (no fp16 compression), with the
folder's `tokenizer.json` and a description (inputs, pad id, dimension). Inference needs
neither torch nor sentence-transformers: the `tokenizers` library, the compiled model,
then mean pooling and L2 normalisation in numpy, as the folder's own modules do.

Telemetry: OpenVINO's converter sends usage data unless a consent file in the user's
home says no. We never phone home, so `openvino_telemetry` is hidden before openvino is
first imported, and the converter falls back to its built-in no-op stub.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scanner.errors import ConfigError

#: Items per inference call. Measured on 200 abstracts against 8 (torch's best): 4 is
#: 4-6 % faster here; with a shape padded to a multiple of 8, oneDNN reuses its kernels.
BATCH_SIZE = 4
PAD_MULTIPLE = 8
#: Bumped whenever the build's output changes (a cached build of another format is redone).
FORMAT = 1
DESCRIPTION = "scanner-openvino.json"
CPU_SETTINGS = {"PERFORMANCE_HINT": "LATENCY", "CPU_DENORMALS_OPTIMIZATION": True}
#: Inference streams when the process has two threads or more: batches run concurrently,
#: one stream per half of the threads, instead of one batch split across all of them.
#: Measured on this 2-core machine (issue #22, paired A/B, CPU time): float32 1.21x,
#: int8 1.25x against one stream; 1 gives the single-stream setting of before.
STREAMS = 2


def streams_for(threads: int) -> int:
    """Streams for this many threads (one stream when there is one thread)."""
    return max(1, min(STREAMS, threads))


def cpu_settings(threads: int) -> dict[str, Any]:
    """The CPU plugin's settings for this many threads. Threads are pinned to cores only
    when the process uses every core: two Dask workers of one thread each would otherwise
    both be pinned to the first core."""
    import os

    pin = threads >= (os.cpu_count() or 1)
    settings = {**CPU_SETTINGS, "INFERENCE_NUM_THREADS": threads, "ENABLE_CPU_PINNING": pin}
    if streams_for(threads) > 1:
        settings.update({"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": streams_for(threads)})
    return settings


def import_openvino() -> Any:
    """The openvino module, its converter's telemetry replaced by the no-op stub."""
    if "openvino" not in sys.modules:
        # An import of None raises ImportError: openvino then uses telemetry_stub.
        sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    try:
        import openvino
    except ImportError as exc:
        raise ConfigError("the openvino embedding backend needs the openvino package "
                          "(pip install 'openvino>=2026.4,<2027'), or set "
                          "embed_backend = \"torch\"") from exc
    return openvino


def openvino_version() -> str:
    """OpenVINO's release (2026.4.1), which names the cached build."""
    return str(import_openvino().__version__).split("-")[0]


def _pooling_is_mean(source: Path) -> bool:
    modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    for module in modules:
        if module["type"].endswith("Pooling"):
            config = json.loads((source / module["path"] / "config.json").read_text())
            modes = {k for k, v in config.items() if k.startswith("pooling_mode") and v}
            return modes == {"pooling_mode_mean_tokens"}
    return False


def build_openvino_folder(source: Path, out: Path) -> str:
    """Convert a sentence-transformers folder into `out` (atomically); return the digest.

    A finished build (its BUILT marker lists every file with its size) is reused. The
    conversion runs in a child process: the converter numbers the graph's nodes with
    process-wide counters, so only a fresh process writes the same bytes every time, and
    torch and the traced model never stay in the caller's memory.
    """
    from scanner.embed.build import folder_intact

    if (out / "BUILT").is_file():
        if folder_intact(out) and _format_of(out) == FORMAT:
            return (out / "BUILT").read_text().splitlines()[0].strip()
        print(f"OpenVINO model folder {out} is incomplete or of an older format: "
              "converting it again", file=sys.stderr)
    if not _pooling_is_mean(source) or not (source / "tokenizer.json").is_file():
        raise ConfigError(f"{source}: the openvino backend needs mean pooling and a "
                          "tokenizer.json; use embed_backend = \"torch\" for this model")
    import subprocess

    done = subprocess.run([sys.executable, "-m", "scanner.embed.openvino", str(source),
                           str(out)], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not (out / "BUILT").is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise ConfigError(f"converting {source} for OpenVINO failed (exit {done.returncode}):"
                          f"\n{tail}")
    return (out / "BUILT").read_text().splitlines()[0].strip()


def _convert(source: Path, out: Path) -> None:
    """The conversion itself (run by build_openvino_folder in a child process)."""

    ov = import_openvino()
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    st = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    transformer = st[0].auto_model.eval()
    tokenizer = st.tokenizer
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
             if n in tokenizer.model_input_names]

    class LastHidden(torch.nn.Module):
        """Only the token states: the pooler head, which the rebuilt e5 folder does not
        ship and transformers fills with random weights, is left out of the graph."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              **extra).last_hidden_state

    example = tokenizer(["passage: a short text", "passage: a somewhat longer text to trace"],
                        padding=True, return_tensors="pt")
    with torch.no_grad():
        model = ov.convert_model(LastHidden().eval(),
                                 example_input={n: example[n] for n in names},
                                 input=[(n, [-1, -1], ov.Type.i64) for n in names])
    save_ir_folder(ov, model, source, out, {
        "format": FORMAT, "inputs": names, "pad_id": int(tokenizer.pad_token_id),
        "dimension": int(transformer.config.hidden_size), "pooling": "mean",
        "openvino": openvino_version()})


def save_ir_folder(ov: Any, model: Any, source: Path, out: Path,
                   description: dict[str, Any]) -> None:
    """Write an OpenVINO model, the source folder's tokenizer and its description into
    `out`, atomically: a `.partial` folder sealed with its digest."""
    from scanner.embed.build import folder_digest, seal_folder

    temp = out.with_name(out.name + ".partial")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    ov.save_model(model, str(temp / "model.xml"), compress_to_fp16=False)
    shutil.copyfile(source / "tokenizer.json", temp / "tokenizer.json")
    (temp / DESCRIPTION).write_text(json.dumps(description, indent=1, sort_keys=True) + "\n")
    seal_folder(temp, out, folder_digest(temp))


def description_int(folder: Path, key: str) -> int | None:
    """An integer entry (a format number) of a built folder's description, or None."""
    try:
        return int(json.loads((folder / DESCRIPTION).read_text())[key])
    except (OSError, ValueError, KeyError):
        return None


def _format_of(folder: Path) -> int | None:
    return description_int(folder, "format")


class OpenVinoEmbedder:
    """A converted model on OpenVINO's CPU plugin, with the model's prefixes and budget.

    backend: "openvino" for the float32 build, "openvino-int8" for its int8 build
    (scanner/embed/int8.py); the stored vectors' key says which (`key`).
    """

    #: Batches pad to their own longest item, the items sorted by token count first;
    #: False keeps the input order (the same vectors, more padding: for tests).
    sort_by_length = True

    def __init__(self, spec: Any, folder: Path, threads: int,
                 batch_size: int = BATCH_SIZE, backend: str = "openvino") -> None:
        ov = import_openvino()

        started = time.monotonic()
        self.backend = backend
        self.key = spec.id + ("+int8" if backend == "openvino-int8" else "")
        self.batch_size = batch_size
        self.setup_tokenizer(spec, folder, spec.max_tokens)
        self.compiled = ov.Core().compile_model(
            str(folder / "model.xml"), "CPU", cpu_settings(threads))
        self.queue = ov.AsyncInferQueue(self.compiled, streams_for(threads))
        self.load_seconds = time.monotonic() - started

    def setup_tokenizer(self, spec: Any, folder: Path, max_tokens: int) -> None:
        """The folder's tokenizer and description, truncating at max_tokens."""
        from tokenizers import Tokenizer

        self.spec = spec
        self.description = json.loads((folder / DESCRIPTION).read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)

    def _encode(self, texts: Sequence[str], role: str) -> list[Any]:
        prefix = self.spec.query_prefix if role == "query" else self.spec.passage_prefix
        return self.tokenizer.encode_batch([prefix + t for t in texts])

    def batches(self, encodings: Sequence[Any]) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        """(row numbers, model inputs) of each batch: with sort_by_length, the rows in
        descending token count, so a batch pads only to its own longest item (rounded up
        to a multiple of PAD_MULTIPLE)."""
        order = (np.argsort([-len(e.ids) for e in encodings], kind="stable")
                 if self.sort_by_length else np.arange(len(encodings)))
        inputs = self.description["inputs"]
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            longest = max(len(encodings[i].ids) for i in rows)
            width = -(-longest // PAD_MULTIPLE) * PAD_MULTIPLE
            arrays = {"input_ids": np.full((len(rows), width), self.description["pad_id"],
                                           dtype=np.int64),
                      "attention_mask": np.zeros((len(rows), width), dtype=np.int64),
                      "token_type_ids": np.zeros((len(rows), width), dtype=np.int64)}
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                arrays["input_ids"][r, :n] = encodings[i].ids
                arrays["attention_mask"][r, :n] = 1
                arrays["token_type_ids"][r, :n] = encodings[i].type_ids
            yield rows, {n: arrays[n] for n in inputs}

    def embed(self, texts: Sequence[str], role: str = "passage") -> np.ndarray:
        """Normalised float32 vectors, one row per text, in the input order. Batches run
        on the streams' requests as they come free; each result goes to its own rows."""
        out = np.zeros((len(texts), int(self.description["dimension"])), dtype=np.float32)
        if not texts:
            return out
        failures: list[BaseException] = []

        def pool(request: Any, job: tuple[np.ndarray, np.ndarray]) -> None:
            rows, mask_ids = job
            try:
                hidden = request.get_output_tensor(0).data  # the request's buffer: read now
                mask = mask_ids[:, :, None].astype(np.float32)
                pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
                norms = np.linalg.norm(pooled, axis=1, keepdims=True)
                out[rows] = pooled / np.where(norms == 0, 1.0, norms)
            except BaseException as exc:  # raised below, in the caller's thread
                failures.append(exc)

        self.queue.set_callback(pool)
        for rows, arrays in self.batches(self._encode(texts, role)):
            self.queue.start_async(arrays, (rows, arrays["attention_mask"]))
        self.queue.wait_all()
        if failures:
            raise failures[0]
        return out

    def token_counts(self, texts: Sequence[str], role: str = "passage") -> list[int]:
        """Tokens each text costs after the prefix and the budget's truncation."""
        return [len(e.ids) for e in self._encode(texts, role)]


if __name__ == "__main__":  # python -m scanner.embed.openvino SOURCE OUT (the build's child)
    _convert(Path(sys.argv[1]), Path(sys.argv[2]))
