"""`scanner browse`: the store through Datasette's own test client, read-only."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from markupsafe import escape

from scanner.cli import cli
from scanner.config import SignalSettings, TopicSettings, load_config
from scanner.ingest.normalize import make_item
from scanner.signals import compute_signals
from scanner.store import Store
from scanner.taxonomy import load_taxonomy, taxonomy_key
from scanner.topics import update_topics

datasette = pytest.importorskip(
    "datasette", reason="scanner browse needs the optional extra: "
                        "pip install 'horizon-scanner[browse]'")

from scanner.store.browse import browse_app  # noqa: E402 (after the skip)
from scanner.store.browse_metadata import HIDDEN, QUERIES, TABLES, store_metadata  # noqa: E402

TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)
KEY = taxonomy_key(TAXONOMY)
FIELDS = ("6g", "silicon-photonics")
NIGHTS = ("2025-11-30", "2025-12-31")


def _build(path: Path) -> dict[str, Any]:
    """Papers and news over 2025 in two fields and one field-less group, their topics
    over two nights, signals, a night's run with failed and good fetches, ranked terms."""
    store = Store(path)
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 16))
    items, vectors, plan = [], [], []
    for month in range(1, 13):
        when = datetime(2025, month, 10, tzinfo=UTC)
        for g, fid in enumerate((*FIELDS, None)):
            for k in range(3 + (month if fid == "6g" else 0)):
                items.append(make_item(
                    source_id="arxiv", kind="paper" if k % 3 else "news",
                    title=f"{fid or 'misc'} item {month}-{k}", language="en",
                    summary=f"Measurements of {fid or 'other'} systems, case {k}.",
                    fetched_at=when, guid=f"{fid}-{month}-{k}", published=when, html=False))
                v = centres[g] + 0.05 * rng.normal(size=16)
                vectors.append(v / np.linalg.norm(v))
                plan.append(fid)
    store.upsert_items(items)
    store.save_embeddings("m", [i["content_hash"] for i in items],
                          np.array(vectors, np.float32))
    store.save_assignments([
        {"item_id": i["id"], "taxonomy": KEY, "model": "m", "content_hash": i["content_hash"],
         "scores": {f: (0.5 + 0.01 * n if f == fid else 0.01) for f in FIELDS},
         "fields": [fid] if fid else [], "evidence": {}, "pathways": {},
         "method": "zero-shot"} for n, (i, fid) in enumerate(zip(items, plan, strict=True))])
    rejected = next(i["id"] for i, fid in zip(items, plan, strict=True) if fid == "6g")
    store.add_verdict(rejected, "6g", False, "tester")
    for night in NIGHTS:
        update_topics(store, TopicSettings(window_days=400, n_components=8, n_clusters=3,
                                           min_topic_size=5), "m", KEY, night)
        compute_signals(store, TAXONOMY, KEY, "m", SignalSettings(period="quarter", periods=4),
                        night, 400)
    store.sync_sources([{"id": "arxiv", "name": "arXiv"}, {"id": "blog", "name": "A blog"}])
    run_id = store.start_run("nightly", NIGHTS[-1])
    for n, (source, status, code) in enumerate((
            ("arxiv", "ok", 200), ("blog", "http_error", 404), ("blog", "not_modified", 304),
            ("blog", "network_error", None))):
        store.record_fetch({"run_id": run_id, "source_id": source, "url": f"https://x/{n}",
                            "started_at": f"2025-12-31T02:0{n}:00+00:00", "status": status,
                            "http_code": code, "error_message": None if code in (200, 304)
                            else f"failure {n}"})
    store.finish_run(run_id, "ok", {"stages": []})
    store.save_term_ranking(NIGHTS[-1], "paper", [
        {"term": "terahertz", "score": 2.5, "best_field": "6g"},
        {"term": "photonic chip", "score": 1.5, "outside_taxonomy": True}])
    store.add_term_counts({("terahertz", "2025-11", "paper", "cs.NI"): 3,
                           ("terahertz", "2025-11", "paper", "eess.SP"): 2,
                           ("terahertz", "2025-12", "paper", "cs.NI"): 4},
                          [("x1", "2025-11", "paper", "cs.NI")])
    facts = {"run_id": run_id, "items": items, "plan": plan, "rejected": rejected}
    store.close()
    return facts


