"""The SQLite store: migrations, WAL, idempotent upserts, clear errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.errors import StoreError
from scanner.ingest.normalize import make_item
from scanner.store import MIGRATIONS, Store

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def _item(n: int, summary: str = "text") -> dict:
    return make_item(source_id="s", kind="news", title=f"Title {n}", summary=summary,
                     fetched_at=NOW, url=f"https://example.org/{n}", published=NOW)


def test_schema_is_migrated_once_and_in_wal(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    store = Store(path)
    assert store.schema_version() == MIGRATIONS[-1][0]
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    again = Store(path)
    assert again.migrate() == []  # nothing left to apply
    assert {"sources", "fetches", "items", "runs", "imports"} <= set(again.db.table_names())


def test_reingesting_changes_nothing(store: Store) -> None:
    items = [_item(n) for n in range(50)]
    first = store.upsert_items(items)
    stamp = store.item(items[0]["id"])["updated_at"]
    second = store.upsert_items(items)
    assert (first.new, second.new, second.changed, second.unchanged) == (50, 0, 0, 50)
    assert store.db["items"].count == 50
    assert store.item(items[0]["id"])["updated_at"] == stamp


def test_changed_text_is_detected_and_updated(store: Store) -> None:
    store.upsert_items([_item(1, "old text")])
    counts = store.upsert_items([_item(1, "new text")])
    assert counts.changed == 1
    row = store.item(_item(1)["id"])
    assert row["summary"] == "new text"
    assert row["content_hash"] == _item(1, "new text")["content_hash"]


def test_duplicates_in_one_batch_keep_the_first(store: Store) -> None:
    counts = store.upsert_items([_item(1, "first"), _item(1, "second")])
    assert counts.new == 1 and counts.duplicates == 1
    assert store.item(_item(1)["id"])["summary"] == "first"


def test_missing_date_stand_in_is_stable_across_fetches(store: Store) -> None:
    def undated(fetched: datetime) -> dict:
        return make_item(source_id="s", kind="news", title="t", summary="s", fetched_at=fetched,
                         url="https://example.org/undated")

    store.upsert_items([undated(NOW)])
    counts = store.upsert_items([undated(datetime(2026, 11, 24, tzinfo=UTC))])
    assert counts.unchanged == 1
    assert store.item(undated(NOW)["id"])["published"].startswith("2026-11-23")


def test_failed_transaction_keeps_earlier_rows(store: Store) -> None:
    store.upsert_items([_item(1)])
    broken = _item(2)
    broken["id"] = None  # NOT NULL primary key: the insert fails
    with pytest.raises(Exception):  # noqa: B017 - whatever sqlite raises, nothing is lost
        store.upsert_items([_item(3), broken])
    assert [r["id"] for r in store.db["items"].rows] == [_item(1)["id"]]


def test_corrupted_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"damaged .*restore the newest backup"):
        Store(path)


def test_another_programs_sqlite_file_is_refused_unchanged(tmp_path: Path) -> None:
    """A mistyped --db pointing at another program's database was migrated in place (WAL
    on, the store's tables added), even by `db stats`."""
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x)")
        conn.execute("CREATE TABLE migrations (version, name)")  # a common table name
        conn.execute("INSERT INTO migrations VALUES (1, 'create notes')")
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"not a horizon-scanner store \(its tables: "
                                         r"migrations, notes\); refused, the file is unchanged"):
        Store(path)
    assert path.read_bytes() == before
    assert not (tmp_path / "other.db-wal").exists()
    Store(tmp_path / "new.db").close()  # an empty file is a new store
    Store(tmp_path / "new.db").close()  # and, migrated, is ours on the next open
    half = tmp_path / "half.db"  # migration 1 interrupted: an empty migrations table
    with sqlite3.connect(half) as conn:
        conn.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT, "
                     "applied_at TEXT)")
    with Store(half) as store:
        assert store.schema_version() == store.check()["schema_expected"]


def test_runs_are_recorded(store: Store) -> None:
    run_id = store.start_run("nightly", "2026-11-23", {"fetch": True})
    store.finish_run(run_id, "ok", {"stages": []})
    run = store.get_run(run_id)
    assert run["status"] == "ok" and run["params"] == {"fetch": True} and run["finished_at"]
