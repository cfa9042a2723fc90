"""Deployments and flows under Prefect: schedule, backfill -> nightly -> rescore."""

from __future__ import annotations

import json
from pathlib import Path

import flows  # noqa: F401  (offline settings first)
from scanner.store import Store
from tests.conftest import shared_path

REPO = Path(__file__).resolve().parent.parent


def test_nightly_deployment_runs_at_two_in_shanghai_in_code_and_in_prefect_yaml() -> None:
    import yaml  # prefect depends on PyYAML

    from flows.deployments import NIGHTLY_CRON, TIMEZONE, deployments

    registered = {d.name: d for d in deployments()}
    assert set(registered) == {"nightly", "rescore", "backfill"}
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
        "[topics]\nwindow_days = 120\nmin_topic_size = 4\n"
        '[signals]\nperiod = "month"\nperiods = 6\n')
    config = str(tmp_path / "scanner.toml")
    with prefect_test_harness(server_startup_timeout=180):
        filled = backfill(path=str(dump), chunk_rows=50, config_path=config)
        assert [s["stage"] for s in filled["stages"]] == ["backfill", "assign"]
        assert filled["stages"][0]["rows"] == len(rows) and filled["stages"][1]["assigned"] == \
            len(rows)
        first = nightly(run_date="2024-12-31", fetch=False, config_path=config)
        store = Store(db)
        topics_before = {t["id"] for t in store.list_topics(limit=500)}
        events_before = len(store.topic_events())
        store.close()
        again = nightly(run_date="2024-12-31", fetch=False, config_path=config)
        rescored = rescore(run_date="2024-12-31", config_path=config)
    assert [s["status"] for s in first["stages"]] == ["skipped", "ok", "ok", "ok", "ok", "ok"]
    assert again["stages"][3]["events"].get("born", 0) == 0  # the rerun continues topics
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
