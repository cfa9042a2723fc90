"""Chinese labels of English topics from their items' Chinese summaries, and the fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from scanner.config import TopicSettings, load_config
from scanner.ingest.normalize import make_item
from scanner.report.enrich import topic_label_zh
from scanner.store import Store
from scanner.taxonomy import load_taxonomy, taxonomy_key
from scanner.topics import update_topics
from scanner.topics.keywords import tokens

TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)

#: Three groups of English papers: the first carries Chinese summaries, the second names
#: taxonomy terms without summaries, the third neither.
GROUPS = {
    "qec": ("surface code decoder for logical qubits {k}",
            ["提出一种表面码解码器，提高逻辑量子比特的纠错能力{k}。",
             "针对量子纠错中的解码延迟，设计表面码实时解码器{k}。",
             "实验表明该解码器降低了逻辑量子比特错误率{k}。"]),
    "thz": ("6G terahertz wireless link budget {k}", None),
    "misc": ("a benchmark of spreadsheet formatting habits {k}", None),
}


def _store(path: Path, summaries_for: set[str], share: float = 1.0) -> Store:
    store = Store(path)
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(len(GROUPS), 16))
    items, vectors = [], []
    when = datetime(2025, 6, 1, tzinfo=UTC)
    for g, (name, (title, zh)) in enumerate(GROUPS.items()):
        for k in range(12):
            item = make_item(source_id="arxiv", kind="paper", title=title.format(k=k),
                             summary=f"We study {title.format(k=k)}.", fetched_at=when,
                             guid=f"{name}-{k}", published=when, language="en", html=False)
            if zh and name in summaries_for and k < round(12 * share):
                item["summaries"] = {"zh": zh[k % len(zh)].format(k=k)}
            items.append(item)
            v = centres[g] + 0.05 * rng.normal(size=16)
            vectors.append(v / np.linalg.norm(v))
    store.upsert_items(items)
    store.save_embeddings("m", [i["content_hash"] for i in items],
                          np.array(vectors, np.float32))
    update_topics(store, TopicSettings(window_days=60, n_components=8, n_clusters=3,
                                       min_topic_size=5), "m", taxonomy_key(TAXONOMY),
                  "2025-06-02")
    return store


def _topic_of(store: Store, guid_prefix: str) -> dict:
    """The live topic holding most items of a group, with its members' summaries."""
    rows = store.db.execute(
        "SELECT m.topic_id, s.summary FROM topic_members m JOIN items i ON i.id = m.item_id "
        "LEFT JOIN item_summaries s ON s.item_id = i.id AND s.language = 'zh' "
        "WHERE i.title LIKE ?", [GROUPS[guid_prefix][0].split("{")[0] + "%"]).fetchall()
    topic_id = max({t for t, _ in rows}, key=[t for t, _ in rows].count)
    topic = store.topic(topic_id)
    topic["summaries"] = [s for t, s in rows if t == topic_id and s]
    return topic


def test_english_topic_with_chinese_summaries_is_labelled_from_them(tmp_path: Path) -> None:
    store = _store(tmp_path / "a.db", {"qec"})
    topic = _topic_of(store, "qec")
    words = topic["keywords"]
    assert "zh" not in words  # no Chinese items: the summaries are the only Chinese text
    label, basis = topic_label_zh({"keywords": words}, TAXONOMY)
    assert basis == "summaries" and label
    for word in label.split("、"):  # drawn from them: each word in two of its summaries
        assert sum(word in tokens(s, "zh") for s in topic["summaries"]) >= 2, word
    store.close()


def test_topics_without_summaries_fall_back_to_taxonomy_terms_or_say_none(
        tmp_path: Path) -> None:
    store = _store(tmp_path / "b.db", {"qec"})
    thz, misc = _topic_of(store, "thz"), _topic_of(store, "misc")
    assert "zh_summaries" not in thz["keywords"] and "zh_summaries" not in misc["keywords"]
    label, basis = topic_label_zh({"keywords": thz["keywords"]}, TAXONOMY)
    names = {f.zh for f in TAXONOMY.active_fields} | \
        {p.zh for f in TAXONOMY.active_fields for p in f.pathways}
    assert basis == "taxonomy" and label in names
    assert topic_label_zh({"keywords": misc["keywords"]}, TAXONOMY) == (None, "none")
    store.close()


def test_a_few_summaries_do_not_label_a_topic(tmp_path: Path) -> None:
    # a third of the members carry one: too few to speak for the topic
    store = _store(tmp_path / "c.db", {"qec"}, share=1 / 3)
    topic = _topic_of(store, "qec")
    assert "zh_summaries" not in topic["keywords"]
    assert topic_label_zh({"keywords": topic["keywords"]}, TAXONOMY)[1] != "summaries"
    store.close()


def test_a_label_from_summaries_names_a_latin_word_once() -> None:
    words = {"en": ["LLMs"], "zh_summaries": ["LLMs", "LLM", "推理", "安全"]}
    assert topic_label_zh({"keywords": words}, TAXONOMY) == ("LLMs、推理、安全", "summaries")
    # Chinese keywords of Chinese members still come first
    assert topic_label_zh({"keywords": {**words, "zh": ["大模型"]}}, TAXONOMY) == \
        ("大模型", "keywords")
