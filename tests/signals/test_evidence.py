"""One set of counts, evidence from the window the score describes, and no near-empty
evidence (issue 17, problems 1, 4 and 8), on a store with a paper and a news stream."""

from __future__ import annotations

from datetime import UTC, datetime

from scanner.config import SignalSettings, load_config
from scanner.ingest import make_item
from scanner.signals import compute_signals
from scanner.taxonomy import load_taxonomy, taxonomy_key

TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)


def _item(kind: str, month: int, k: int, title: str, summary: str) -> dict:
    when = datetime(2025, month, 10, tzinfo=UTC)
    return make_item(source_id=f"s-{kind}", kind=kind, title=title, summary=summary,
                     fetched_at=when, published=when, url=f"https://e.org/{kind}/{month}/{k}")


def test_papers_count_evidence_is_in_window_and_never_near_empty(store) -> None:
    key = taxonomy_key(TAXONOMY)
    fields = [f.id for f in TAXONOMY.active_fields]
    items, plan = [], []
    for month in range(1, 11):  # news all year, BCI papers only from June
        for k in range(40):
            items.append(_item("news", month, k, f"城市新闻 {month} {k}",
                               "今天本市召开会议部署了多项民生工作安排和重点任务"))
            plan.append(None)
        if month >= 6:
            for k in range(60):
                bci = k < 2 + 3 * (month - 5)
                items.append(_item("paper", month, k, f"Paper {month}-{k} on decoding",
                                   "We decode motor intent from intracortical recordings "
                                   "for a brain-computer interface" if bci else
                                   "We study a general optimisation method for networks"))
                plan.append("brain-computer-interface" if bci else None)
    junk = [_item("news", 10, 900 + k, "", text) for k, text in
            enumerate(["foo", "clickme", "<a"])]
    items += junk
    plan += ["brain-computer-interface"] * 3
    store.upsert_items(items)
    store.save_assignments([
        {"item_id": i["id"], "taxonomy": key, "model": "m", "content_hash": i["content_hash"],
         "scores": {f: (0.99 if f == fid else 0.01) for f in fields},
         "fields": [fid] if fid else [], "evidence": {}, "pathways": {}, "method": "zero-shot"}
        for i, fid in zip(items, plan, strict=True)])
    meta: dict = {}
    lists = compute_signals(store, TAXONOMY, key, "m", SignalSettings(), "2025-10-31", 365,
                            meta)
    assert meta["period"] == "month" and meta["streams"]["paper"]["entered"]
    bci = next(r for r in lists["fields"] if r["entity_id"] == "brain-computer-interface")
    ind = bci["indicators"]
    assert "paper" in ind["streams_used"] and ind["streams"]["paper"]["items"] > 30
    assert ind["growth_low"] > 1 and ind["emerging"]
    # the count the explanation states is the count of the window's items
    assert f"{ind['items_active']} items in the active window" in bci["explanation"]
    assert ind["items_active"] == ind["support"] > 0
    evidence = ind["top_evidence"]
    assert evidence and not {e["id"] for e in evidence} & {j["id"] for j in junk}
    first_active = ind["streams"]["paper"]["first_period"]
    active_start = meta["periods"][first_active + round(0.3 * (len(meta["periods"])
                                                                - first_active))]
    assert all(e["date"][:7] >= active_start for e in evidence if e["kind"] == "paper")
    # a past night's signals show only what was known that night
    earlier = compute_signals(store, TAXONOMY, key, "m", SignalSettings(), "2025-08-31", 365)
    bci_then = next(r for r in earlier["fields"] if r["entity_id"] == "brain-computer-interface")
    assert all(e["date"] <= "2025-08-31" for e in bci_then["indicators"]["top_evidence"])


def test_a_stream_covering_one_period_does_not_break_the_lists(store) -> None:
    key = taxonomy_key(TAXONOMY)
    fields = [f.id for f in TAXONOMY.active_fields]
    items = [_item("paper", 10, k, f"Paper {k} on decoding",
                   "We decode motor intent from intracortical recordings for a BCI")
             for k in range(40)]
    store.upsert_items(items)
    store.save_assignments([
        {"item_id": i["id"], "taxonomy": key, "model": "m", "content_hash": i["content_hash"],
         "scores": {f: 0.9 if f == "brain-computer-interface" else 0.0 for f in fields},
         "fields": ["brain-computer-interface"], "evidence": {}, "pathways": {},
         "method": "zero-shot"} for i in items])
    meta: dict = {}
    lists = compute_signals(store, TAXONOMY, key, "m", SignalSettings(), "2025-10-31", 365,
                            meta)
    assert lists["fields"] and meta["warnings"]  # one month of data: said, not crashed


def test_topic_evidence_is_from_its_streams_active_window_and_a_stopped_stream_stays_out(
        store) -> None:
    """Papers of 2025-03..10 beside news that ended in 2024-12 (the mixed store's shape):
    a topic's evidence starts where its paper stream's active window does (March and
    April papers were shown under a May-October score), and the stopped news stream
    gives no ratio."""
    import numpy as np

    from scanner.config import TopicSettings
    from scanner.topics import update_topics

    key = taxonomy_key(TAXONOMY)
    rng = np.random.default_rng(4)
    centres = rng.normal(size=(2, 16))
    items, vectors = [], []
    for year, months, kind in ((2024, range(9, 13), "news"), (2025, range(3, 11), "paper")):
        for month in months:
            for k in range(30):
                when = datetime(year, month, 10, tzinfo=UTC)
                items.append(make_item(source_id=f"s-{kind}", kind=kind,
                                       title=f"{kind} {year}-{month} {k} on topic {k % 2}",
                                       summary=f"A report number {k} about subject {k % 2}",
                                       fetched_at=when, published=when,
                                       url=f"https://e.org/{kind}/{year}/{month}/{k}"))
                # March and April papers nearest their centres: the first evidence
                # picked when the window lets them in
                noise = 0.01 if (kind, month) in (("paper", 3), ("paper", 4)) else 0.1
                v = centres[k % 2] + noise * rng.normal(size=16)
                vectors.append(v / np.linalg.norm(v))
    store.upsert_items(items)
    store.save_embeddings("m", [i["content_hash"] for i in items], np.array(vectors, np.float32))
    update_topics(store, TopicSettings(window_days=365, n_components=8, n_clusters=2,
                                       min_topic_size=5), "m", key, "2025-10-31")
    lists = compute_signals(store, TAXONOMY, key, "m", SignalSettings(), "2025-10-31", 365)
    assert lists["topics"]
    for row in lists["topics"]:
        ind = row["indicators"]
        papers = ind["streams"]["paper"]
        # the paper stream's own active window: its span's last 70% (May to October)
        assert papers["entered"] and papers["first_period"] >= 0
        dates = [e["date"] for e in ind["top_evidence"] if e["kind"] == "paper"]
        assert dates and min(dates) >= "2025-05-01", dates
        news = ind["streams"].get("news")
        assert news is None or (not news["entered"] and
                                "no items in its active window" in news["left_out"])
        assert ind["streams_used"] == ["paper"]
