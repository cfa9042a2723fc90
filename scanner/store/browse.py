"""The store served read-only through Datasette (the optional `browse` extra).

The file is opened `mode=ro` with `PRAGMA query_only` on every connection Datasette
makes, the write connection included, so no canned query, plugin or API can change it.
Datasette's own immutable mode (`-i`) is not used: it ignores the -wal file, where the
store's newest commits live in WAL mode, and it may return wrong rows while a nightly
run writes the file; a read-only open sees every commit and tolerates the writer.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from scanner.errors import ScannerError, StoreError
from scanner.store.browse_metadata import store_metadata

#: Datasette settings of the browser: longer queries than its 1 s default (a year of
#: items per field), no download of the whole file.
SETTINGS = {"sql_time_limit_ms": 5000, "allow_download": False, "default_page_size": 50}

#: What to install when Datasette is missing.
INSTALL_HINT = ("scanner browse needs Datasette, an optional extra: "
                "pip install 'horizon-scanner[browse]' (or pip install 'datasette==0.65.5')")


class BrowseUnavailable(ScannerError):
    """Datasette (the `browse` extra) is not installed."""


def _datasette() -> Any:
    try:
        import datasette.app
        import datasette.database
    except ImportError as exc:
        raise BrowseUnavailable(INSTALL_HINT) from exc
    return datasette


def store_tables(path: Path) -> set[str]:
    """The tables of a store file, read without writing (no migration)."""
    if not path.is_file():
        raise StoreError(f"no store at {path}: run `scanner fetch` or `scanner import` "
                         "first, or point --db at the store")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        from scanner.store.base import explain_sqlite_error

        raise StoreError(f"cannot browse: {explain_sqlite_error(exc, path)}") from exc


def browse_app(path: Path | str, metadata: dict[str, Any] | None = None) -> Any:
    """A Datasette instance serving the store at `path` read-only as database "store".

    Args:
        path: the store file (it is not migrated: queries on tables it lacks are left out).
        metadata: Datasette metadata (default: `store_metadata` for the file's tables).
    """
    path = Path(path)
    tables = store_tables(path)
    ds_module = _datasette()

    class ReadOnlyDatabase(ds_module.database.Database):  # type: ignore[misc, name-defined]
        """A file database whose every connection, reads and writes, is read-only."""

        def connect(self, write: bool = False) -> sqlite3.Connection:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                   check_same_thread=False)
            conn.execute("PRAGMA query_only = 1")
            self._all_file_connections.append(conn)
            return conn

    ds = ds_module.app.Datasette(metadata=metadata or store_metadata(tables),
                                 settings=SETTINGS)
    ds.remove_database("_memory")  # only the store: no scratch database to write in
    ds.add_database(ReadOnlyDatabase(ds, path=str(path.resolve()), is_mutable=True),
                    name="store")
    return ds


def serve(ds: Any, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve a `browse_app` at http://host:port/ until interrupted."""
    import asyncio

    import uvicorn

    asyncio.run(ds.invoke_startup())
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
