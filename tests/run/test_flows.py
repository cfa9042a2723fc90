"""Deployments and flows under Prefect: schedule, backfill -> nightly -> rescore."""

from __future__ import annotations

import json
from pathlib import Path

import flows  # noqa: F401  (offline settings first)
from scanner import progress
from scanner.progress import Step
from scanner.store import Store
from tests.support.paths import (
    REPO,
    shared_path,
)


def test_nightly_deployment_runs_at_two_in_shanghai_in_code_and_in_prefect_yaml() -> None:
    import yaml  # prefect depends on PyYAML

    from flows.deployments import NIGHTLY_CRON, TIMEZONE, deployments

    registered = {d.name: d for d in deployments()}
    assert set(registered) == {"nightly", "rescore", "backfill", "evaluate"}
    schedule = registered["nightly"].schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert not registered["rescore"].schedules
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    nightly = next(d for d in spec["deployments"] if d["name"] == "nightly")
    assert nightly["schedules"] == [{"cron": NIGHTLY_CRON, "timezone": TIMEZONE}]
    assert nightly["entrypoint"] == "flows/nightly.py:nightly"


def test_backfill_nightly_and_rescore_end_to_end_under_the_test_harness(tmp_path: Path) -> None:
    """A real slice of the Chinese news corpus: backfill it, run a night without fetching,
    rerun the night (replaced, not duplicated), then rescore."""
    import pyarrow.parquet as pq
    from prefect.testing.utilities import prefect_test_harness

    from flows.batch import backfill, rescore
    from flows.nightly import nightly

    source = shared_path("corpus", "news_zh_2022_2024.parquet")
    table = pq.read_table(source)
    rows = [i for i, d in enumerate(table.column("date").to_pylist())
            if str(d)[:7] in ("2024-10", "2024-11", "2024-12")][::8][:120]
    dump = tmp_path / "slice.parquet"  # a derived slice for this test only, in tmp
    pq.write_table(table.take(rows), dump)
    db = str(tmp_path / "s.db")
    (tmp_path / "scanner.toml").write_text(
        f'db_path = "{db}"\nreport_dir = "{tmp_path / "reports"}"\n'
        'embed_backend = "openvino"\n'  # float32: the default suite never quantises
        "[topics]\nwindow_days = 120\nmin_topic_size = 4\n"
        '[signals]\nperiod = "month"\nperiods = 6\n')
    config = str(tmp_path / "scanner.toml")
    with prefect_test_harness(server_startup_timeout=180):
        filled = backfill(path=str(dump), chunk_rows=50, config_path=config)
        assert [s["stage"] for s in filled["stages"]] == ["backfill", "assign"]
        assert filled["stages"][0]["rows"] == len(rows) and filled["stages"][1]["assigned"] == \
            len(rows)
        heard: list[Step] = []
        with progress.listening(heard.append):
            first = nightly(run_date="2024-12-31", fetch=False, config_path=config)
        store = Store(db)
        topics_before = {t["id"] for t in store.list_topics(limit=500)}
        events_before = len(store.topic_events())
        store.close()
        again = nightly(run_date="2024-12-31", fetch=False, config_path=config)
        rescored = rescore(run_date="2024-12-31", config_path=config)
    assert [s["status"] for s in first["stages"]] == ["skipped", "ok", "ok", "ok", "ok", "ok",
                                                      "ok"]
    # terms: the first night counts every item, the rerun none, the rescore all again
    terms = [next(s for s in run["stages"] if s["stage"] == stage)
             for run, stage in ((first, "terms"), (again, "terms"), (rescored, "terms"))]
    assert [t["counted"] for t in terms] == [len(rows), 0, len(rows)]
    assert [t["rebuilt"] for t in terms] == [False, False, True]
    # the stages told how far they got, and each said it ended, in order
    assert [s.stage for s in heard if s.finished] == [s["stage"] for s in first["stages"]]
    assert {s.stage for s in heard if not s.finished} >= {"embed", "topics", "signals", "report"}
    # the rerun starts from the state the first run started from, and ends as it did
    assert again["stages"][3]["events"] == first["stages"][3]["events"]
    store = Store(db)
    try:
        assert store.db["items"].count == len(rows)
        assert {t["id"] for t in store.list_topics(limit=500)} == topics_before
        assert len(store.topic_events()) == events_before  # the night replaced, not added
        runs = {r["kind"]: r for r in store.recent_runs(10)}
        assert {r["status"] for r in runs.values()} == {"ok"}
        assert store.db["locks"].count == 0  # every run gave the lock back
        fields = store.ranked("fields", "2024-12-31")
        assert fields and all(r["explanation"] for r in fields)
        assert rescored["stages"][2]["modes"] == {"all": "full"}
    finally:
        store.close()
    report = json.loads((tmp_path / "reports" / "latest" / "report.json").read_text())
    assert report["run_date"] == "2024-12-31" and report["coverage"]["items"] == len(rows)


