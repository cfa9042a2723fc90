"""The int8 backend and length-sorted batches: int8 vectors (and what is made from them)
kept apart by key, int8 opt-in for every model (issue #22's protocol), and, for a registry
that makes it a default, new stores get int8 while a store of float32 vectors keeps
float32, an explicit backend always wins, an int8 run without a
calibrator refused clearly, input order kept, a damaged int8 build rebuilt (slow: it
quantises)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from scanner.config import Config, load_config
from scanner.embed import (
    embed_new_items,
    embedding_key,
    load_embedder,
    model_spec,
    openvino_model_folder,
    stored_model,
)
from scanner.embed.openvino import DESCRIPTION, OpenVinoEmbedder
from scanner.embed.service import HashingEmbedder
from scanner.errors import ConfigError
from scanner.run import RunContext, assign_stage, embed_stage
from scanner.store import Store
from tests.embed.test_embed import _items
from tests.support.paths import shared_path

INT8 = {"SCANNER_EMBED_BACKEND": "openvino-int8"}


@pytest.fixture
def int8_buildable(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine with nncf and ../shared: int8 can be used (nothing is built)."""
    import scanner.embed.int8 as embed_int8

    monkeypatch.setattr(embed_int8, "int8_unavailable", lambda: "")


@pytest.fixture
def int8_default(int8_buildable: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry that makes int8 multilingual-e5-small's default, as a model that passes
    issue #22's protocol would have it: the rules for new and old stores on that day."""
    import scanner.embed.registry as registry

    real = registry.load_registry

    def int8_first(path: Path = registry.REGISTRY_FILE) -> tuple[dict, str]:
        specs, default = real(path)
        e5 = specs["multilingual-e5-small"]
        return {**specs, e5.id: replace(e5, backends=("openvino-int8", "openvino", "torch"))}, \
            default

    monkeypatch.setattr(registry, "load_registry", int8_first)


def test_int8_and_float32_vectors_are_stored_under_their_own_keys(
        tmp_path: Path, int8_default: None) -> None:
    assert embedding_key("multilingual-e5-small", "openvino-int8") == \
        "multilingual-e5-small+int8"
    assert embedding_key("multilingual-e5-small", "") == "multilingual-e5-small+int8"
    for backend in ("openvino", "torch"):  # the same float32 vectors: one key
        assert embedding_key("multilingual-e5-small", backend) == "multilingual-e5-small"
    assert embedding_key("hashing-test", "openvino-int8") == "hashing-test"  # no backends
    assert embedding_key("all-minilm-l6-v2", "") == "all-minilm-l6-v2"  # float32 default
    assert embedding_key("multilingual-e5-small-fast", "") == "multilingual-e5-small-fast"
    assert stored_model(load_config(environ=INT8)) == "multilingual-e5-small+int8"
    assert stored_model(load_config(environ={"SCANNER_EMBED_BACKEND": "openvino"})) == \
        "multilingual-e5-small"
    assert stored_model(load_config(environ={})) == "multilingual-e5-small+int8"

    store = Store(tmp_path / "s.db")
    store.upsert_items(_items(12))
    float32, int8 = HashingEmbedder(model_spec("hashing-test")), \
        HashingEmbedder(model_spec("hashing-test"))
    float32.key, int8.key = "m", "m+int8"  # what the two OpenVINO builds are stored under
    assert embed_new_items(store, float32).embedded == 12
    second = embed_new_items(store, int8, limit=5)  # no float32 vector is taken for int8
    assert second.embedded == 5 and second.reused == 0 and second.model == "m+int8"
    assert store.count_embeddings("m") == 12 and store.count_embeddings("m+int8") == 5
    assert store.count_missing_embeddings("m+int8") == 7
    assert store.count_missing_embeddings("m") == 0
    store.close()


def test_int8_is_opt_in_and_checked_like_the_other_backends() -> None:
    # by the decision protocol (docs/evaluation.md): no model reached 1.6x one-stream
    # float32 on an idle machine (e5-small 1.57x en, 1.41x zh), so float32 stays first
    for model_id in ("multilingual-e5-small", "multilingual-e5-small-fast", "all-minilm-l6-v2"):
        assert model_spec(model_id).backends[:2] == ("openvino", "openvino-int8")
    assert embedding_key("multilingual-e5-small", "") == "multilingual-e5-small"
    assert stored_model(load_config(environ={})) == "multilingual-e5-small"
    assert load_config(environ=INT8).embed_backend == "openvino-int8"
    with pytest.raises(ConfigError, match="embed_backend 'int8' is neither"):
        load_config(environ={"SCANNER_EMBED_BACKEND": "int8"})


def test_int8_calibrators_ship_for_the_e5_models() -> None:
    from scanner.assign import Calibrator, calibrator_path
    from scanner.taxonomy import load_taxonomy

    version = load_taxonomy(load_config(environ={}).taxonomy_file).version
    for model_id in ("multilingual-e5-small", "multilingual-e5-small-fast"):
        int8 = Calibrator.load(calibrator_path(version, f"{model_id}+int8"))
        float32 = Calibrator.load(calibrator_path(version, model_id))
        assert int8.field_ids_ == float32.field_ids_ and 0.05 < int8.threshold < 0.95
        assert int8.model_ == f"{model_id}+int8"  # fitted on int8 features, not copied


def test_an_int8_run_without_a_trained_calibrator_says_how_to_train_one(
        tmp_path: Path) -> None:
    config = replace(load_config(environ={**INT8, "SCANNER_MODEL": "all-minilm-l6-v2"}),
                     db_path=tmp_path / "s.db")  # MiniLM: no int8 calibrator shipped
    with RunContext(config) as ctx, pytest.raises(
            ConfigError, match=r"no trained calibrator .*all-minilm-l6-v2\+int8\.json .*"
                               r"model all-minilm-l6-v2\+int8: run `scanner evaluate "
                               r"assign --save`"):
        assign_stage(ctx)
    assert not ctx.has_embedder  # refused before the model is loaded


def _store_config(tmp_path: Path, **keys: str) -> Config:
    return replace(load_config(environ=keys), db_path=tmp_path / "s.db")


def _embed_run(config: Config, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict]:
    """One embed stage with a weightless stand-in for the configured build (keyed as the
    real one would be); (what the run stores under, the stage's summary)."""
    import scanner.run.context as context_module

    def stand_in(settled: Config) -> HashingEmbedder:
        embedder = HashingEmbedder(model_spec("hashing-test"))
        embedder.key = stored_model(settled)
        return embedder

    monkeypatch.setattr(context_module, "configured_embedder", stand_in)
    with RunContext(config) as ctx:
        return ctx.stored_model, embed_stage(ctx)


E5, E5_INT8 = "multilingual-e5-small", "multilingual-e5-small+int8"


def test_a_new_store_gets_int8_vectors(tmp_path: Path, int8_default: None,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    config = _store_config(tmp_path)
    with RunContext(config) as ctx:
        assert ctx.stored_model == E5_INT8 and not config.db_path.exists()  # not created
        assert ctx.config.embed_backend == "openvino-int8"  # named, for Dask workers too
        ctx.store.upsert_items(_items(6))
    key, stage = _embed_run(config, monkeypatch)
    assert key == stage["model"] == E5_INT8 and stage["embedded"] == 6
    with Store(config.db_path) as store:
        assert store.count_embeddings(E5_INT8) == 6 and store.count_embeddings(E5) == 0
    assert "keeps float32" not in capsys.readouterr().err


def test_a_store_of_float32_vectors_keeps_float32_and_says_so(
        tmp_path: Path, int8_default: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = _store_config(tmp_path, SCANNER_EMBED_BACKEND="openvino")
    with RunContext(config) as ctx:
        ctx.store.upsert_items(_items(6))
    assert _embed_run(config, monkeypatch)[1]["embedded"] == 6  # a store from before #22
    with Store(config.db_path) as store:
        store.upsert_items(_items(9))  # three more items arrive
    default = _store_config(tmp_path)  # no backend named: int8 would be the default
    key, stage = _embed_run(default, monkeypatch)
    assert key == stage["model"] == E5 and stage["embedded"] == 3 and stage["reused"] == 6
    said = [line for line in capsys.readouterr().err.splitlines() if "keeps float32" in line]
    assert len(said) == 1 and E5_INT8 in said[0]
    assert 'embed_backend = "openvino-int8"' in said[0]
    assert "scanner embed --backend openvino-int8" in said[0]
    with Store(config.db_path) as store:  # never mixed: nothing went under the int8 key
        assert store.count_embeddings(E5) == 9 and store.count_embeddings(E5_INT8) == 0


def test_a_store_of_int8_vectors_keeps_int8_and_says_so(
        tmp_path: Path, int8_buildable: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # float32 is the default; an analyst switched a store once with --backend
    config = _store_config(tmp_path, **INT8)
    with RunContext(config) as ctx:
        ctx.store.upsert_items(_items(4))
    assert _embed_run(config, monkeypatch)[0] == E5_INT8
    with Store(config.db_path) as store:
        store.upsert_items(_items(6))
    key, stage = _embed_run(_store_config(tmp_path), monkeypatch)  # no backend named
    assert key == E5_INT8 and stage["embedded"] == 2 and stage["reused"] == 4
    said = [line for line in capsys.readouterr().err.splitlines() if "keeps int8" in line]
    assert len(said) == 1 and 'embed_backend = "openvino"' in said[0]
    with Store(config.db_path) as store:  # nothing went under the float32 key
        assert store.count_embeddings(E5) == 0 and store.count_embeddings(E5_INT8) == 6


def test_a_backend_the_config_names_always_wins(
        tmp_path: Path, int8_default: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = _store_config(tmp_path, SCANNER_EMBED_BACKEND="openvino")
    with RunContext(config) as ctx:
        ctx.store.upsert_items(_items(5))
    _embed_run(config, monkeypatch)  # float32 vectors only
    key, stage = _embed_run(_store_config(tmp_path, **INT8), monkeypatch)  # switch
    assert key == E5_INT8 and stage["embedded"] == 5 and stage["reused"] == 0
    assert "keeps float32" not in capsys.readouterr().err
    # both kinds stored now: with no backend named the default (int8) is used again,
    # each under its own key, and float32 named explicitly still gets float32
    assert _embed_run(_store_config(tmp_path), monkeypatch)[0] == E5_INT8
    assert _embed_run(config, monkeypatch)[0] == E5
    with Store(config.db_path) as store:
        assert store.count_embeddings(E5) == store.count_embeddings(E5_INT8) == 5
    assert "keeps float32" not in capsys.readouterr().err


def test_a_loaded_model_under_another_key_than_the_run_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scanner.run.context as context_module

    wrong = HashingEmbedder(model_spec("hashing-test"))
    wrong.key = E5  # float32 vectors for an int8 run
    monkeypatch.setattr(context_module, "configured_embedder", lambda config: wrong)
    with RunContext(_store_config(tmp_path, **INT8)) as ctx, \
            pytest.raises(RuntimeError, match=r"under multilingual-e5-small, this run's "
                                              r"under multilingual-e5-small\+int8"):
        ctx.embedder()


def test_length_sorted_batches_keep_the_input_order() -> None:
    embedder = load_embedder("multilingual-e5-small", 2, backend="openvino")
    assert isinstance(embedder, OpenVinoEmbedder) and embedder.sort_by_length
    assert embedder.key == "multilingual-e5-small"
    dev = json.loads(shared_path("labels", "dev.jsonl").read_text().splitlines()[0])
    long = f"{dev['title']}. {dev['text']}"
    texts = ["x", long, "量子计算", long[:300], "", "fusion " * 900, "脑机接口临床试验取得进展",
             long[:120], "a"]  # short and long, mixed: sorting moves every one
    counts = embedder.token_counts(texts)
    encodings = embedder._encode(texts, "passage")
    widths = [a["input_ids"].shape[1] for _, a in embedder.batches(encodings)]
    rows = [list(r) for r, _ in embedder.batches(encodings)]
    assert sorted(i for r in rows for i in r) == list(range(len(texts)))  # each text once
    assert [counts[r[0]] for r in rows] == sorted((counts[r[0]] for r in rows), reverse=True)
    assert all(w == -(-max(counts[i] for i in r) // 8) * 8 for w, r in zip(widths, rows,
                                                                             strict=True))
    sorted_vectors = embedder.embed(texts)
    embedder.sort_by_length = False
    try:
        unsorted_widths = [a["input_ids"].shape[1] for _, a in embedder.batches(encodings)]
        unsorted_vectors = embedder.embed(texts)
    finally:
        embedder.sort_by_length = True
    assert sum(widths) < sum(unsorted_widths)  # less padding
    assert (sorted_vectors * unsorted_vectors).sum(axis=1).min() >= 0.99999
    one_by_one = np.vstack([embedder.embed([t]) for t in texts])  # each text alone
    assert (sorted_vectors * one_by_one).sum(axis=1).min() >= 0.99999


@pytest.mark.slow
def test_a_damaged_int8_build_is_rebuilt_with_the_same_bytes(tmp_path: Path) -> None:
    pytest.importorskip("nncf")
    from scanner.embed.build import folder_digest, folder_intact
    from scanner.embed.int8 import build_int8_folder, calibration_texts

    shared_path("corpus", "news_zh_2022_2024.parquet")
    spec = model_spec("multilingual-e5-small")
    source = openvino_model_folder(spec)
    out = tmp_path / "int8"
    # a small calibration set (2 texts a language and the prototypes), for the test's time
    first = build_int8_folder(spec, source, out, per_language=2)
    description = json.loads((out / DESCRIPTION).read_text())
    assert description["precision"] == "int8" and description["calibration"]["texts"] == \
        4 + len(calibration_texts(2)[1])
    assert "FakeQuantize" in (out / "model.xml").read_text()
    weights = out / "model.bin"
    weights.write_bytes(weights.read_bytes()[:1000])  # cut short after the build
    assert not folder_intact(out)
    assert build_int8_folder(spec, source, out, per_language=2) == first  # another process
    assert folder_digest(out) == first and not (tmp_path / "int8.partial").exists()
    int8 = OpenVinoEmbedder(spec, out, 2, backend="openvino-int8")
    assert int8.key == "multilingual-e5-small+int8"
    float32 = OpenVinoEmbedder(spec, source, 2)
    texts = ["可控核聚变托卡马克装置实现长脉冲运行", "tokamak fusion device long-pulse plasma"]
    assert (int8.embed(texts) * float32.embed(texts)).sum(axis=1).min() > 0.98


def test_an_int8_default_without_its_calibration_corpus_falls_back_to_float32(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import scanner.embed.int8 as embed_int8
    from scanner.embed.registry import resolve_backend

    spec = model_spec("multilingual-e5-small")
    spec = replace(spec, backends=("openvino-int8", "openvino", "torch"))  # were it default
    monkeypatch.setattr(embed_int8, "SHARED_CORPUS", tmp_path)  # no ../shared
    embed_int8.int8_unavailable.cache_clear()
    try:
        assert resolve_backend(spec) == "openvino"  # and the float32 key, so no mixing
        assert embed_int8.int8_unavailable()  # the corpus (or nncf) is missing here
        assert "int8 embedding backend unavailable" in capsys.readouterr().err
        assert resolve_backend(spec, "openvino-int8") == "openvino-int8"  # asked for: kept
        with pytest.raises(ConfigError, match=r"calibrates on .* which is missing"):
            embed_int8.calibration_texts(2, tmp_path)
    finally:
        embed_int8.int8_unavailable.cache_clear()


def test_without_nncf_the_int8_backend_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    import scanner.embed.int8 as embed_int8

    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    with pytest.raises(ConfigError, match=r"pip install 'nncf>=3.4,<3.5'"):
        embed_int8.nncf_version()
