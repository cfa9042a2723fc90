"""`scanner run`: the nightly flow end to end, bad arguments, failed stages, catch-up nights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import cli
from scanner.store import Store
from scanner.testing.feedserver import FeedServer, body
from tests.support.paths import REPO, shared_path


def test_scanner_run_end_to_end_with_unreachable_sources(tmp_path: Path,
                                                         feed_server: FeedServer) -> None:
    """The real console script and the real Prefect flow, offline, in a temp folder."""
    feed = shared_path("feeds", "feedjira_sample_feeds", "TechCrunch.xml").read_bytes()
    good = feed_server.route("/tc.xml", body(feed, "application/rss+xml"))
    (tmp_path / "sources.toml").write_text(
        f'[[source]]\nid = "local"\nkind = "feed"\nurl = "{good}"\nlanguage = "en"\n'
        'item_kind = "news"\n'
        '[[source]]\nid = "unresolvable"\nkind = "feed"\n'
        'url = "https://feeds.example.invalid/rss"\nlanguage = "en"\nitem_kind = "news"\n'
        '[[source]]\nid = "refused"\nkind = "arxiv_api"\nquery = "abs:tokamak"\n'
        'url = "http://127.0.0.1:9/api/query"\nlanguage = "en"\nitem_kind = "paper"\n'
    )
    (tmp_path / "scanner.toml").write_text(
        'sources_file = "sources.toml"\ndb_path = "var/scanner.db"\n'
        # float32: the default suite never quantises a model (int8, the e5 default, is
        # covered by tests/embed/test_int8.py with a stand-in and by the slow tests)
        'embed_backend = "openvino"\n'
        '[fetch]\nretries = 0\ndefault_host_delay_s = 0\ntimeout_s = 3\n'
        '[fetch.host_delay_s]\n"export.arxiv.org" = 0\n'
    )
    scanner = Path(sys.executable).parent / "scanner"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SCANNER_"))}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([str(scanner), "run", "--date", "2026-11-23"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Pull: 1 of 3 sources answered, 2 failed" in result.stdout
    assert "source unresolvable failed" in result.stdout
    assert (tmp_path / ".prefect").is_dir()  # PREFECT_HOME inside the working folder
    store = Store(tmp_path / "var" / "scanner.db")
    runs = list(store.db["runs"].rows)
    assert len(runs) == 1 and runs[0]["status"] == "ok" and runs[0]["run_date"] == "2026-11-23"
    summary = json.loads(runs[0]["summary"])
    assert [s["stage"] for s in summary["stages"]] == [
        "pull", "embed", "assign", "topics", "terms", "signals", "report"]
    embed = summary["stages"][1]
    assert embed["status"] == "ok" and embed["embedded"] == 20
    assert embed["model"] == "multilingual-e5-small"
    assign = summary["stages"][2]
    assert assign["status"] == "ok" and assign["assigned"] == 20
    assert assign["taxonomy"].startswith("2025.1@")
    topics = summary["stages"][3]
    # the recorded feed's stories are years older than the run date: the topic window is
    # empty, so the topics are kept and the run says where the data end
    assert topics["status"] == "skipped" and "the newest stored item is of" in topics["reason"]
    assert summary["stages"][4]["status"] == "ok"  # signals
    report = summary["stages"][5]
    assert report["status"] == "ok"
    assert (tmp_path / "reports" / "2026-11-23" / "report.html").is_file()
    assert (tmp_path / "reports" / "latest").resolve().name == "2026-11-23"
    fetches = {r["source_id"]: r for r in store.recent_fetches()}
    assert fetches["local"]["status"] == "ok" and fetches["local"]["run_id"] == runs[0]["id"]
    assert fetches["unresolvable"]["status"] == "network_error"
    assert store.db["items"].count == 20
    assert store.count_embeddings("multilingual-e5-small") == 20


@pytest.mark.parametrize("args", [["run", "--date", "23/11/2026"], ["run", "--sources", "zz"],
                                  ["run", "--field", "nope"]])
def test_run_rejects_bad_arguments_before_starting(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), *args])
    assert result.exit_code == 1 and "Error:" in result.output


def test_a_failed_stage_marks_the_run_failed_and_keeps_earlier_work(
        tmp_path: Path, feed_server: FeedServer) -> None:
    feed = shared_path("feeds", "feedjira_sample_feeds", "TechCrunch.xml").read_bytes()
    url = feed_server.route("/tc.xml", body(feed, "application/rss+xml"))
    (tmp_path / "sources.toml").write_text(
        f'[[source]]\nid = "local"\nkind = "feed"\nurl = "{url}"\nlanguage = "en"\n'
        'item_kind = "news"\n')
    (tmp_path / "scanner.toml").write_text(
        'sources_file = "sources.toml"\ndb_path = "s.db"\nmodel = "hashing-test"\n'
        '[fetch]\nretries = 0\ndefault_host_delay_s = 0\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SCANNER_"))}
    env["PYTHONPATH"] = str(REPO)
    scanner = Path(sys.executable).parent / "scanner"
    result = subprocess.run([str(scanner), "run"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0
    store = Store(tmp_path / "s.db")
    (run,) = list(store.db["runs"].rows)
    assert run["status"] == "failed" and "no trained calibrator" in run["error"]
    stages = json.loads(run["summary"])["stages"]
    assert [s["stage"] for s in stages] == ["pull", "embed"]  # what finished is recorded
    assert store.db["items"].count == 20 and store.count_embeddings("hashing-test") == 20


def test_run_since_runs_every_night_oldest_first_and_fetches_once(tmp_path: Path,
                                                                  monkeypatch) -> None:
    import scanner.cli.runs as cli_module

    calls: list[dict] = []

    def fake_flow(**kwargs: object) -> dict:
        calls.append(kwargs)
        return {"run_id": f"nightly-{kwargs['run_date']}", "stages": []}

    seen_dask: list[str] = []
    monkeypatch.setattr(cli_module, "flow_on_runner",
                        lambda flow, config: seen_dask.append(config.dask) or fake_flow)
    runner = CliRunner()
    db = str(tmp_path / "x.db")
    result = runner.invoke(cli, ["--db", db, "run", "--since", "2025-02-27", "--date",
                                 "2025-03-02", "--dask", "local:2"])
    assert result.exit_code == 0, result.output
    assert [c["run_date"] for c in calls] == ["2025-02-27", "2025-02-28", "2025-03-01",
                                               "2025-03-02"]
    assert [c["fetch"] for c in calls] == [True, False, False, False]
    assert seen_dask == ["local:2"] and {c["dask"] for c in calls} == {"local:2"}
    backwards = runner.invoke(cli, ["--db", db, "run", "--since", "2025-03-03", "--date",
                                    "2025-03-02"])
    assert backwards.exit_code == 2 and "after the run date" in backwards.output
    bad = runner.invoke(cli, ["--db", db, "run", "--dask", "nowhere"])
    assert bad.exit_code == 1 and "scheduler address" in bad.output


