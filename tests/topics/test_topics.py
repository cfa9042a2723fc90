"""Topic identity across runs (groundwork of issue #5): clustering and lineage matching."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from scanner.topics import Clusterer, Topic, match_topics


def _blobs(centres: np.ndarray, per: int, seed: int, prefix: str = "i"
           ) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    points, ids = [], []
    for c, centre in enumerate(centres):
        points.append(centre + 0.05 * rng.normal(size=(per, centres.shape[1])))
        ids += [f"{prefix}{c}-{k}" for k in range(per)]
    x = np.concatenate(points)
    return x / np.linalg.norm(x, axis=1, keepdims=True), ids


def _topics(clusterer: Clusterer, ids: list[str], names: list[str]) -> list[Topic]:
    return [Topic(name, clusterer.centroids_[c],
                  frozenset(i for i, label in zip(ids, clusterer.labels_, strict=True)
                            if label == c))
            for c, name in enumerate(names)]


def _members(clusterer: Clusterer, ids: list[str]) -> list[frozenset[str]]:
    return [frozenset(i for i, label in zip(ids, clusterer.labels_, strict=True) if label == c)
            for c in range(len(clusterer.centroids_))]


CENTRES = np.random.default_rng(42).normal(size=(6, 32))


def test_clustering_is_reproducible_for_a_fixed_seed() -> None:
    x, _ = _blobs(CENTRES[:5], 40, seed=1)
    a = Clusterer(n_components=10, n_clusters=5, seed=3).fit(x)
    b = Clusterer(n_components=10, n_clusters=5, seed=3).fit(x)
    assert (a.labels_ == b.labels_).all() and np.allclose(a.centroids_, b.centroids_)


def test_ids_survive_a_night_with_little_change_and_a_new_blob_is_born() -> None:
    counter = itertools.count(100)
    x1, ids1 = _blobs(CENTRES[:5], 40, seed=1)
    first = Clusterer(n_components=10, n_clusters=5, seed=0).fit(x1)
    topics = _topics(first, ids1, [f"t{k}" for k in range(5)])
    # next night: the same items, 10 % new ones in the old blobs, and a sixth blob
    x_new, ids_new = _blobs(CENTRES[:5], 4, seed=2, prefix="n")
    x_born, ids_born = _blobs(CENTRES[5:], 40, seed=3, prefix="b")
    x2 = np.concatenate([x1, x_new, x_born])
    ids2 = ids1 + ids_new + ids_born
    second = Clusterer(n_components=10, n_clusters=6, seed=7).fit(x2)  # another seed too
    result = match_topics(topics, second.centroids_, _members(second, ids2),
                          lambda: f"t{next(counter)}")
    assert sorted(result.ids) == ["t0", "t1", "t100", "t2", "t3", "t4"]
    kinds = sorted(e.kind for e in result.events)
    assert kinds == ["born", "continued", "continued", "continued", "continued", "continued"]
    born = result.ids.index("t100")
    assert _members(second, ids2)[born] == frozenset(ids_born)


def test_merge_split_and_death_are_recorded() -> None:
    e = np.eye(4)
    a = frozenset(f"a{k}" for k in range(20))
    b = frozenset(f"b{k}" for k in range(20))
    c = frozenset(f"c{k}" for k in range(20))
    previous = [Topic("A", e[0], a), Topic("B", e[1], b), Topic("C", e[2], c)]
    c1 = frozenset(list(c)[:10])
    c2 = frozenset(list(c)[10:])
    merged_centroid = (e[0] + e[1]) / np.linalg.norm(e[0] + e[1])
    centroids = np.stack([merged_centroid, e[2], e[2]])
    counter = itertools.count(1)
    result = match_topics(previous, centroids, [a | b, c1, c2], lambda: f"N{next(counter)}")
    events = {(ev.kind, ev.topic_id, ev.other_id) for ev in result.events}
    kept = result.ids[0]
    lost = "B" if kept == "A" else "A"
    assert ("merged_into", lost, kept) in events
    assert result.ids[1] == "C" or result.ids[2] == "C"
    split_new = result.ids[2] if result.ids[1] == "C" else result.ids[1]
    assert ("split_from", split_new, "C") in events and ("born", split_new, None) in events
    gone = match_topics(previous, centroids[:1], [a], lambda: "N9")
    assert {(ev.kind, ev.topic_id) for ev in gone.events} >= {("died", "B"), ("died", "C")}


# -- the topics stage over a store ------------------------------------------------------

from datetime import UTC, datetime, timedelta  # noqa: E402

import pytest  # noqa: E402

from scanner.config import TopicSettings  # noqa: E402
from scanner.ingest.normalize import make_item  # noqa: E402
from scanner.store import Store  # noqa: E402
from scanner.topics import update_topics  # noqa: E402
from scanner.topics.keywords import ctfidf_keywords, tokens  # noqa: E402

MODEL = "test-model"
SETTINGS = TopicSettings(window_days=30, n_components=8, n_clusters=5, min_topic_size=5,
                         recluster_days=7, dormant_days=5)


def _add(store: Store, x: np.ndarray, ids: list[str], day: str, titles: list[str] | None = None,
         language: str = "en") -> list[str]:
    """Store items published on `day` with the given vectors as their embeddings; their ids."""
    when = datetime.fromisoformat(day).replace(tzinfo=UTC)
    items = [make_item(source_id="s", kind="paper", title=titles[n] if titles else f"item {i}",
                       summary=f"about {i}: a study with measured results in the field",
                       fetched_at=when, guid=i, published=when,
                       language=language) for n, i in enumerate(ids)]
    store.upsert_items(items)
    store.save_embeddings(MODEL, [it["content_hash"] for it in items], x)
    return [it["id"] for it in items]


def _night(store: Store, day: str, settings: TopicSettings = SETTINGS, full: bool = False
           ) -> dict:
    return update_topics(store, settings, MODEL, "tax@1", day, f"run-{day}", full)[0]


def test_keywords_are_bilingual_and_skip_stop_words() -> None:
    docs = ["We propose quantum error correction codes for superconducting qubits",
            "Quantum error correction with surface codes on superconducting qubits",
            "Solid-state battery electrolyte with lithium metal anodes",
            "A lithium metal battery with a solid-state electrolyte",
            "脑机接口 技术 帮助 患者 恢复 运动 能力 脑机接口",
            "植入式 脑机接口 临床 试验 取得 进展"]
    words = ctfidf_keywords(docs, [0, 0, 1, 1, 0, 2], ["en", "en", "en", "en", "zh", "zh"],
                            top=5, min_count=1, words=["脑机接口"])
    assert "quantum error" in words[0]["en"] or "quantum" in words[0]["en"]
    assert not {"propose", "we", "for"} & set(words[0]["en"])
    assert any("battery" in w or "lithium" in w or "electrolyte" in w for w in words[1]["en"])
    assert "脑机接口" in words[0]["zh"] and "en" not in words[2]
    assert "6G" in tokens("6G networks and GaN power devices") and \
        "GaN" in tokens("6G networks and GaN power devices")


def test_a_night_stores_topics_members_series_and_is_idempotent(store: Store) -> None:
    x, ids = _blobs(CENTRES[:5], 30, seed=1)
    _add(store, x, ids, "2026-01-10")
    first = _night(store, "2026-01-10")
    assert first["mode"] == "full" and first["topics"] == 5 and first["items"] == 150
    assert first["events"] == {"born": 5}
    live = store.list_topics(MODEL)
    assert sum(t["size"] for t in live) + first["unassigned"] == 150
    assert first["unassigned"] <= 5  # a robust floor drops few points of clean blobs
    members = store.topic_memberships(MODEL, "all")
    assert len(members) == 150
    # each topic is one blob: all its members share the blob prefix of their titles
    for topic in live:
        titles = [m["title"] for m in store.topic_member_items(topic["id"], 200)]
        assert len(titles) == topic["size"]
        assert len({t.split("-")[0] for t in titles}) == 1
        series = store.topic_series(topic["id"])
        assert sum(s["count"] for s in series) == topic["size"]
        assert all(s["total"] == 150 and s["period"] == "2026-01" for s in series)
    events_before = store.topic_events()
    again = _night(store, "2026-01-10")  # a rerun of the same night replaces, not adds
    assert again["events"] == first["events"] == {"born": 5}  # it starts where the first did
    assert sorted(t["id"] for t in store.list_topics(MODEL)) == sorted(t["id"] for t in live)
    assert store.topic_memberships(MODEL, "all") == members
    assert [(e["kind"], e["topic_id"]) for e in store.topic_events()] == \
        [(e["kind"], e["topic_id"]) for e in events_before]  # replaced, not added
    assert len(store.topic_runs()) == 1


def test_a_rerun_of_an_incremental_night_ends_as_its_first_run_did(store: Store) -> None:
    x, ids = _blobs(CENTRES[:5], 30, seed=1)
    _add(store, x, ids, "2026-01-10")
    _night(store, "2026-01-10")
    y, new_ids = _blobs(CENTRES[:6], 12, seed=2)  # a sixth blob: a birth from the pool
    _add(store, y, [f"n{i}" for i in new_ids], "2026-01-11")

    def state() -> tuple:
        topics = sorted((t["id"], t["size"], t["status"]) for t in
                        store.list_topics(MODEL, ("live", "dormant", "died"), limit=100))
        events = sorted((e["run_date"], e["kind"], e["topic_id"], e["other_id"] or "")
                        for e in store.topic_events())
        return topics, store.topic_memberships(MODEL, "all"), events

    first = _night(store, "2026-01-11")
    assert first["mode"] == "incremental" and first["events"].get("born")
    after_first = state()
    again = _night(store, "2026-01-11")
    assert again["events"] == first["events"] and state() == after_first


def test_incremental_nights_attach_hold_and_give_birth(store: Store) -> None:
    x, ids = _blobs(CENTRES[:5], 30, seed=1)
    _add(store, x, ids, "2026-01-10")
    _night(store, "2026-01-10")
    before = {t["id"] for t in store.list_topics(MODEL)}
    # night 2: a few items in the known blobs, and 3 far away items (too few for a topic)
    x_new, ids_new = _blobs(CENTRES[:5], 2, seed=2, prefix="n")
    x_far, ids_far = _blobs(CENTRES[5:], 3, seed=3, prefix="far")
    stored = _add(store, np.concatenate([x_new, x_far]), ids_new + ids_far, "2026-01-11")
    ids_new, ids_far = stored[:len(ids_new)], stored[len(ids_new):]
    second = _night(store, "2026-01-11")
    assert second["mode"] == "incremental" and "born" not in second["events"]
    members = store.topic_memberships(MODEL, "all")
    assert all(members[i][0] is not None for i in ids_new)
    assert all(members[i][0] is None for i in ids_far)  # held, not forced into a topic
    assert {t["id"] for t in store.list_topics(MODEL)} == before
    # night 3: the far blob grows past twice the minimum size and is born as a topic
    x_more, ids_more = _blobs(CENTRES[5:], 12, seed=4, prefix="far2")
    ids_more = _add(store, x_more, ids_more, "2026-01-12")
    third = _night(store, "2026-01-12")
    assert third["mode"] == "incremental" and third["events"].get("born") == 1
    members = store.topic_memberships(MODEL, "all")
    born = {members[i][0] for i in ids_far + ids_more} - {None}
    assert len(born) == 1 and born.isdisjoint(before)
    assert sum(members[i][0] is not None for i in ids_far + ids_more) >= 12


def test_full_reclustering_keeps_ids_and_topics_go_dormant_then_die(store: Store) -> None:
    x, ids = _blobs(CENTRES[:5], 30, seed=1)
    _add(store, x[:120], ids[:120], "2026-01-01")  # blobs 0-3 early
    _add(store, x[120:], ids[120:], "2026-01-06")  # blob 4 later
    _night(store, "2026-01-06")
    first = {t["id"]: t for t in store.list_topics(MODEL, statuses=("live", "dormant"))}
    assert len(first) == 5
    x2, ids2 = _blobs(CENTRES[4:5], 10, seed=5, prefix="late")
    _add(store, x2, ids2, "2026-01-13")
    result = _night(store, "2026-01-13", full=True)  # 12 days after blobs 0-3 were seen
    assert result["mode"] == "full"
    now = {t["id"]: t for t in store.list_topics(MODEL, statuses=("live", "dormant"))}
    assert set(now) == set(first)  # reclustered, every id kept
    statuses = sorted(t["status"] for t in now.values())
    assert statuses == ["dormant", "dormant", "dormant", "dormant", "live"]
    assert result["events"]["dormant"] == 4
    # past the 30-day window the early blobs leave, and their topics die
    x3, ids3 = _blobs(CENTRES[4:5], 10, seed=6, prefix="later")
    _add(store, x3, ids3, "2026-02-04")
    last = _night(store, "2026-02-04")
    assert last["events"].get("died") == 4
    assert len(store.list_topics(MODEL, statuses=("died",))) == 4
    history = store.topic_history(next(iter(set(first) - {t["id"] for t in
                                                          store.list_topics(MODEL)})))
    assert [e["kind"] for e in history["events"]][-1] == "died"


def test_outside_taxonomy_flag_follows_member_assignments(store: Store) -> None:
    x, ids = _blobs(CENTRES[:2], 20, seed=1)
    rows = []
    for i, stored_id in zip(ids, _add(store, x, ids, "2026-01-10"), strict=True):
        item = store.item(stored_id)
        assert item is not None
        in_field = i.startswith("i0")
        rows.append({"item_id": item["id"], "taxonomy": "tax@1", "model": MODEL,
                     "content_hash": item["content_hash"],
                     "scores": {"6g": 0.9 if in_field else 0.1, "deep-sea": 0.05},
                     "fields": ["6g"] if in_field else [], "evidence": {},
                     "pathways": {"6g": {"6g-thz": 0.7}} if in_field else {},
                     "method": "zero-shot"})
    store.save_assignments(rows)
    _night(store, "2026-01-10", TopicSettings(window_days=30, n_components=4, n_clusters=2,
                                              min_topic_size=5))
    topics = {t["best_field"] if not t["outside_taxonomy"] else "outside": t
              for t in store.list_topics(MODEL)}
    assert set(topics) == {"6g", "outside"}
    assert topics["6g"]["affinity"]["6g"]["share"] == 1.0
    assert topics["6g"]["pathway_affinity"]["6g-thz"] == pytest.approx(0.7)
    assert topics["outside"]["affinity"]["6g"]["share"] == 0.0


def test_replayed_nights_on_real_news_keep_ids(store: Store) -> None:
    """Chinese news, embedded with the hashing test model: a week of nights in a row."""
    from scanner.embed import embed_new_items, load_embedder
    from scanner.ingest.dumps import import_dump
    from tests.support.paths import shared_path

    import_dump(store, shared_path("corpus", "news_zh_2022_2024.parquet"), limit=600)
    embed_new_items(store, load_embedder("hashing-test"))
    days = sorted({r["published"][:10] for r in store.window_items("2000-01-01", "2100-01-01",
                                                                   ["news"])})
    settings = TopicSettings(window_days=60, n_components=20, min_topic_size=5,
                             recluster_days=3)
    start = datetime.fromisoformat(days[0]) + timedelta(days=10)
    results = []
    for n in range(7):
        day = (start + timedelta(days=n)).date().isoformat()
        results.append(update_topics(store, settings, "hashing-test", "tax@1", day)[0])
    assert [r["mode"] for r in results].count("full") >= 2  # day 1 and the 3-day cadence
    live = store.list_topics("hashing-test", limit=500)
    assert live and all(t["keywords"].get("zh") for t in live)
    assert max(r["unassigned"] / r["items"] for r in results) < 0.3
    kinds = {k for r in results for k in r["events"]}
    assert {"born", "continued"} <= kinds | {"grew"}


def test_topics_commands_list_show_and_history_escape_item_text(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import cli

    db = tmp_path / "s.db"
    store = Store(db)
    x, ids = _blobs(CENTRES[:2], 12, seed=1)
    hostile = [f"[bold red]{i}[/] <script>alert(1)</script> quantum qubits" for i in ids]
    _add(store, x, ids, "2026-01-10", titles=hostile)
    _night(store, "2026-01-10", TopicSettings(window_days=30, n_components=4, n_clusters=2,
                                              min_topic_size=5))
    topic_id = store.list_topics(MODEL)[0]["id"]
    store.close()
    runner = CliRunner()
    env = {"SCANNER_MODEL": MODEL}
    listed = runner.invoke(cli, ["--db", str(db), "topics", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert topic_id in listed.output and "not scored" in listed.output
    shown = runner.invoke(cli, ["--db", str(db), "topics", "show", topic_id], env=env)
    assert shown.exit_code == 0, shown.output
    assert "[bold red]" in shown.output  # shown literally, not interpreted as markup
    assert "keywords (en)" in shown.output and "qubits" in shown.output
    history = runner.invoke(cli, ["--db", str(db), "topics", "history", topic_id], env=env)
    assert history.exit_code == 0 and "born" in history.output
    missing = runner.invoke(cli, ["--db", str(db), "topics", "show", "T999999"], env=env)
    assert missing.exit_code == 1 and "unknown topic 'T999999'" in missing.output


def test_the_clusterer_learns_its_state_in_fit_only() -> None:
    clusterer = Clusterer(n_components=4, n_clusters=2, min_cluster_size=2)
    assert not hasattr(clusterer, "labels_") and not hasattr(clusterer, "centroids_")
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 0.05, (10, 8)) + 1, rng.normal(0, 0.05, (10, 8)) - 1])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert clusterer.fit(x) is clusterer
    assert len(clusterer.labels_) == 20 and len(clusterer.centroids_) == 2
