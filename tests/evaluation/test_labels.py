"""Id-only labels: texts joined from the corpora, splits, errors naming what is missing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scanner import PROJECT_ROOT
from scanner.errors import ConfigError
from scanner.evaluation.labels import cached_vectors, combine, load_id_labels
from scanner.taxonomy import load_taxonomy
from tests.support.paths import shared_path

TAXONOMY = load_taxonomy(PROJECT_ROOT / "data" / "taxonomy" / "taxonomy-2025.1.toml")
FIELDS = [f.id for f in TAXONOMY.active_fields]


def _corpora(folder: Path) -> Path:
    """Two tiny corpora shaped like the shared ones."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir()
    pq.write_table(pa.table({"arxiv_id": ["1.1", "1.2", "1.1"],
                             "title": ["Spin  qubits\n in silicon", "Other", "Duplicate"],
                             "abstract": ["We  show\ncoherent control. " * 200, "x", "y"]}),
                   folder / "arxiv_2010_2019.parquet")
    pq.write_table(pa.table({"url": ["https://n/1"], "title": ["国内联播快讯"],
                             "text": ["第一条\n第二条"]}), folder / "news_zh_2022_2024.parquet")
    return folder


def _labels(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


ROWS = [{"n": 1, "corpus": "arxiv_2010_2019", "item_id": "1.1", "lang": "en", "split": "train",
         "fields": ["quantum-technology"], "note": "spin qubits"},
        {"n": 2, "corpus": "news_zh_2022_2024", "item_id": "https://n/1", "lang": "zh",
         "split": "test", "fields": [], "note": "brief"}]


def test_texts_are_joined_from_the_corpora_as_labelled(tmp_path: Path) -> None:
    corpora = _corpora(tmp_path / "corpus")
    labelled = load_id_labels(_labels(tmp_path / "l.jsonl", ROWS), FIELDS, corpora)
    assert labelled.titles == ["Spin qubits in silicon", "国内联播快讯"]  # first row of an id
    assert labelled.bodies[0].startswith("We show coherent control.")  # whitespace folded
    assert len(labelled.bodies[0]) == 1500 and labelled.bodies[1] == "第一条\n第二条"
    assert labelled.texts[0].startswith("Spin qubits in silicon. We show")
    assert labelled.labels[0, FIELDS.index("quantum-technology")] == 1
    assert labelled.labels[1].sum() == 0 and list(labelled.splits) == ["train", "test"]
    train = load_id_labels(tmp_path / "l.jsonl", FIELDS, corpora, ("train",))
    assert len(train.titles) == 1 and "(train)" in train.source
    both = combine(train, labelled)
    assert len(both.titles) == 3 and both.labels.shape == (3, len(FIELDS))


def test_a_missing_corpus_or_item_is_named(tmp_path: Path) -> None:
    corpora = _corpora(tmp_path / "corpus")
    (corpora / "news_zh_2022_2024.parquet").unlink()
    with pytest.raises(ConfigError, match="corpus news_zh_2022_2024 not found at"):
        load_id_labels(_labels(tmp_path / "l.jsonl", ROWS), FIELDS, corpora)
    gone = [{**ROWS[0], "item_id": "9.9"}]
    with pytest.raises(ConfigError, match=r"item 9\.9 of the labels is not in"):
        load_id_labels(_labels(tmp_path / "g.jsonl", gone), FIELDS, corpora)
    with pytest.raises(ConfigError, match="not in the taxonomy"):
        load_id_labels(_labels(tmp_path / "f.jsonl", [{**ROWS[0], "fields": ["weather"]}]),
                       FIELDS, corpora)


def test_vectors_are_cached_per_text(tmp_path: Path) -> None:
    from scanner.embed import load_embedder

    embedder = load_embedder("hashing-test")
    calls: list[int] = []
    real = embedder.embed

    def counting(texts: list[str], **kw: object) -> np.ndarray:
        calls.append(len(texts))
        return real(texts)

    embedder.embed = counting  # type: ignore[method-assign]
    first = cached_vectors(embedder, ["a b", "c d"], tmp_path)
    again = cached_vectors(embedder, ["c d", "e f", "a b"], tmp_path)
    assert calls == [2, 1]  # only the new text is embedded
    assert np.allclose(again[0], first[1]) and np.allclose(again[2], first[0])


def test_vector_cache_is_kept_per_stored_key(tmp_path: Path) -> None:
    """int8 vectors of a model never come out of its float32 cache file (#22)."""
    from scanner.embed import load_embedder

    float32 = load_embedder("hashing-test")
    int8 = load_embedder("hashing-test")
    int8.key = "hashing-test+int8"
    int8.embed = lambda texts, **kw: -float32.embed(texts)  # type: ignore[method-assign]
    a = cached_vectors(float32, ["a b"], tmp_path)
    b = cached_vectors(int8, ["a b"], tmp_path)
    assert np.allclose(b, -a)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hashing-test+int8.npz",
                                                         "hashing-test.npz"]


def test_the_projects_labels_load_with_their_texts() -> None:
    corpora = shared_path("corpus")
    labelled = load_id_labels(PROJECT_ROOT / "data" / "labels" / "labels.jsonl", FIELDS,
                              corpora)
    assert len(labelled.titles) == 727 + 251 + 360 and all(labelled.texts)  # rounds 1-3
    assert (labelled.splits == "test").sum() == 146 + 51 + 72
    assert max(len(b) for b in labelled.bodies) <= 1500
