"""The Store: one SQLite file, opened in WAL mode with its schema migrated.

Core tables (sources, runs, fetches, items, embeddings, assignments, imports) are here;
topic and signal tables are in scanner.store.topics and scanner.store.signals, mixed
into the same Store class.

WAL mode, `synchronous=NORMAL`, and a schema built and upgraded by numbered
migrations. Every write that belongs together happens in one transaction, so an
interrupted run loses nothing that was committed before it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from scanner.errors import StoreError
from scanner.store.admin import AdminTables
from scanner.store.base import explain_sqlite_error, utcnow
from scanner.store.items import ItemTables
from scanner.store.migrations import MIGRATIONS
from scanner.store.players import PlayerTables
from scanner.store.runs import RunTables
from scanner.store.signals import SignalTables
from scanner.store.terms import TermTables
from scanner.store.topics import TopicTables

#: The schema version the code expects (the last migration's number).
LATEST_VERSION = MIGRATIONS[-1][0]

#: Files this process has migrated: (path, device, inode).
_MIGRATED: set[tuple[str, int, int]] = set()


class Store(RunTables, ItemTables, TopicTables, SignalTables, TermTables, PlayerTables,
            AdminTables):
    """The project's SQLite database.

    Args:
        path: the database file; its folder is created when missing.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # one handle serves a run whose stages Prefect may call from another thread;
            # the stages use it one at a time
            conn = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA schema_version").fetchone()
            self._refuse_foreign_database()
            self.db.enable_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate_once()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open: {explain_sqlite_error(exc, self.path)}") from exc
        except OSError as exc:
            raise StoreError(f"database {self.path} cannot be opened: {exc}") from exc

    # -- schema -----------------------------------------------------------------

    def schema_version(self) -> int:
        """The highest migration applied (0 for an empty file)."""
        if not self.db["migrations"].exists():
            return 0
        row = self.db.execute("SELECT max(version) FROM migrations").fetchone()
        return int(row[0] or 0)

    def _refuse_foreign_database(self) -> None:
        """Stop before touching an SQLite file that another program made (tables, but no
        migrations table whose first migration is ours): a mistyped --db migrated such a
        file in place, switched it to WAL and added the store's tables, even for
        `db stats`."""
        tables = [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        if not tables:
            return  # a new store
        if tables == ["migrations"] and not self.db.execute(
                "SELECT count(*) FROM migrations").fetchone()[0]:
            return  # ours, its first migration interrupted (or another process creating it)
        first = None
        if "migrations" in tables:
            row = self.db.execute("SELECT name FROM migrations WHERE version = 1").fetchone()
            first = row[0] if row else None
        if first != MIGRATIONS[0][1]:
            shown = ", ".join(sorted(tables)[:8]) + (" ..." if len(tables) > 8 else "")
            raise StoreError(f"{self.path} is an SQLite database but not a horizon-scanner "
                             f"store (its tables: {shown}); refused, the file is unchanged. "
                             "Check --db or db_path")

    def _migrate_once(self) -> None:
        """Migrate a file the first time this process opens it; later opens of the same
        file (same device and inode) only confirm its version is current."""
        stat = self.path.stat()
        key = (str(self.path.resolve()), stat.st_dev, stat.st_ino)
        if key in _MIGRATED and self.schema_version() == LATEST_VERSION:
            return
        self.migrate()
        _MIGRATED.add(key)

    def migrate(self) -> list[int]:
        """Apply every migration not yet applied, each in its own transaction."""
        if not self.db["migrations"].exists():
            self.db["migrations"].create(
                {"version": int, "name": str, "applied_at": str}, pk="version"
            )
        current = self.schema_version()
        applied = []
        for version, name, step in MIGRATIONS:
            if version <= current:
                continue
            with self.db.atomic():
                step(self.db)
                self.db["migrations"].insert(
                    {"version": version, "name": name, "applied_at": utcnow()}
                )
            applied.append(version)
        return applied

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One transaction around several writes (nested ones become savepoints): all of
        them are stored, or none (a killed `review import` left half a sheet)."""
        with self.db.atomic():
            yield self

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
