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
from scanner.run import RUN_LOCK, RunContext, begin_run, end_run, run_steps
from scanner.store import Store
from tests.support.paths import REPO


def test_a_second_run_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    config = load_config(None, {"db_path": str(tmp_path / "s.db")}, environ={})
    holder, newcomer = Store(config.db_path), Store(config.db_path)
    first = begin_run(holder, "nightly", "2026-01-01", {})
    with pytest.raises(RunLockError, match=f"in use by run {first}"):
        begin_run(newcomer, "cli", "2026-01-01", {})
    store = Store(config.db_path)
    assert [r["id"] for r in store.db["runs"].rows] == [first]  # the refused run wrote nothing
    store.close()
    end_run(holder, first, "ok", {})
    second = begin_run(newcomer, "cli", "2026-01-01", {})
    end_run(newcomer, second, "ok", {})
    holder.close()
    newcomer.close()


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


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_a_killed_holder_not_yet_reaped_holds_no_lock(tmp_path: Path) -> None:
    """Right after `timeout -s KILL` the killed process is a zombie until its parent reaps
    it; the rerun was refused because a zombie's pid still answers kill(pid, 0)."""
    db = tmp_path / "s.db"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; sys.path.insert(0, sys.argv[2]);"
         "from scanner.store import Store; s = Store(sys.argv[1]);"
         "s.acquire_lock('pipeline', 'run-zombie'); print('held', flush=True); time.sleep(60)",
         str(db), str(REPO)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    os.kill(holder.pid, signal.SIGKILL)  # not waited for: a zombie
    stat = Path(f"/proc/{holder.pid}/stat")
    deadline = time.monotonic() + 10
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    store = Store(db)
    note = store.acquire_lock(RUN_LOCK, "run-next")
    assert note is not None and "stale lock" in note
    store.close()
    holder.wait()


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
    before = db.read_bytes()
    result = CliRunner().invoke(cli, ["--db", str(db), "db", "check"])
    out = " ".join(result.output.split())
    assert result.exit_code == 1
    # it says what SQLite found and the way out, not "`scanner db check` tells what is
    # wrong" (which it was already running)
    assert "cannot be opened as a store; SQLite's integrity check (read-only) says:" in out
    assert "the store is damaged: restore the newest backup" in out
    assert "db check` tells" not in out and db.read_bytes() == before
    assert "header is not SQLite's" not in out  # the header survived
    db.write_bytes(os.urandom(8192))  # no header at all
    out = " ".join(CliRunner().invoke(cli, ["--db", str(db), "db", "check"]).output.split())
    assert "the file's header is not SQLite's" in out


def _news_dump(tmp_path: Path, name: str, start: int, n: int) -> Path:
    import pyarrow.parquet as pq

    from tests.support.paths import shared_path

    table = pq.read_table(shared_path("corpus", "news_zh_2022_2024.parquet"))
    path = tmp_path / name  # a derived slice for this test only, in tmp
    pq.write_table(table.slice(start, n), path)
    return path


def test_a_full_disk_mid_import_loses_nothing_and_the_rerun_completes(tmp_path: Path) -> None:
    """SQLite's own disk-full error (SQLITE_FULL, via max_page_count) in the middle of an
    import: what was stored stays, the failed batch wrote nothing, and once there is room
    the rerun ends equal to an import that never failed."""
    import sqlite3

    from scanner.ingest.dumps import import_dump
    from scanner.store import explain_sqlite_error

    first, second = _news_dump(tmp_path, "a.parquet", 0, 200), \
        _news_dump(tmp_path, "b.parquet", 200, 1500)
    reference = Store(tmp_path / "reference.db")
    import_dump(reference, first)
    import_dump(reference, second)
    expected = reference.item_fingerprint()
    reference.close()

    store = Store(tmp_path / "s.db")
    import_dump(store, first)
    before = {r["id"]: r["record_hash"] for r in store.db["items"].rows}
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 200}")
    with pytest.raises(sqlite3.OperationalError, match="full") as failure:
        import_dump(store, second, batch_size=100)
    message = explain_sqlite_error(failure.value, store.path)
    assert "is full" in message and "rolled back" in message and "free space" in message
    after = {r["id"]: r["record_hash"] for r in store.db["items"].rows}
    assert before.items() <= after.items()  # nothing stored before was lost or changed
    done = store.db.execute("SELECT rows_done FROM imports WHERE path = ?",
                            [str(second)]).fetchone()[0]
    assert done % 100 == 0 and 0 < done < 1500  # checkpoint: whole batches of b only
    partial = Store(tmp_path / "partial.db")  # what those whole batches alone give
    import_dump(partial, first)
    import_dump(partial, _news_dump(tmp_path, "b-done.parquet", 200, done))
    assert partial.item_fingerprint() == store.item_fingerprint() != expected
    partial.close()
    store.db.execute("PRAGMA max_page_count = 1073741823")  # room again
    import_dump(store, second, batch_size=100)
    assert store.item_fingerprint() == expected
    assert store.check()["integrity"] == ["ok"]
    store.close()


