"""The one SQLite store. Only this package knows tables, columns and the database path.

`Store` (database.py) mixes in one module per table family: runs.py (sources, runs,
fetches), items.py (items, embeddings, assignments, verdicts, imports), topics.py,
signals.py and admin.py (locks, backup, integrity). Schema changes are numbered,
append-only migrations (migrations.py). WAL mode, `synchronous=NORMAL`; every write
that belongs together happens in one transaction, so an interrupted run loses nothing
that was committed before it. browse.py serves the file read-only through Datasette
(the optional `browse` extra), described by browse_metadata.py.
"""

from scanner.store.base import (
    ITEM_FIELDS,
    UpsertCounts,
    check_unopenable,
    explain_sqlite_error,
    new_run_id,
    utcnow,
)
from scanner.store.database import Store
from scanner.store.migrations import MIGRATIONS

__all__ = ["ITEM_FIELDS", "MIGRATIONS", "Store", "UpsertCounts", "check_unopenable",
           "explain_sqlite_error",
           "new_run_id", "utcnow"]
