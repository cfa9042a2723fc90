"""The OpenVINO backend: same vectors as torch, a deterministic cached build, no telemetry."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from scanner.config import load_config
from scanner.embed import load_embedder, load_registry, model_folder, model_spec
from scanner.embed.build import folder_digest, folder_intact
from scanner.embed.openvino import OpenVinoEmbedder, build_openvino_folder, import_openvino
from scanner.errors import ConfigError
from scanner.run import configured_embedder
from tests.support.paths import shared_path


def _dev_texts(n: int) -> list[str]:
    rows = [json.loads(line) for line in
            shared_path("labels", "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    english = [r for r in rows if r["lang"] == "en"][: n // 2]
    chinese = [r for r in rows if r["lang"] == "zh"][: n // 2]
    return [f"{r['title']}. {r['text']}" for r in english + chinese]


def test_openvino_gives_the_torch_vectors_and_token_counts() -> None:
    texts = [*_dev_texts(24), "", "x", "量子", "fusion " * 1500]  # empty, tiny, cut at 512
    openvino = load_embedder("multilingual-e5-small", 2, backend="openvino")  # float32
    torch = load_embedder("multilingual-e5-small", 2, backend="torch")
    assert isinstance(openvino, OpenVinoEmbedder)
    for role in ("passage", "query"):
        a, b = openvino.embed(texts, role=role), torch.embed(texts, role=role)
        assert a.dtype == np.float32 and a.shape == b.shape == (len(texts), 384)
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
        assert (a * b).sum(axis=1).min() >= 0.999
        assert openvino.token_counts(texts, role) == torch.token_counts(texts, role)  # type: ignore[attr-defined]
    assert max(openvino.token_counts(texts)) == 512
    assert openvino.embed([]).shape == (0, 384)


def test_the_build_is_deterministic_and_redone_when_damaged(tmp_path: Path) -> None:
    source = model_folder(model_spec("multilingual-e5-small"))
    first = build_openvino_folder(source, tmp_path / "a")
    second = build_openvino_folder(source, tmp_path / "b")  # another process, same bytes
    assert first == second == folder_digest(tmp_path / "a")
    weights = tmp_path / "a" / "model.bin"
    weights.write_bytes(weights.read_bytes()[:1000])  # cut short after the build
    assert not folder_intact(tmp_path / "a")
    assert build_openvino_folder(source, tmp_path / "a") == first
    assert not (tmp_path / "a.partial").exists()


def test_a_failed_conversion_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "broken"
    (source / "1_Pooling").mkdir(parents=True)
    modules = [{"path": "", "type": "sentence_transformers.models.Transformer"},
               {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    (source / "modules.json").write_text(json.dumps(modules))
    pooling = source / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    (source / "tokenizer.json").write_text("{}")  # and no weights: the child process fails
    with pytest.raises(ConfigError, match=r"converting .* for OpenVINO failed"):
        build_openvino_folder(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    pooling.write_text(json.dumps({"pooling_mode_cls_token": True}))
    with pytest.raises(ConfigError, match="needs mean pooling"):
        build_openvino_folder(source, tmp_path / "out")


def test_the_converter_cannot_send_telemetry() -> None:
    import_openvino()
    from openvino.tools.ovc import telemetry_utils

    assert sys.modules["openvino_telemetry"] is None
    assert telemetry_utils.tm.__name__ == "openvino.tools.ovc.telemetry_stub"


def test_backend_choice_comes_from_config_and_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="embed_backend 'onnx' is neither"):
        load_config(environ={"SCANNER_EMBED_BACKEND": "onnx"})
    config = load_config(environ={"SCANNER_EMBED_BACKEND": "torch",
                                  "SCANNER_MODEL": "all-minilm-l6-v2"})
    assert configured_embedder(config).backend == "torch"
    assert isinstance(load_embedder("all-minilm-l6-v2", 1), OpenVinoEmbedder)
    with pytest.raises(ConfigError, match="cannot run on backend 'onnx'"):
        load_embedder("all-minilm-l6-v2", backend="onnx")
    registry = tmp_path / "registry.toml"
    registry.write_text('default = "m"\n[[model]]\nid = "m"\nloader = "hashing"\ndimension = 8\n'
                        'languages = []\nmax_tokens = 0\nquery_prefix = ""\npassage_prefix = ""\n'
                        'licence = "x"\nbackends = ["tensorrt"]\n')
    with pytest.raises(ConfigError, match="unknown backends"):
        load_registry(registry)


def test_threads_are_pinned_only_when_the_process_has_every_core() -> None:
    import os

    from scanner.embed.openvino import cpu_settings

    cores = os.cpu_count() or 1
    assert cpu_settings(cores)["ENABLE_CPU_PINNING"] is True
    assert cpu_settings(cores)["INFERENCE_NUM_THREADS"] == cores
    if cores > 1:  # a Dask worker of one thread among several must not claim core 0
        assert cpu_settings(1)["ENABLE_CPU_PINNING"] is False
    assert "NUM_STREAMS" not in cpu_settings(1)  # one thread: one stream
    assert cpu_settings(2)["NUM_STREAMS"] == 2
