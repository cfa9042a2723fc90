"""Signal tables and the per-period counts signals are computed from.

Counts are returned per month ('YYYY-MM') and source kind; scanner.signals folds months
into its configured period.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from scanner.store.base import utcnow

_MONTH = "substr(i.published, 1, 7)"


class SignalTables:
    """Store methods for signals; mixed into scanner.store.Store."""

    db: sqlite_utils.Database

    def month_totals(self) -> list[tuple[str, str, int]]:
        """(month, kind, items) over every stored item."""
        sql = f"SELECT {_MONTH}, i.kind, count(*) FROM items i GROUP BY 1, 2"
        return [(m, k, int(n)) for m, k, n in self.db.execute(sql)]

    #: An item-field pair the panel marked irrelevant (its newest verdict) leaves the
    #: field's counts and evidence.
    _NOT_REJECTED = ("NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.item_id = f.item_id AND "
                     "v.field_id = f.field_id AND v.verdict = 0 AND v.id = (SELECT max(w.id) "
                     "FROM verdicts w WHERE w.item_id = v.item_id AND w.field_id = v.field_id))")

    def field_month_counts(self, taxonomy: str, model: str) -> list[tuple[str, str, str, int]]:
        """(field id, month, kind, items assigned to the field)."""
        sql = (f"SELECT f.field_id, {_MONTH}, i.kind, count(*) FROM item_fields f "
               f"JOIN items i ON i.id = f.item_id WHERE f.taxonomy = ? AND f.model = ? "
               f"AND {self._NOT_REJECTED} GROUP BY 1, 2, 3")
        return [(f, m, k, int(n)) for f, m, k, n in self.db.execute(sql, [taxonomy, model])]

    def pathway_month_counts(self, taxonomy: str, model: str
                             ) -> list[tuple[str, str, str, str, int]]:
        """(field id, pathway id, month, kind, items whose best pathway it is)."""
        sql = (f"SELECT f.field_id, f.pathway_id, {_MONTH}, i.kind, count(*) FROM item_fields f "
               f"JOIN items i ON i.id = f.item_id WHERE f.taxonomy = ? AND f.model = ? "
               f"AND f.pathway_id IS NOT NULL AND {self._NOT_REJECTED} GROUP BY 1, 2, 3, 4")
        return [(f, p, m, k, int(n))
                for f, p, m, k, n in self.db.execute(sql, [taxonomy, model])]

    def field_evidence(self, taxonomy: str, model: str, since: str, until: str = "9999"
                       ) -> list[dict[str, Any]]:
        """Assigned items published in [since, until]: field, pathway and item facts."""
        sql = ("SELECT f.field_id, f.pathway_id, f.score, i.id, i.kind, i.source_id, i.authors, "
               "i.primary_category, i.title, substr(i.summary, 1, 600), i.published, i.url, "
               "i.language FROM item_fields f JOIN items i ON i.id = f.item_id "
               "WHERE f.taxonomy = ? AND f.model = ? AND substr(i.published, 1, 10) >= ? "
               f"AND substr(i.published, 1, 10) <= ? AND {self._NOT_REJECTED}")
        columns = ("field_id", "pathway_id", "score", "id", "kind", "source_id", "authors",
                   "primary_category", "title", "summary", "published", "url", "language")
        return [dict(zip(columns, row, strict=True))
                for row in self.db.execute(sql, [taxonomy, model, since, until])]

    def topic_evidence(self, model: str, since: str, until: str = "9999"
                       ) -> list[dict[str, Any]]:
        """Members of live topics published in [since, until], with item facts."""
        sql = ("SELECT m.topic_id, m.similarity, i.id, i.kind, i.source_id, i.authors, "
               "i.primary_category, i.title, substr(i.summary, 1, 600), i.published, i.url, "
               "i.language FROM topic_members m JOIN items i ON i.id = m.item_id "
               "JOIN topics t ON t.id = m.topic_id WHERE m.model = ? AND t.status = 'live' "
               "AND substr(i.published, 1, 10) >= ? AND substr(i.published, 1, 10) <= ?")
        columns = ("topic_id", "similarity", "id", "kind", "source_id", "authors",
                   "primary_category", "title", "summary", "published", "url", "language")
        return [dict(zip(columns, row, strict=True))
                for row in self.db.execute(sql, [model, since, until])]

    def all_topic_series(self, model: str) -> list[dict[str, Any]]:
        """Series rows of every live topic of a model."""
        sql = ("SELECT s.topic_id, s.period, s.kind, s.count, s.total FROM topic_series s "
               "JOIN topics t ON t.id = s.topic_id WHERE t.model = ? AND t.status = 'live'")
        columns = ("topic_id", "period", "kind", "count", "total")
        return [dict(zip(columns, row, strict=True)) for row in self.db.execute(sql, [model])]

    def save_signals(self, run_date: str, rows: Sequence[dict[str, Any]]) -> None:
        """Replace the ranked signals of one run date, atomically."""
        with self.db.atomic():
            self.db.execute("DELETE FROM signals WHERE run_date = ?", [run_date])
            self.db["signals"].insert_all(
                [{**r, "subscores": json.dumps(r["subscores"]),
                  "indicators": json.dumps(r["indicators"], ensure_ascii=False)} for r in rows],
                batch_size=500)

    def previous_ranks(self, run_date: str, list_name: str) -> dict[str, int]:
        """Ranks in the newest run before `run_date` for one list."""
        row = self.db.execute("SELECT max(run_date) FROM signals WHERE run_date < ? AND list = ?",
                              [run_date, list_name]).fetchone()
        if not row or not row[0]:
            return {}
        sql = "SELECT entity_id, rank FROM signals WHERE run_date = ? AND list = ?"
        return {e: int(r) for e, r in self.db.execute(sql, [row[0], list_name])}

    def signal_run_dates(self) -> list[str]:
        """Run dates with stored signals, newest first."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT run_date FROM signals ORDER BY run_date DESC")]

    def ranked(self, list_name: str, run_date: str | None = None, parent_id: str | None = None,
               entity_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """One run's ranked list (the newest run when no date), best first."""
        if run_date is None:
            dates = self.signal_run_dates()
            if not dates:
                return []
            run_date = dates[0]
        where, params = ["run_date = ?", "list = ?"], [run_date, list_name]
        if parent_id:
            where.append("parent_id = ?")
            params.append(parent_id)
        if entity_id:
            where.append("entity_id = ?")
            params.append(entity_id)
        rows = self.db["signals"].rows_where(" AND ".join(where), params, order_by="rank",
                                             limit=limit)
        out = []
        for row in rows:
            row = dict(row)
            row["subscores"] = json.loads(row["subscores"])
            row["indicators"] = json.loads(row["indicators"])
            out.append(row)
        return out

    # -- panel verdicts -------------------------------------------------------------------

    def add_panel_verdict(self, row: dict[str, Any]) -> int:
        """Append one verdict on a topic or field (never updates an earlier one)."""

        with self.db.atomic():
            return int(self.db["panel_verdicts"].insert(
                {**row, "created_at": row.get("created_at") or utcnow()}).last_pk)

    def newest_panel_verdict(self, kind: str, entity_id: str, reviewer: str
                             ) -> dict[str, Any] | None:
        """A reviewer's newest verdict on one entity (None before the first): one row
        read, where panel_verdicts() read them all for every row of a sheet."""
        rows = list(self.db["panel_verdicts"].rows_where(
            "kind = ? AND entity_id = ? AND reviewer = ?", [kind, entity_id, reviewer],
            order_by="id DESC", limit=1))
        return rows[0] if rows else None

    def panel_verdicts(self, kind: str | None = None, entity_id: str | None = None,
                       reviewer: str | None = None) -> list[dict[str, Any]]:
        """Panel verdicts, oldest first; optionally of one kind, entity and reviewer."""
        given = {"kind": kind, "entity_id": entity_id, "reviewer": reviewer}
        where = {column: value for column, value in given.items() if value is not None}
        return list(self.db["panel_verdicts"].rows_where(
            " AND ".join(f"{column} = ?" for column in where) or None, list(where.values()),
            order_by="id"))
