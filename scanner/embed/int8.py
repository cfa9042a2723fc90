"""The int8 build of an OpenVINO model: NNCF post-training quantisation, weights and
activations, calibrated offline on a fixed set of texts.

Built once per float32 conversion, NNCF release and calibration set, beside the float32
build in the model cache (its own folder, sealed like the others: a BUILT marker with
the digest and every file's size, rebuilt when damaged). The float32 IR is quantised
with `model_type=TRANSFORMER` (NNCF keeps LayerNorm, softmax, GELU and the embedding
lookup in float and quantises the matmuls; SmoothQuant moves activation outliers into
the weights first) and fast bias correction. The result runs on the same
OpenVinoEmbedder, tokenizer and pooling as the float32 build.

Calibration: the inputs are built exactly as the embedder builds them (prefix, the
model's token budget, length-sorted batches of four padded to a multiple of eight), from
the texts `calibration_texts` returns. The quantisation runs in a child process, as the
conversion does: NNCF and the graph's node numbering then start fresh, so the same
inputs give the same bytes, and NNCF's memory is not kept by the caller.

The default backend of multilingual-e5-small since issue #22 (it passed the decision
protocol in docs/evaluation.md; -fast missed its speed bar and keeps int8 opt-in); nncf
is a core dependency. Vectors from this
build are stored under their own key (`scanner.embed.registry.embedding_key`: the model
id + "+int8"), never beside float32 ones; a store of float32 vectors keeps float32
(`scanner.embed.registry.settle_backend`).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from scanner import PROJECT_ROOT
from scanner.embed.openvino import DESCRIPTION, description_int, import_openvino, save_ir_folder
from scanner.errors import ConfigError

#: Bumped whenever the build's output changes (a cached build of another format is redone).
INT8_FORMAT = 1
#: Calibration texts per language (English abstracts, Chinese news), read from the shared
#: corpora at rows the benchmark and the quality check never read (past SKIP_ROWS).
CALIBRATION_PER_LANGUAGE = 96
SKIP_ROWS = 5000
SEED = 20261201
#: Truncation of the calibration texts: the longest budget of the models sharing a float32
#: build (e5-small and e5-small-fast), so the build does not depend on which one asked.
CALIBRATION_TOKENS = 512
#: Every this many of the taxonomy's field prototypes (labels, descriptions, keyword lists
#: and single terms, in both languages) join the calibration set, as queries.
PROTOTYPE_STRIDE = 12
SHARED_CORPUS = PROJECT_ROOT.parent / "shared" / "data" / "corpus"
CORPORA = {"en": ("arxiv_2010_2019.parquet", "paper", ["title", "abstract"]),
           "zh": ("news_zh_2022_2024.parquet", "news", ["title", "text"])}


def nncf_version() -> str:
    """NNCF's release (3.4.0), which names the cached build."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nncf")
    except PackageNotFoundError as exc:
        raise ConfigError("the openvino-int8 embedding backend needs the nncf package to "
                          "build its model (a dependency of horizon-scanner: pip install "
                          "'nncf>=3.4,<3.5'); or set embed_backend = \"openvino\" "
                          "(float32)") from exc


@lru_cache(maxsize=1)
def int8_unavailable() -> str:
    """Why the int8 build cannot be made here ("" when it can), said once on stderr."""
    reason = ""
    try:
        nncf_version()
    except ConfigError:
        reason = "the nncf package is not installed"
    missing = [name for name, _, _ in CORPORA.values() if not (SHARED_CORPUS / name).is_file()]
    if missing and not reason:
        reason = f"its calibration corpus {SHARED_CORPUS / missing[0]} is missing"
    if reason:
        print(f"int8 embedding backend unavailable ({reason}): using float32 OpenVINO, "
              "whose vectors are stored under the model's own id", file=sys.stderr)
    return reason