def test_a_read_only_store_is_explained_and_nothing_is_written(tmp_path: Path) -> None:
    import sqlite3

    from scanner.store import explain_sqlite_error

    db = tmp_path / "s.db"
    store = Store(db)
    store.db.execute("PRAGMA query_only = 1")  # what a read-only file or mount gives
    with pytest.raises(sqlite3.OperationalError, match="readonly") as failure:
        store.start_run("nightly", "2026-01-01", {})
    assert "is read-only" in explain_sqlite_error(failure.value, db)
    store.db.execute("PRAGMA query_only = 0")
    assert store.recent_runs() == []
    store.close()
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions: the command-line half needs a normal user "
                    "(bench/reliability.py makes a read-only mount instead)")
    dump = _news_dump(tmp_path, "a.parquet", 0, 50)
    db.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        result = CliRunner().invoke(cli, ["--db", str(db), "import", str(dump)])
    finally:
        tmp_path.chmod(0o755)
        db.chmod(0o644)
    assert result.exit_code == 1 and "read-only" in result.output, result.output
    assert Store(db).item_fingerprint()[0] == 0


def test_a_stage_failing_on_a_full_disk_marks_the_run_failed_with_the_way_out(
        tmp_path: Path) -> None:
    import sqlite3


    config = load_config(None, {"db_path": str(tmp_path / "s.db")}, environ={})

    def full(ctx: RunContext) -> dict:
        raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(sqlite3.OperationalError):
        run_steps(RunContext(config, "2026-01-01"), "nightly", {}, [
            lambda ctx: {"stage": "pull", "status": "ok"}, full])
    store = Store(config.db_path)
    run = store.recent_runs(1)[0]
    assert run["status"] == "failed" and "free space" in run["error"]
    assert run["summary"]["stages"] == [{"stage": "pull", "status": "ok"}]
    assert store.acquire_lock(RUN_LOCK, "next") is None  # the lock was given back
    store.close()


def test_readers_are_not_blocked_by_a_writer_holding_its_transaction(tmp_path: Path) -> None:
    """WAL: while a run holds an open write transaction, the CLI's readers see the last
    committed state at once (they would wait up to 30 s and fail on a rollback journal)."""
    db = tmp_path / "s.db"
    writer = Store(db)
    run_id = writer.start_run("nightly", "2026-01-01", {})
    writer.db.execute("BEGIN IMMEDIATE")
    writer.db.execute("UPDATE runs SET status = 'writing' WHERE id = ?", [run_id])
    try:
        reader = Store(db)
        reader.db.conn.execute("PRAGMA busy_timeout = 0")  # fail at once if it had to wait
        assert [r["status"] for r in reader.recent_runs()] == ["running"]
        assert reader.stats()["items"] == 0
        reader.close()
        listed = CliRunner().invoke(cli, ["--db", str(db), "runs", "list"])
        assert listed.exit_code == 0 and "1 runs" in listed.output
    finally:
        writer.db.execute("ROLLBACK")
        writer.close()
