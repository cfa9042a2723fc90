"""`scanner fetch` takes the same path as the flows: the run lock, a run row closed
whatever happens, and a refusal (holder named, nothing written) while another run writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import cli
from scanner.errors import StoreError
from scanner.store import Store
from scanner.testing.feedserver import FeedServer, body, slow
from tests.support.paths import REPO

FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b'<item><title>One</title><guid>g1</guid><link>https://example.org/1</link>'
        b'<pubDate>Mon, 23 Nov 2026 01:00:00 GMT</pubDate></item></channel></rss>')


def _config(tmp_path: Path, url: str) -> Path:
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nid = "feed"\nkind = "feed"\nurl = "{url}"\n'
                       'language = "en"\nitem_kind = "news"\n')
    config = tmp_path / "scanner.toml"
    config.write_text(f'sources_file = "{sources}"\ndb_path = "{tmp_path / "s.db"}"\n'
                      "[fetch]\nretries = 0\ndefault_host_delay_s = 0\ntimeout_s = 20\n")
    return config


def _start_fetch(config: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SCANNER_"))}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.Popen([sys.executable, "-m", "scanner.cli", "--config", str(config),
                             "fetch"], cwd=config.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for_running(db: Path, deadline_s: float = 60) -> dict:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:  # the first process may be creating the file and its schema right now
            with Store(db) as store:
                running = [r for r in store.recent_runs() if r["status"] == "running"]
        except StoreError:
            running = []
        if running:
            return running[0]
        time.sleep(0.1)
    raise AssertionError("the first fetch never opened its run row")


def test_a_second_fetch_is_refused_before_writing_while_the_first_runs(
        tmp_path: Path, feed_server: FeedServer) -> None:
    config = _config(tmp_path, feed_server.route("/slow", slow(FEED, 4.0)))
    first = _start_fetch(config)
    try:
        holder = _wait_for_running(tmp_path / "s.db")
        second = CliRunner().invoke(cli, ["--config", str(config), "fetch"])
        assert second.exit_code == 1
        assert f"in use by run {holder['id']}" in second.output
        with Store(tmp_path / "s.db") as store:  # the refused fetch wrote no row
            assert [r["id"] for r in store.recent_runs()] == [holder["id"]]
            assert store.db["fetches"].count == 0
    finally:
        out, _ = first.communicate(timeout=60)
    assert first.returncode == 0, out.decode()
    with Store(tmp_path / "s.db") as store:
        run = store.get_run(holder["id"])
        assert run["status"] == "ok" and store.db["items"].count == 1


def test_a_killed_fetch_is_marked_failed_by_the_next_run(tmp_path: Path,
                                                         feed_server: FeedServer) -> None:
    config = _config(tmp_path, feed_server.route("/slow", slow(FEED, 30.0)))
    first = _start_fetch(config)
    killed = _wait_for_running(tmp_path / "s.db")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    feed_server.route("/slow", body(FEED, "application/rss+xml"))
    result = CliRunner().invoke(cli, ["--config", str(config), "fetch"])
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "s.db") as store:
        old = store.get_run(killed["id"])
        assert old["status"] == "failed" and "interrupted" in old["error"]
        (newest,) = [r for r in store.recent_runs() if r["id"] != killed["id"]]
        assert newest["status"] == "ok" and "took over" in newest["params"]["lock_note"]


def test_a_fetch_that_fails_midway_closes_its_run_row_failed(tmp_path: Path,
                                                             monkeypatch) -> None:
    import scanner.run.stages

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the parser fell over")

    monkeypatch.setattr(scanner.run.stages, "pull_sources", broken)
    config = _config(tmp_path, "http://127.0.0.1:9/x")
    result = CliRunner().invoke(cli, ["--config", str(config), "fetch"])
    assert result.exit_code != 0
    with Store(tmp_path / "s.db") as store:
        (run,) = store.recent_runs()
        assert run["kind"] == "fetch" and run["status"] == "failed"
        assert "the parser fell over" in run["error"]
        assert store.acquire_lock("pipeline", "next") is None  # the lock was given back
