"""The `scanner` command through click's CliRunner, and `scanner run` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scanner.cli import cli
from scanner.store import Store
from scanner.testing.feedserver import FeedServer, body
from tests.support.paths import REPO, shared_path


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name, command in _commands(cli):
        assert command.help, f"`scanner {name}` has no help text"
        result = runner.invoke(cli, [*name.split(), "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, name


def test_sources_list_and_unknown_source(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(tmp_path / "x.db"), "sources", "list", "--all"])
    assert result.exit_code == 0 and "nsf-news" in result.output
    result = runner.invoke(cli, ["--db", str(tmp_path / "x.db"), "fetch", "--source", "nope"])
    assert result.exit_code == 1 and "unknown source id(s): nope" in result.output


def test_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "scanner.toml"
    config.write_text("[fetch]\ntimeout_s = 'x'\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "db", "stats"])
    assert result.exit_code == 1
    assert f"Error: config file {config}, line 2, key 'timeout_s': expected a number" \
        in result.output
    assert "Traceback" not in result.output


def test_import_and_stats(tmp_path: Path) -> None:
    path = shared_path("corpus", "news_zh_2022_2024.parquet")
    db = tmp_path / "s.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "import", str(path), "--limit", "500"])
    assert result.exit_code == 0, result.output
    assert "500 rows read as 'news-zh'" in result.output and "500 new" in result.output
    again = runner.invoke(cli, ["--db", str(db), "import", str(path), "--limit", "500"])
    assert "already imported" in again.output
    stats = runner.invoke(cli, ["--db", str(db), "db", "stats", "--json"])
    assert json.loads(stats.output)["items_by_kind"] == {"news": 500}
    bad = runner.invoke(cli, ["--db", str(db), "import", str(path), "--map", "oops"])
    assert bad.exit_code == 2 and "FIELD=COLUMN" in bad.output


def test_fetch_command_against_local_server(tmp_path: Path, feed_server: FeedServer) -> None:
    feed = shared_path("feeds", "zh_real_feeds", "rss_meituan.xml").read_bytes()
    url = feed_server.route("/meituan.xml", body(feed, "application/rss+xml"))
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nid = "meituan"\nkind = "feed"\nurl = "{url}"\nlanguage = "zh"\n'
        'item_kind = "news"\n'
        '[[source]]\nid = "dead"\nkind = "feed"\nurl = "http://127.0.0.1:9/x"\n'
        'language = "en"\nitem_kind = "news"\n'
    )
    config = tmp_path / "scanner.toml"
    config.write_text(f'sources_file = "{sources}"\ndb_path = "s.db"\n'
                      "[fetch]\nretries = 0\ndefault_host_delay_s = 0\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "fetch"])
    assert result.exit_code == 0, result.output
    assert "1 of 2 sources ok; 10 new" in result.output
    store = Store(tmp_path / "s.db")
    assert store.db["items"].count == 10
    assert {r["status"] for r in store.recent_fetches()} == {"ok", "network_error"}


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


def test_sources_check_tries_each_source_and_stores_nothing(tmp_path: Path,
                                                            feed_server: FeedServer) -> None:
    feed = shared_path("feeds", "zh_real_feeds", "atom_v2ex.xml").read_bytes()
    url = feed_server.route("/v2ex.xml", body(feed, "application/atom+xml"))
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nid = "v2ex"\nkind = "feed"\nurl = "{url}"\n'
                       'language = "zh"\nitem_kind = "news"\n')
    config = tmp_path / "scanner.toml"
    config.write_text(f'sources_file = "{sources}"\ndb_path = "s.db"\n'
                      "[fetch]\nretries = 0\ndefault_host_delay_s = 0\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "sources", "check"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 sources answered with a feed" in result.output and "50" in result.output
    assert not (tmp_path / "s.db").exists()


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


@pytest.mark.parametrize("module", ["scanner", "scanner.cli"])
def test_python_dash_m_has_every_command(module: str) -> None:
    """The commands kept in their own modules (db check, report, topics) are there too."""
    result = subprocess.run([sys.executable, "-m", module, "db", "--help"], cwd=REPO,
                            capture_output=True, text=True, check=True)
    assert "check" in result.stdout and "backup" in result.stdout
