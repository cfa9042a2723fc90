"""The run lock, backups and integrity checks of the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import cli
from scanner.config import load_config
from scanner.errors import RunLockError
from scanner.pipeline import RUN_LOCK, begin_run, end_run
from scanner.store import Store

REPO = Path(__file__).resolve().parent.parent


def test_a_second_run_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    config = load_config(None, {"db_path": str(tmp_path / "s.db")}, environ={})
    first = begin_run(config, "nightly", "2026-01-01", {})
    with pytest.raises(RunLockError, match=f"in use by run {first}"):
        begin_run(config, "cli", "2026-01-01", {})
    store = Store(config.db_path)
    assert [r["id"] for r in store.db["runs"].rows] == [first]  # the refused run wrote nothing
    store.close()
    end_run(config, first, "ok", {})
    second = begin_run(config, "cli", "2026-01-01", {})
    end_run(config, second, "ok", {})


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; sys.path.insert(0, sys.argv[2]);"
         "from scanner.store import Store; s = Store(sys.argv[1]);"
         "s.acquire_lock('pipeline', 'run-holder');"
         "s.start_run('nightly', '2026-01-01', {}, 'run-holder');"
         "print('held', flush=True); time.sleep(60)",
         str(db), str(REPO)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    store = Store(db)
    with pytest.raises(RunLockError, match="run-holder"):
        store.acquire_lock(RUN_LOCK, "run-second")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    note = store.acquire_lock(RUN_LOCK, "run-second")
    assert note is not None and "stale lock of run run-holder" in note and "process gone" in note
    killed = store.get_run("run-holder")  # the killed run's row is closed as failed
    assert killed["status"] == "failed" and "interrupted" in killed["error"] and \
        "run-second" in killed["error"] and killed["finished_at"]
    store.close()


def test_a_lock_not_renewed_for_too_long_is_stale(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.acquire_lock(RUN_LOCK, "run-a")
    with pytest.raises(RunLockError):
        store.acquire_lock(RUN_LOCK, "run-b", stale_after_s=3600)
    time.sleep(1.1)
    assert "not renewed" in (store.acquire_lock(RUN_LOCK, "run-b", stale_after_s=1) or "")
    store.close()


def test_backup_check_and_unlock_commands(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = Store(db)
    store.upsert_items([{"id": f"x{i}", "source_id": "s", "kind": "news", "title": f"t{i}",
                         "published": "2026-01-01T00:00:00+00:00", "content_hash": f"h{i}",
                         "record_hash": f"r{i}"} for i in range(50)])
    store.acquire_lock(RUN_LOCK, "run-stuck")
    store.close()
    runner = CliRunner()
    backup = runner.invoke(cli, ["--db", str(db), "db", "backup", str(tmp_path / "b" / "c.db")])
    assert backup.exit_code == 0, backup.output
    copy = Store(tmp_path / "b" / "c.db")
    assert copy.db["items"].count == 50 and copy.check()["integrity"] == ["ok"]
    copy.close()
    checked = runner.invoke(cli, ["--db", str(db), "db", "check"])
    assert checked.exit_code == 0 and "integrity ok" in " ".join(checked.output.split())
    unlocked = runner.invoke(cli, ["--db", str(db), "db", "unlock"])
    assert "removed the lock of run run-stuck" in " ".join(unlocked.output.split())
    assert "no lock was held" in runner.invoke(cli, ["--db", str(db), "db", "unlock"]).output


def test_a_corrupted_store_gives_a_clear_error_and_check_fails(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = Store(db)
    store.close()
    raw = bytearray(db.read_bytes())
    raw[100:4096] = os.urandom(3996)  # the header survives, the schema page does not
    db.write_bytes(bytes(raw))
    result = CliRunner().invoke(cli, ["--db", str(db), "db", "check"])
    assert result.exit_code == 1
    assert "cannot be used" in result.output or "not healthy" in result.output
