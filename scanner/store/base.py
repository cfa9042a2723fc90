"""What every part of the store shares: item columns, run ids, timestamps, the
meaning of a SQLite error, and upsert counts."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Item columns written by normalizers and importers; JSON-encoded where lists.
ITEM_FIELDS: tuple[str, ...] = (
    "id", "source_id", "kind", "url", "title", "summary", "published", "published_flag",
    "published_raw", "authors", "categories", "language", "content_hash", "record_hash",
    "primary_category", "version", "doi", "origin", "entry_key",
)


def new_run_id(kind: str, run_date: str) -> str:
    """A fresh run id: kind, date and a random suffix."""
    return f"{kind}-{run_date}-{uuid.uuid4().hex[:8]}"


def utcnow() -> str:
    """The current time as an ISO 8601 UTC string with seconds."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def explain_sqlite_error(exc: BaseException, path: Path | str) -> str:
    """What a SQLite error means for the store at `path`, and the way out."""
    text = str(exc)
    if "disk is full" in text or "disk I/O error" in text:
        return (f"the disk holding the store {path} is full or failing ({text}): the step "
                "that failed wrote nothing (its transaction was rolled back) and what was "
                "stored before is intact; free space or move db_path, then rerun")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return (f"the store {path} is read-only ({text}): SQLite must write the file and "
                f"its -wal and -shm files beside it; check the permissions of the file and "
                "its folder, or the mount, or point db_path at a writable copy "
                "(`scanner db backup`); nothing was written")
    if "locked" in text:
        return (f"the store {path} stayed locked by another writer for 30 s ({text}); "
                "rerun when it is done (`scanner runs list` shows what is running)")
    if "malformed" in text or "not a database" in text:
        return (f"the store {path} is damaged ({text}): `scanner db check` tells what is "
                "wrong; restore the newest backup (README, Storage) or move the file away "
                "to start an empty store")
    return f"the store {path} failed: {text}"


@dataclass
class UpsertCounts:
    """What an upsert of items did; every item given is in exactly one count."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    duplicates: int = 0  # the same entry twice in one batch: the first occurrence kept
    elsewhere: int = 0  # the same text already stored under this URL by another source

    def add(self, other: UpsertCounts) -> None:
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates
        self.elsewhere += other.elsewhere



def _item_row(item: dict[str, Any]) -> dict[str, Any]:
    row = {key: item.get(key) for key in ITEM_FIELDS}
    for key in ("authors", "categories"):
        value = row.get(key)
        if not isinstance(value, str):
            row[key] = json.dumps(list(value or []), ensure_ascii=False)
    return row


def check_unopenable(path: Path | str) -> list[str]:
    """What SQLite's integrity check says of a store that cannot be opened, read-only and
    without migrating (`scanner db check` on a damaged file, which the store refuses);
    the error itself when not even that opens."""
    import sqlite3

    target = Path(path).resolve()
    if not target.is_file():
        return [f"no file at {target}"]
    try:
        conn = sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)
        try:
            return [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            return [f"{exc} (the file's header is not SQLite's: nothing in it can be read)"]
        return [str(exc)]