def calibration_texts(per_language: int = CALIBRATION_PER_LANGUAGE,
                      corpus: Path = SHARED_CORPUS) -> tuple[list[str], list[str]]:
    """(passages, queries) to calibrate on, built as the pipeline builds them: a fixed
    seeded sample of English abstracts and Chinese news stories (half each), and a
    spread of the taxonomy's field prototypes, which the assign stage embeds as queries."""
    import pyarrow.parquet as pq

    from scanner.assign.features import field_prototypes
    from scanner.config import Config
    from scanner.embed.service import item_text
    from scanner.taxonomy import load_taxonomy

    passages: list[str] = []
    for name, kind, columns in CORPORA.values():
        path = corpus / name
        if not path.is_file():
            raise ConfigError(f"the int8 build calibrates on {path}, which is missing: put "
                              "../shared beside the repository, or set embed_backend = "
                              "\"openvino\" (float32)")
        corpus_file = pq.ParquetFile(path)
        wanted = set(np.random.default_rng(SEED).permutation(
            np.arange(SKIP_ROWS, corpus_file.metadata.num_rows))[:per_language].tolist())
        offset = 0  # batch by batch: the whole table would hold ~1 GB
        for batch in corpus_file.iter_batches(batch_size=20_000, columns=columns):
            picked = sorted(i - offset for i in wanted if offset <= i < offset + batch.num_rows)
            for row in batch.take(picked).to_pylist() if picked else []:
                passages.append(item_text({"kind": kind, "title": row[columns[0]],
                                           "summary": row[columns[1]]}))
            offset += batch.num_rows
    prototypes = [text for _, text in field_prototypes(load_taxonomy(Config().taxonomy_file))]
    return passages, prototypes[::PROTOTYPE_STRIDE][:2 * per_language]  # 78 by default


def calibration_batches(spec: Any, folder: Path, passages: list[str], queries: list[str]
                        ) -> list[dict[str, Any]]:
    """The model's inputs for these texts, batched and padded as the embedder does it."""
    from scanner.embed.openvino import BATCH_SIZE, OpenVinoEmbedder

    embedder = OpenVinoEmbedder.__new__(OpenVinoEmbedder)  # the tokenizer only, no model
    embedder.batch_size = BATCH_SIZE
    embedder.setup_tokenizer(spec, folder, CALIBRATION_TOKENS)
    return [arrays for role, texts in (("passage", passages), ("query", queries))
            for _, arrays in embedder.batches(embedder._encode(texts, role))]


def texts_digest(texts: list[str]) -> str:
    """SHA-256 of the calibration texts (recorded in the build's description)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()


def build_int8_folder(spec: Any, source: Path, out: Path,
                      per_language: int = CALIBRATION_PER_LANGUAGE) -> str:
    """Quantise the float32 OpenVINO build `source` into `out` (atomically); the digest.

    A finished build (its BUILT marker lists every file with its size) is reused; a
    damaged one or one of an older format is built again. The work is done by a child
    process (`python -m scanner.embed.int8`), for the same bytes every time.
    """
    from scanner.embed.build import folder_intact
    from scanner.embed.openvino import _format_of

    if (out / "BUILT").is_file():
        if folder_intact(out) and _int8_format_of(out) == INT8_FORMAT and _format_of(out):
            return (out / "BUILT").read_text().splitlines()[0].strip()
        print(f"int8 model folder {out} is incomplete or of an older format: "
              "quantising it again", file=sys.stderr)
    nncf_version()  # a clear error before the child process when nncf is missing
    done = subprocess.run([sys.executable, "-m", "scanner.embed.int8", spec.id, str(source),
                           str(out), str(per_language)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0 or not (out / "BUILT").is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise ConfigError(f"quantising {source} to int8 failed (exit {done.returncode}):"
                          f"\n{tail}")
    return (out / "BUILT").read_text().splitlines()[0].strip()


def _quantise(model_id: str, source: Path, out: Path, per_language: int) -> None:
    """The quantisation itself (run by build_int8_folder in a child process)."""
    import logging

    from scanner.embed.registry import model_spec

    ov = import_openvino()  # first: NNCF's telemetry then finds no openvino_telemetry
    import nncf

    nncf.set_log_level(logging.ERROR)
    spec = model_spec(model_id)
    passages, queries = calibration_texts(per_language)
    batches = calibration_batches(spec, source, passages, queries)
    texts = passages + queries
    model = ov.Core().read_model(str(source / "model.xml"))
    quantised = nncf.quantize(model, nncf.Dataset(batches), subset_size=len(batches),
                              model_type=nncf.ModelType.TRANSFORMER,
                              preset=nncf.QuantizationPreset.MIXED,
                              fast_bias_correction=True)
    description = json.loads((source / DESCRIPTION).read_text(encoding="utf-8"))
    description.update({"precision": "int8", "int8_format": INT8_FORMAT,
                        "nncf": nncf_version(), "quantised_from": source.name,
                        "calibration": {"texts": len(texts), "batches": len(batches),
                                        "sha256": texts_digest(texts)}})
    save_ir_folder(ov, quantised, source, out, description)


def _int8_format_of(folder: Path) -> int | None:
    return description_int(folder, "int8_format")


if __name__ == "__main__":  # python -m scanner.embed.int8 MODEL SOURCE OUT N (the child)
    _quantise(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
