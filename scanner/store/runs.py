"""Sources, runs, fetches and the store's counts (mixed into Store)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from scanner.store.base import (
    UpsertCounts,
    new_run_id,
    utcnow,
)


class RunTables:
    """Sources, runs and fetches."""

    db: sqlite_utils.Database
    path: Path

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

    def latest_run_for(self, run_date: str, stage: str | None = None
                       ) -> dict[str, Any] | None:
        """The newest run of a date (with `stage`, the newest whose summary holds that
        stage: an ad-hoc `terms update` after the night has no signals stage), with
        sources ok/failed from its pull stage."""
        run = None
        for row in self.db["runs"].rows_where("run_date = ?", [run_date],
                                              order_by="started_at DESC, rowid DESC"):
            candidate = self.get_run(row["id"])
            stages = candidate["summary"].get("stages", [])
            if stage is None or any(s.get("stage") == stage for s in stages):
                run = candidate
                break
        if run is None:
            return None
        pull = next((s for s in run["summary"].get("stages", []) if s.get("stage") == "pull"),
                    {})
        run["sources_ok"], run["sources_failed"] = pull.get("sources_ok"), \
            pull.get("sources_failed")
        return run

    def items_stored_by_failed_runs_before(self, run: dict[str, Any]) -> int:
        """Items first stored while the failed runs of the same kind and date that came
        just before this run were running (a killed night's pull stored them; its rerun
        then finds nothing new)."""
        failed = []
        for row in self.db["runs"].rows_where(
                "kind = ? AND run_date = ? AND started_at <= ? AND id != ?",
                [run["kind"], run["run_date"], run["started_at"], run["id"]],
                order_by="started_at DESC, rowid DESC"):
            if row["status"] != "failed":
                break
            failed.append(row)
        if not failed:
            return 0
        return int(self.db.execute(
            "SELECT count(*) FROM items WHERE first_seen_at >= ? AND first_seen_at < ?",
            [failed[-1]["started_at"], run["started_at"]]).fetchone()[0])

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
                items_unchanged=counts.unchanged, items_duplicate=counts.duplicates,
                items_elsewhere=counts.elsewhere,
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

    def recent_fetches(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Fetch rows of one run (or all), oldest first."""
        if run_id:
            return list(self.db["fetches"].rows_where("run_id = ?", [run_id], order_by="id"))
        return list(self.db["fetches"].rows_where(order_by="id"))

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

    def previous_topic_items(self, run_date: str) -> int | None:
        """Items the newest finished topics stage of an earlier date worked on."""
        for row in self.db.execute(
                "SELECT summary FROM runs WHERE run_date < ? AND status = 'ok' "
                "ORDER BY run_date DESC, started_at DESC LIMIT 20", [run_date]):
            for stage in json.loads(row[0] or "{}").get("stages", []):
                if stage.get("stage") == "topics" and stage.get("status") == "ok":
                    return int(stage.get("items") or 0)
        return None