def _news_slice(tmp_path: Path, n: int) -> Path:
    import pyarrow.parquet as pq

    table = pq.read_table(shared_path("corpus", "news_zh_2022_2024.parquet"))
    dump = tmp_path / "slice.parquet"  # a derived slice for this test only, in tmp
    pq.write_table(table.slice(0, n), dump)
    return dump


def test_embedding_maps_over_a_dask_local_cluster_and_stores_what_in_process_would(
        tmp_path: Path, monkeypatch) -> None:
    """Two worker processes compute the vectors; the flow's process stores them, equal to
    the in-process embedder's, once per text."""
    import numpy as np
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness
    from prefect_dask import DaskTaskRunner

    from flows.scale import embed_mapped, on_runner
    from scanner.config import load_config
    from scanner.embed import item_text, load_embedder
    from scanner.run import RunContext
    from scanner.run.backfill import import_chunk

    db = str(tmp_path / "s.db")
    config_file = tmp_path / "scanner.toml"
    config_file.write_text(f'db_path = "{db}"\nmodel = "hashing-test"\n')
    config = load_config(config_file)
    dump = _news_slice(tmp_path, 150)
    assert import_chunk(RunContext(config), str(dump), 1000)["done"]
    with Store(db) as store:
        pending = store.missing_embeddings("hashing-test", 10_000)

    @flow(name="embed-on-dask")
    def embed_only(config_path: str) -> dict:
        with RunContext(load_config(config_path, {"dask": "local:2"})) as ctx:
            return embed_mapped(ctx, batch_size=20, wave_batches=4)

    with prefect_test_harness(server_startup_timeout=180):
        monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())  # workers inherit it
        on_dask = on_runner(embed_only, "local:2")
        assert isinstance(on_dask.task_runner, DaskTaskRunner)
        summary = on_dask(str(config_file))

        async def batch_runs() -> int:
            async with get_client() as client:
                return len(await client.read_task_runs(task_run_filter=TaskRunFilter(
                    name=TaskRunFilterName(like_="embed-batch"))))

        import asyncio

        ran = asyncio.run(batch_runs())
    with Store(db) as store:
        assert store.count_missing_embeddings("hashing-test") == 0
        stored = store.embeddings_for_hashes("hashing-test", [p["content_hash"] for p in pending])
    assert summary["embedded"] == len(stored) == len(pending) > 100
    assert summary["waves"] == 2 and ran == -(-len(pending) // 20)  # 20 a batch, 4 a wave
    direct = load_embedder("hashing-test").embed([item_text(p) for p in pending])
    assert np.array_equal(np.stack([stored[p["content_hash"]] for p in pending]), direct)


def test_dask_without_a_running_prefect_server_is_refused_with_the_way_out(monkeypatch) -> None:
    import pytest
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.scale import task_runner
    from scanner.errors import ConfigError

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(updates={PREFECT_API_URL: None}), \
            pytest.raises(ConfigError, match="prefect server start"):
        task_runner("local:2")
    assert task_runner("") is None


def test_dask_set_on_a_flow_that_is_not_on_dask_embeds_in_process(tmp_path: Path) -> None:
    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness

    from flows.scale import embed_mapped
    from scanner.config import load_config
    from scanner.run import RunContext
    from scanner.run.backfill import import_chunk

    config_file = tmp_path / "scanner.toml"
    config_file.write_text(f'db_path = "{tmp_path / "s.db"}"\nmodel = "hashing-test"\n'
                           'dask = "local:2"\n')
    config = load_config(config_file)
    import_chunk(RunContext(config), str(_news_slice(tmp_path, 30)), 1000)

    @flow(name="plain")
    def plain() -> dict:
        with RunContext(config) as ctx:
            return embed_mapped(ctx)

    with prefect_test_harness(server_startup_timeout=180):
        summary = plain()
    assert summary["runner"].startswith("in-process") and summary["embedded"] > 0
    with Store(config.db_path) as store:
        assert store.count_missing_embeddings("hashing-test") == 0


def test_the_evaluate_flow_puts_the_assignment_figures_in_its_run(tmp_path: Path) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from flows.batch import evaluate

    lines = shared_path("labels", "dev.jsonl").read_text(encoding="utf-8").splitlines()
    labels = tmp_path / "labels.jsonl"  # a derived subset for this test only, in tmp
    labels.write_text("\n".join(lines[:120]) + "\n", encoding="utf-8")
    config = tmp_path / "scanner.toml"
    config.write_text(f'db_path = "{tmp_path / "s.db"}"\nmodel = "hashing-test"\n')
    with prefect_test_harness(server_startup_timeout=180):
        summary = evaluate(labels=str(labels), backtest=None, config_path=str(config))
    stage = summary["stages"][0]
    assert stage["stage"] == "evaluate-assign" and stage["items"]["all"] == 120
    assert 0 <= stage["macro_f1"]["all"] <= 1 and set(stage["crosslingual"])
    with Store(tmp_path / "s.db") as store:
        run = store.get_run(summary["run_id"])
    assert run["kind"] == "evaluate" and run["status"] == "ok"
    assert run["summary"]["stages"][0]["micro_f1"] == stage["micro_f1"]