@pytest.fixture(scope="module")
def browsed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict, Path]]:
    path = tmp_path_factory.mktemp("browse") / "store.db"
    facts = _build(path)
    yield browse_app(path), facts, path


def _get(ds: Any, path: str) -> Any:
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.text[:300])
    return response


def _rows(ds: Any, query: str, **params: str) -> list[dict[str, Any]]:
    args = "&".join(f"{k}={v}" for k, v in params.items())
    return _get(ds, f"/store/{query}.json?_shape=array&{args}").json()


def test_tables_are_listed_with_their_descriptions(browsed: tuple) -> None:
    ds, _, _ = browsed
    listed = {t["name"]: t for t in _get(ds, "/store.json").json()["tables"]}
    assert set(TABLES) <= set(listed)
    assert all(listed[name]["hidden"] for name in HIDDEN if name in listed)
    assert not any(listed[name]["hidden"] for name in TABLES)
    for name, (about, columns) in TABLES.items():
        page = _get(ds, f"/store/{name}").text
        assert str(escape(about)) in page, name
        for column, meaning in columns.items():  # every described column exists
            assert column in listed[name]["columns"], (name, column)
            assert f"<dt>{column}</dt><dd>{escape(meaning)}</dd>" in page
    names = {q["name"] for q in _get(ds, "/store.json").json()["queries"]}
    assert names == set(QUERIES)  # each is tested below


def test_a_fields_evidence_in_a_window(browsed: tuple) -> None:
    ds, facts, _ = browsed
    rows = _rows(ds, "field_evidence", field="6g", since="2025-03-01", until="2025-04-30")
    expected = {i["id"] for i, fid in zip(facts["items"], facts["plan"], strict=True)
                if fid == "6g" and "2025-03-01" <= i["published"][:10] <= "2025-04-30"}
    assert {r["item_id"] for r in rows} == expected and len(rows) == len(expected)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    everything = _rows(ds, "field_evidence", field="6g", since="", until="")  # open window
    assert len(everything) == facts["plan"].count("6g")
    verdicts = {r["item_id"]: r["verdict"] for r in everything}
    assert verdicts[facts["rejected"]] == "irrelevant"
    assert sum(v is not None for v in verdicts.values()) == 1
    months = _rows(ds, "field_months", field="6g")
    assert sum(r["items"] for r in months) == facts["plan"].count("6g")
    assert {r["month"] for r in months} == {f"2025-{m:02d}" for m in range(1, 13)}


def test_a_topics_history_and_members(browsed: tuple) -> None:
    ds, _, path = browsed
    with Store(path) as store:
        topic = next(t["id"] for t in store.db["topics"].rows_where("status = 'live'"))
        nights = [r[0] for r in store.db.execute(
            "SELECT run_date FROM topic_snapshots WHERE topic_id = ? ORDER BY 1", [topic])]
        kinds = {r[0] for r in store.db.execute(
            "SELECT kind FROM topic_events WHERE topic_id = ?", [topic])}
        members = {r[0] for r in store.db.execute(
            "SELECT item_id FROM topic_members WHERE topic_id = ?", [topic])}
    history = _rows(ds, "topic_history", topic=topic)
    assert [r["run_date"] for r in history] == nights == list(NIGHTS)
    assert all(r["size"] > 0 for r in history)
    assert {e.split(" ")[0] for r in history for e in (r["events"] or "").split("; ") if e} \
        == kinds
    assert {r["item_id"] for r in _rows(ds, "topic_items", topic=topic)} == members
    assert _rows(ds, "topic_history", topic="T-none") == []


