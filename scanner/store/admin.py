"""Run lock, integrity check and backup of the store."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils


class AdminTables:
    """Store methods for the run lock, checks and backups; mixed into Store."""

    db: sqlite_utils.Database
    path: Path

    # -- the run lock ----------------------------------------------------------------

    def acquire_lock(self, name: str, owner: str, stale_after_s: float = 6 * 3600) -> str | None:
        """Take the named lock for `owner`; None, or a note when a stale lock was taken over.

        A lock is stale when its process is gone (same host) or it has not been renewed
        for `stale_after_s`. Raises RunLockError naming the holder otherwise.
        """
        import os
        import socket

        from scanner.errors import RunLockError

        host, pid, now = socket.gethostname(), os.getpid(), datetime.now(UTC)
        note = None
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute("SELECT owner, pid, host, acquired_at, heartbeat_at FROM "
                                  "locks WHERE name = ?", [name]).fetchone()
            if row:
                holder, holder_pid, holder_host, since, beat = row
                age = (now - datetime.fromisoformat(beat)).total_seconds()
                gone = holder_host == host and not _process_alive(int(holder_pid))
                if not gone and age < stale_after_s:
                    raise RunLockError(
                        f"the store {self.path} is in use by run {holder} (pid {holder_pid} on "
                        f"{holder_host}, since {since}); wait for it to finish, or if that "
                        f"process is gone for good run `scanner db unlock`")
                note = (f"took over a stale lock of run {holder} (pid {holder_pid} on "
                        f"{holder_host}, last seen {beat}: "
                        f"{'process gone' if gone else 'not renewed'})")
            stamp = now.replace(microsecond=0).isoformat()
            if row:  # the run that held it never closed its row: it ended here, failed
                self.db.execute(
                    "UPDATE runs SET status = 'failed', finished_at = ?, error = ? "
                    "WHERE id = ? AND status = 'running'",
                    [stamp, f"interrupted: its process ended without closing the run "
                            f"({'process gone' if gone else 'lock not renewed'}; found when "
                            f"run {owner} took over the lock)", holder])
            self.db.execute("INSERT OR REPLACE INTO locks (name, owner, pid, host, acquired_at, "
                            "heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)",
                            [name, owner, pid, host, stamp, stamp])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return note

    def release_lock(self, name: str, owner: str) -> None:
        """Give the lock back (only its owner can)."""
        with self.db.atomic():
            self.db.execute("DELETE FROM locks WHERE name = ? AND owner = ?", [name, owner])

    def force_unlock(self, name: str) -> dict[str, Any] | None:
        """Remove a lock whoever holds it; returns what was removed."""
        row = self.db.execute("SELECT owner, pid, host, acquired_at FROM locks WHERE name = ?",
                              [name]).fetchone()
        with self.db.atomic():
            self.db.execute("DELETE FROM locks WHERE name = ?", [name])
        return dict(zip(("owner", "pid", "host", "acquired_at"), row, strict=True)) if row \
            else None

    # -- integrity and backup ------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """Integrity check, schema version and table counts for `scanner db check`."""
        integrity = [r[0] for r in self.db.execute("PRAGMA integrity_check")]
        foreign = list(self.db.execute("PRAGMA foreign_key_check"))
        from scanner.store.migrations import MIGRATIONS

        return {"path": str(self.path), "integrity": integrity,
                "foreign_key_problems": len(foreign),
                "schema_version": self.schema_version(),  # type: ignore[attr-defined]
                "schema_expected": MIGRATIONS[-1][0],
                "tables": {t: self.db[t].count for t in sorted(self.db.table_names())}}

    def backup(self, target: Path | str) -> Path:
        """A consistent copy of the live database (SQLite's online backup), written to a
        temporary name first so a failed backup never leaves a half file."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        destination = sqlite3.connect(str(partial))
        try:
            self.db.conn.backup(destination)
        finally:
            destination.close()
        partial.replace(target)
        return target


def _process_alive(pid: int) -> bool:
    """Whether a lock holder's process still runs: a zombie (killed, not yet reaped by
    its parent, as right after `timeout -s KILL`) holds nothing and is not alive."""
    import os
    from pathlib import Path

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: the state follows the parenthesised command name in /proc/PID/stat
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


