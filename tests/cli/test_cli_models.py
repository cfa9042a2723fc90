"""`scanner embed`, `models` and `assign` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import cli
from tests.support.paths import shared_path


def test_embed_models_and_stats_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    runner = CliRunner()
    listed = runner.invoke(cli, ["models", "list"])
    assert listed.exit_code == 0 and "(default)" in listed.output
    path = shared_path("corpus", "news_zh_2022_2024.parquet")
    runner.invoke(cli, ["--db", db, "import", str(path), "--limit", "30"])
    result = runner.invoke(cli, ["--db", db, "embed", "--model", "hashing-test"])
    assert result.exit_code == 0 and "30 texts embedded with hashing-test" in result.output
    assert "backend: hashing" in result.output
    again = runner.invoke(cli, ["--db", db, "embed", "--model", "hashing-test"])
    assert "0 texts embedded" in again.output and "30 vectors" in again.output
    stats = json.loads(runner.invoke(cli, ["--db", db, "db", "stats", "--json"]).output)
    assert stats["embeddings_by_model"] == {"hashing-test": 30}
    bad = runner.invoke(cli, ["--db", db, "embed", "--model", "nope"])
    assert bad.exit_code == 1 and "unknown model 'nope'" in bad.output


def test_assign_without_a_calibrator_says_how_to_make_one(tmp_path: Path) -> None:
    result = CliRunner(env={"SCANNER_MODEL": "hashing-test"}).invoke(
        cli, ["--db", str(tmp_path / "s.db"), "assign"])
    assert result.exit_code == 1
    assert "no trained calibrator" in result.output and "evaluate assign --save" in result.output




def test_models_build_makes_the_int8_build_when_int8_is_asked_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scanner.embed as embed
    import scanner.embed.int8 as embed_int8

    built: list[str] = []
    for name in ("model_folder", "openvino_model_folder", "int8_model_folder"):
        monkeypatch.setattr(embed, name, lambda spec, cache, name=name: built.append(name)
                            or tmp_path / name)  # stand-ins: nothing is built here
    monkeypatch.setattr(embed_int8, "int8_unavailable", lambda: "")
    runner = CliRunner(env={"SCANNER_EMBED_BACKEND": ""})
    result = runner.invoke(cli, ["models", "build", "multilingual-e5-small",
                                 "--backend", "openvino-int8"])
    assert result.exit_code == 0, result.output
    assert built == ["model_folder", "openvino_model_folder", "int8_model_folder"]
    assert "int8 build ready" in result.output
    built.clear()
    float32 = runner.invoke(cli, ["models", "build", "multilingual-e5-small"])  # the default
    assert float32.exit_code == 0 and built == ["model_folder", "openvino_model_folder"]
    built.clear()
    configured = CliRunner(env={"SCANNER_EMBED_BACKEND": "openvino-int8"}).invoke(
        cli, ["models", "build", "multilingual-e5-small"])
    assert configured.exit_code == 0 and built[-1] == "int8_model_folder"
    built.clear()
    for float32_default in ("multilingual-e5-small-fast", "all-minilm-l6-v2"):
        built.clear()
        assert runner.invoke(cli, ["models", "build", float32_default]).exit_code == 0
        assert built == ["model_folder", "openvino_model_folder"]  # int8 opt-in there