def test_a_runs_ranked_lists_by_run_id_or_date(browsed: tuple) -> None:
    ds, facts, path = browsed
    with Store(path) as store:
        expected = [(name, r["rank"], r["entity_id"]) for name in ("fields", "topics")
                    for r in store.ranked(name, NIGHTS[-1])]
    assert expected
    by_run = _rows(ds, "run_ranked_lists", run=facts["run_id"], list="")
    by_date = _rows(ds, "run_ranked_lists", run=NIGHTS[-1], list="")
    assert by_run == by_date
    got = [(r["list"], r["rank"], r["entity_id"]) for r in by_run if r["list"] in
           ("fields", "topics")]
    assert got == sorted(expected)
    fields = _rows(ds, "run_ranked_lists", run=NIGHTS[-1], list="fields")
    assert [r["entity_id"] for r in fields] == [e for n, _, e in expected if n == "fields"]
    runs = _rows(ds, "recent_runs")
    assert [(r["id"], r["status"]) for r in runs] == [(facts["run_id"], "ok")]


def test_failed_fetches_terms_and_outside_topics(browsed: tuple) -> None:
    ds, _, path = browsed
    failed = _rows(ds, "failed_fetches", since="")
    assert [(r["status"], r["http_code"], r["source"]) for r in failed] == [
        ("network_error", None, "A blog"), ("http_error", 404, "A blog")]
    assert [r["status"] for r in _rows(ds, "failed_fetches",
                                       since="2025-12-31T02:02:00")] == ["network_error"]
    terms = _rows(ds, "emerging_terms", run_date=NIGHTS[-1], stream="")
    assert [(r["rank"], r["term"], r["outside_taxonomy"]) for r in terms] == [
        (1, "terahertz", 0), (2, "photonic chip", 1)]
    assert [(r["month"], r["items"]) for r in _rows(ds, "term_months", term="terahertz")] == [
        ("2025-11", 5), ("2025-12", 4)]
    with Store(path) as store:
        outside = {t["id"] for t in store.db["topics"].rows_where(
            "status = 'live' AND outside_taxonomy = 1")}
    assert outside and {r["id"] for r in _rows(ds, "outside_taxonomy_topics")} == outside


def test_nothing_can_write_the_store(browsed: tuple) -> None:
    _, _, path = browsed
    metadata = store_metadata()
    metadata["databases"]["store"]["queries"]["sneak"] = {
        "sql": "INSERT INTO runs (id, kind, status) VALUES (:id, 'x', 'ok')", "write": True}
    ds = browse_app(path, metadata=metadata)
    before = _rows(ds, "recent_runs")
    response = asyncio.run(ds.client.post("/store/sneak", json={"id": "evil"},
                                          headers={"accept": "application/json"}))
    assert response.json()["ok"] is False
    assert "readonly" in response.json()["message"]
    sql = asyncio.run(ds.client.get("/store.json?sql=DELETE+FROM+runs"))
    assert sql.status_code == 400 and "SELECT" in sql.text
    with pytest.raises(Exception, match="readonly"):
        asyncio.run(ds.get_database("store").execute_write("DELETE FROM runs"))
    assert _rows(ds, "recent_runs") == before
    assert [name for name in ds.databases if not name.startswith("_")] == ["store"]


def test_browse_command_prints_a_page_and_names_a_missing_extra(
        browsed: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, facts, path = browsed
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(path), "browse", "--get",
                                 "/store/recent_runs.json?_shape=array"])
    assert result.exit_code == 0, result.output
    assert facts["run_id"] in result.output
    missing = runner.invoke(cli, ["--db", str(tmp_path / "none.db"), "browse"])
    assert missing.exit_code == 1 and "no store at" in missing.output
    assert not (tmp_path / "none.db").exists()  # browsing creates nothing
    for name in [m for m in sys.modules if m == "datasette" or m.startswith("datasette.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "datasette", None)  # as if not installed
    absent = runner.invoke(cli, ["--db", str(path), "browse"])
    assert absent.exit_code == 1
    assert "pip install 'horizon-scanner[browse]'" in absent.output
