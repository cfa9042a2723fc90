"""The one SQLite store. Only this package knows tables, columns and the database path.

Core tables (sources, runs, fetches, items, embeddings, assignments, imports) are here;
topic and signal tables are in scanner.store.topics and scanner.store.signals, mixed
into the same Store class.

WAL mode, `synchronous=NORMAL`, and a schema built and upgraded by numbered
migrations. Every write that belongs together happens in one transaction, so an
interrupted run loses nothing that was committed before it.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from scanner.errors import StoreError
from scanner.migrations import MIGRATIONS
from scanner.store.admin import AdminTables
from scanner.store.signals import SignalTables
from scanner.store.terms import TermTables
from scanner.store.topics import TopicTables

#: Item columns written by normalizers and importers; JSON-encoded where lists.
ITEM_FIELDS: tuple[str, ...] = (
    "id", "source_id", "kind", "url", "title", "summary", "published", "published_flag",
    "published_raw", "authors", "categories", "language", "content_hash", "record_hash",
    "primary_category", "version", "doi", "origin",
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
    """What an upsert of items did."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    duplicates: int = 0

    def add(self, other: UpsertCounts) -> None:
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates


class Store(TopicTables, SignalTables, TermTables, AdminTables):
    """The project's SQLite database.

    Args:
        path: the database file; its folder is created when missing.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30.0)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA schema_version").fetchone()
            self.db.enable_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.migrate()
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

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- sources ----------------------------------------------------------------

    def sync_sources(self, sources: Iterable[dict[str, Any]]) -> None:
        """Write source definitions, keeping each source's fetch state."""
        with self.db.atomic():
            for source in sources:
                self.db["sources"].upsert(dict(source), pk="id", alter=True)

    def source_state(self, source_id: str) -> dict[str, Any]:
        """Conditional-GET validators and last outcome of one source."""
        try:
            row = self.db["sources"].get(source_id)
        except sqlite_utils.db.NotFoundError:
            return {}
        return {k: row.get(k) for k in ("etag", "last_modified", "last_status", "last_ok_at")}

    # -- runs -------------------------------------------------------------------

    def start_run(self, kind: str, run_date: str, params: dict[str, Any] | None = None,
                  run_id: str | None = None) -> str:
        """Create a run row in state 'running' and return its id."""
        run_id = run_id or new_run_id(kind, run_date)
        with self.db.atomic():
            self.db["runs"].insert(
                {
                    "id": run_id, "kind": kind, "run_date": run_date, "status": "running",
                    "started_at": utcnow(), "params": json.dumps(params or {}),
                }
            )
        return run_id

    def finish_run(
        self, run_id: str, status: str, summary: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Close a run with its final status, summary and error (if any)."""
        with self.db.atomic():
            self.db["runs"].update(
                run_id,
                {
                    "status": status, "finished_at": utcnow(),
                    "summary": json.dumps(summary or {}, ensure_ascii=False), "error": error,
                },
            )

    def latest_run_for(self, run_date: str) -> dict[str, Any] | None:
        """The newest run of a date, with sources ok/failed from its pull stage."""
        rows = list(self.db["runs"].rows_where("run_date = ?", [run_date],
                                               order_by="started_at DESC", limit=1))
        if not rows:
            return None
        run = self.get_run(rows[0]["id"])
        pull = next((s for s in run["summary"].get("stages", []) if s.get("stage") == "pull"),
                    {})
        run["sources_ok"], run["sources_failed"] = pull.get("sources_ok"), \
            pull.get("sources_failed")
        return run

    def recent_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest runs, JSON columns decoded."""
        rows = self.db["runs"].rows_where(order_by="started_at DESC", limit=limit)
        return [self.get_run(r["id"]) for r in rows]

    def get_run(self, run_id: str) -> dict[str, Any]:
        """One run row with its JSON columns decoded."""
        row = dict(self.db["runs"].get(run_id))
        row["params"] = json.loads(row["params"] or "{}")
        row["summary"] = json.loads(row["summary"] or "{}")
        return row

    # -- fetches and items ----------------------------------------------------------

    def record_fetch(
        self, fetch: dict[str, Any], items: Sequence[dict[str, Any]] = (),
        keep_validators: bool = False,
    ) -> tuple[int, UpsertCounts]:
        """Store one fetch attempt, the items it produced and the source's new state.

        All in one transaction: either the fetch row, its items and the source's
        validators are all written, or none are. `keep_validators`: a fetch of another
        URL of the source (a backfill page) leaves its ETag and Last-Modified alone.
        """
        with self.db.atomic():
            counts = self._upsert_items(items)
            row = dict(fetch)
            row.update(
                items_new=counts.new, items_changed=counts.changed,
                items_unchanged=counts.unchanged,
            )
            fetch_id = self.db["fetches"].insert(row).last_pk
            state: dict[str, Any] = {
                "last_status": row.get("status"), "last_fetched_at": row.get("started_at"),
            }
            if row.get("status") in ("ok", "not_modified"):
                state["last_ok_at"] = row.get("started_at")
            if row.get("status") == "ok" and not keep_validators:
                state["etag"] = row.get("etag")
                state["last_modified"] = row.get("last_modified")
            if self.db["sources"].count_where("id = ?", [row["source_id"]]):
                self.db["sources"].update(row["source_id"], state)
        return int(fetch_id), counts

    def upsert_items(self, items: Sequence[dict[str, Any]]) -> UpsertCounts:
        """Insert new items and update changed ones, in one transaction."""
        with self.db.atomic():
            return self._upsert_items(items)

    def _upsert_items(self, items: Sequence[dict[str, Any]]) -> UpsertCounts:
        counts = UpsertCounts()
        unique: dict[str, dict[str, Any]] = {}
        for item in items:
            if item["id"] in unique:
                counts.duplicates += 1  # the first occurrence in a batch wins
                continue
            unique[item["id"]] = item
        if not unique:
            return counts
        existing: dict[str, str] = {}
        ids = list(unique)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for item_id, record_hash in self.db.execute(
                f"SELECT id, record_hash FROM items WHERE id IN ({marks})", chunk
            ):
                existing[item_id] = record_hash
        now = utcnow()
        new_rows, changed_rows = [], []
        for item_id, item in unique.items():
            row = _item_row(item)
            if item_id not in existing:
                row["first_seen_at"] = row["updated_at"] = now
                new_rows.append(row)
            elif existing[item_id] != row["record_hash"]:
                row["updated_at"] = now
                changed_rows.append(row)
            else:
                counts.unchanged += 1
        if new_rows:
            self.db["items"].insert_all(new_rows, batch_size=1000)
        for row in changed_rows:
            if row["published_flag"] != "ok":
                # keep the stand-in date first stored rather than today's fetch time
                row.pop("published")
            self.db["items"].update(row["id"], row)
        counts.new += len(new_rows)
        counts.changed += len(changed_rows)
        return counts

    def item(self, item_id: str) -> dict[str, Any] | None:
        """One stored item with its list columns decoded, or None."""
        try:
            row = dict(self.db["items"].get(item_id))
        except sqlite_utils.db.NotFoundError:
            return None
        row["authors"] = json.loads(row["authors"] or "[]")
        row["categories"] = json.loads(row["categories"] or "[]")
        return row

    def item_fingerprint(self) -> tuple[int, str]:
        """(count, digest) over every item's id and record hash: equal stores, equal prints."""
        import hashlib

        digest = hashlib.sha256()
        count = 0
        for item_id, record_hash in self.db.execute(
            "SELECT id, record_hash FROM items ORDER BY id"
        ):
            digest.update(f"{item_id}\t{record_hash}\n".encode())
            count += 1
        return count, digest.hexdigest()

    # -- embeddings -------------------------------------------------------------------

    _MISSING = (
        "FROM items i LEFT JOIN embeddings e ON e.content_hash = i.content_hash "
        "AND e.model = ? WHERE e.content_hash IS NULL"
    )

    def count_missing_embeddings(self, model: str) -> int:
        """Distinct stored texts without a vector for `model`."""
        sql = f"SELECT count(DISTINCT i.content_hash) {self._MISSING}"
        return int(self.db.execute(sql, [model]).fetchone()[0])

    def missing_embeddings(self, model: str, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` distinct texts (content hash, kind, title, summary) to embed."""
        sql = (f"SELECT i.content_hash, min(i.kind), min(i.title), min(i.summary) "
               f"{self._MISSING} GROUP BY i.content_hash LIMIT ?")
        return [{"content_hash": h, "kind": k, "title": t, "summary": s}
                for h, k, t, s in self.db.execute(sql, [model, limit])]

    def save_embeddings(self, model: str, hashes: Sequence[str], vectors: Any) -> None:
        """Store float32 vectors for content hashes, in one transaction."""
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if matrix.shape[0] != len(hashes):
            raise StoreError(f"{len(hashes)} hashes but {matrix.shape[0]} vectors")
        now = utcnow()
        rows = [{"content_hash": h, "model": model, "dim": int(matrix.shape[1]),
                 "vector": matrix[i].tobytes(), "created_at": now}
                for i, h in enumerate(hashes)]
        with self.db.atomic():
            self.db["embeddings"].upsert_all(rows, pk=("content_hash", "model"),
                                              batch_size=500)

    def embeddings_for_hashes(self, model: str, hashes: Sequence[str]) -> dict[str, Any]:
        """{content hash: float32 vector} for the hashes that have one for `model`."""
        out: dict[str, Any] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            sql = (f"SELECT content_hash, vector FROM embeddings WHERE model = ? AND "
                   f"content_hash IN ({','.join('?' * len(chunk))})")
            for h, blob in self.db.execute(sql, [model, *chunk]):
                out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def count_embeddings(self, model: str) -> int:
        """Vectors stored for `model`."""
        return self.db["embeddings"].count_where("model = ?", [model])

    def item_embeddings(
        self, model: str, item_ids: Sequence[str] | None = None
    ) -> tuple[list[str], Any]:
        """(item ids, float32 matrix) for items that have a vector for `model`."""
        sql = ("SELECT i.id, e.vector, e.dim FROM items i JOIN embeddings e "
               "ON e.content_hash = i.content_hash AND e.model = ?")
        params: list[Any] = [model]
        rows: list[tuple[str, bytes, int]] = []
        if item_ids is None:
            rows = list(self.db.execute(sql + " ORDER BY i.id", params))
        else:
            for start in range(0, len(item_ids), 500):
                chunk = list(item_ids[start:start + 500])
                marks = ",".join("?" * len(chunk))
                rows.extend(self.db.execute(f"{sql} WHERE i.id IN ({marks})", params + chunk))
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
        return [r[0] for r in rows], matrix.reshape(len(rows), rows[0][2])

    # -- field assignment ----------------------------------------------------------------

    _UNASSIGNED = (  # embedded items with no assignment for (taxonomy, model), or a stale one
        "FROM items i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ? "
        "LEFT JOIN assignments a ON a.item_id = i.id AND a.taxonomy = ? AND a.model = ? "
        "WHERE a.item_id IS NULL OR a.content_hash != i.content_hash"
    )

    def items_needing_assignment(self, taxonomy: str, model: str, limit: int
                                 ) -> list[dict[str, Any]]:
        """Embedded items with no assignment for (taxonomy, model), or a stale one."""
        sql = (f"SELECT i.id, i.kind, i.title, i.summary, i.content_hash "
               f"{self._UNASSIGNED} LIMIT ?")
        columns = ("id", "kind", "title", "summary", "content_hash")
        return [dict(zip(columns, row, strict=True))
                for row in self.db.execute(sql, [model, taxonomy, model, limit])]

    def count_items_needing_assignment(self, taxonomy: str, model: str) -> int:
        """How many embedded items lack a current assignment."""
        sql = f"SELECT count(*) {self._UNASSIGNED}"
        return int(self.db.execute(sql, [model, taxonomy, model]).fetchone()[0])

    def save_assignments(self, rows: Sequence[dict[str, Any]]) -> None:
        """Replace the assignments of these items (and their assigned-field rows) atomically."""
        now = utcnow()
        with self.db.atomic():
            for row in rows:
                key = [row["item_id"], row["taxonomy"], row["model"]]
                self.db.execute("DELETE FROM item_fields WHERE item_id = ? AND taxonomy = ? "
                                "AND model = ?", key)
                self.db["assignments"].upsert(
                    {**row, "scores": json.dumps(row["scores"]),
                     "fields": json.dumps(row["fields"]),
                     "evidence": json.dumps(row["evidence"], ensure_ascii=False),
                     "pathways": json.dumps(row["pathways"]), "computed_at": now},
                    pk=("item_id", "taxonomy", "model"))
                field_rows = [
                    {"item_id": row["item_id"], "taxonomy": row["taxonomy"],
                     "model": row["model"], "field_id": fid, "score": row["scores"][fid],
                     "pathway_id": max(row["pathways"].get(fid, {"": 0}).items(),
                                       key=lambda kv: kv[1])[0] or None}
                    for fid in row["fields"]]
                if field_rows:
                    self.db["item_fields"].insert_all(field_rows)

    def assignment(self, item_id: str, taxonomy: str, model: str) -> dict[str, Any] | None:
        """One item's stored assignment with JSON decoded, or None."""
        try:
            row = dict(self.db["assignments"].get((item_id, taxonomy, model)))
        except sqlite_utils.db.NotFoundError:
            return None
        for key in ("scores", "fields", "evidence", "pathways"):
            row[key] = json.loads(row[key])
        return row

    def item_field_scores(self, item_ids: Sequence[str], taxonomy: str, model: str
                          ) -> dict[str, dict[str, Any]]:
        """{item id: {"scores": {field: p}, "fields": [...], "pathways": {...}}} where stored."""
        out: dict[str, dict[str, Any]] = {}
        sql = ("SELECT item_id, scores, fields, pathways FROM assignments WHERE taxonomy = ? "
               "AND model = ? AND item_id IN ({})")
        for start in range(0, len(item_ids), 500):
            chunk = list(item_ids[start:start + 500])
            for item_id, scores, fields, pathways in self.db.execute(
                    sql.format(",".join("?" * len(chunk))), [taxonomy, model, *chunk]):
                out[item_id] = {"scores": json.loads(scores), "fields": json.loads(fields),
                                "pathways": json.loads(pathways)}
        return out

    def field_counts(self, taxonomy: str, model: str) -> dict[str, int]:
        """Items assigned to each field."""
        sql = ("SELECT field_id, count(*) FROM item_fields WHERE taxonomy = ? AND model = ? "
               "GROUP BY field_id ORDER BY 2 DESC")
        return {f: int(n) for f, n in self.db.execute(sql, [taxonomy, model])}

    def add_verdict(self, item_id: str, field_id: str, relevant: bool, reviewer: str,
                    note: str = "") -> int:
        """Append an expert verdict; verdicts are never updated or deleted."""
        with self.db.atomic():
            return int(self.db["verdicts"].insert(
                {"item_id": item_id, "field_id": field_id, "verdict": int(relevant),
                 "reviewer": reviewer, "note": note, "created_at": utcnow()}).last_pk)

    def latest_verdicts(self) -> list[dict[str, Any]]:
        """The newest verdict per (item, field): what the panel currently says."""
        sql = ("SELECT item_id, field_id, verdict, reviewer, created_at FROM verdicts v "
               "WHERE id = (SELECT max(id) FROM verdicts w WHERE w.item_id = v.item_id "
               "AND w.field_id = v.field_id) ORDER BY id")
        columns = ("item_id", "field_id", "verdict", "reviewer", "created_at")
        return [dict(zip(columns, row, strict=True)) for row in self.db.execute(sql)]

    # -- imports --------------------------------------------------------------------

    def import_progress(self, key: str) -> dict[str, Any] | None:
        """The checkpoint of a bulk import, or None if it never started."""
        try:
            return dict(self.db["imports"].get(key))
        except sqlite_utils.db.NotFoundError:
            return None

    def import_batch(
        self, key: str, path: str, fmt: str, items: Sequence[dict[str, Any]],
        rows_done: int, rows_total: int | None, finished: bool = False,
    ) -> UpsertCounts:
        """Store one batch of an import and move its checkpoint, atomically."""
        with self.db.atomic():
            counts = self._upsert_items(items)
            previous = self.import_progress(key)
            self.db["imports"].upsert(
                {
                    "key": key, "path": path, "format": fmt, "rows_done": rows_done,
                    "rows_total": rows_total, "finished": int(finished),
                    "started_at": previous["started_at"] if previous else utcnow(),
                    "updated_at": utcnow(),
                },
                pk="key",
            )
        return counts

    # -- reporting ----------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts for `scanner db stats`."""
        def grouped(sql: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in self.db.execute(sql).fetchall()}

        return {
            "path": str(self.path),
            "schema_version": self.schema_version(),
            "items": self.db["items"].count,
            "items_by_kind": grouped("SELECT kind, count(*) FROM items GROUP BY kind"),
            "items_by_language": grouped(
                "SELECT language, count(*) FROM items GROUP BY language"
            ),
            "items_by_published_flag": grouped(
                "SELECT published_flag, count(*) FROM items GROUP BY published_flag"
            ),
            "sources": self.db["sources"].count,
            "embeddings_by_model": grouped(
                "SELECT model, count(*) FROM embeddings GROUP BY model"
            ),
            "fetches_by_status": grouped("SELECT status, count(*) FROM fetches GROUP BY status"),
            "runs_by_status": grouped("SELECT status, count(*) FROM runs GROUP BY status"),
            "imports": [dict(r) for r in self.db["imports"].rows],
        }

    def recent_fetches(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Fetch rows of one run (or all), oldest first."""
        if run_id:
            return list(self.db["fetches"].rows_where("run_id = ?", [run_id], order_by="id"))
        return list(self.db["fetches"].rows_where(order_by="id"))


def _item_row(item: dict[str, Any]) -> dict[str, Any]:
    row = {key: item.get(key) for key in ITEM_FIELDS}
    for key in ("authors", "categories"):
        value = row.get(key)
        if not isinstance(value, str):
            row[key] = json.dumps(list(value or []), ensure_ascii=False)
    return row
