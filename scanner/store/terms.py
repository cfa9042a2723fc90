"""Term tables: document frequencies per (term, month, stream, venue), ranked terms per run.

`term_counts` holds every counted item's candidate terms (scanner.terms.extract); `term_items`
says which items are counted, so a night adds only its new items; a rebuild clears both.
`term_rankings` keeps each run's ranked emerging terms with their figures, evidence and
fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlite_utils


class TermTables:
    """Store methods for emerging terms; mixed into scanner.store.Store."""

    db: sqlite_utils.Database

    def items_to_count(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Items whose terms are not counted yet, oldest first."""
        sql = ("SELECT i.id, i.kind, i.published, i.title, i.summary, i.primary_category, "
               "i.source_id FROM items i LEFT JOIN term_items t ON t.item_id = i.id "
               "WHERE t.item_id IS NULL ORDER BY i.published, i.id")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [dict(r) for r in self.db.query(sql)]

    def add_term_counts(self, counts: Mapping[tuple[str, str, str, str], int],
                        counted: Sequence[tuple[str, str, str, str]]) -> None:
        """Add counts and mark the (item id, month, stream, venue) rows counted,
        atomically."""
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO term_counts (term, month, stream, venue, df) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (term, month, stream, venue) DO UPDATE SET df = df + excluded.df",
                ((t, m, s, v, n) for (t, m, s, v), n in counts.items()))
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO term_items (item_id, month, stream, venue) "
                "VALUES (?, ?, ?, ?)", counted)

    def clear_term_counts(self) -> None:
        """Forget every count (a rescore rebuilds them)."""
        with self.db.atomic():
            self.db.execute("DELETE FROM term_counts")
            self.db.execute("DELETE FROM term_items")

    def term_count_rows(self, stream: str, since: str | None = None,
                        active_since: str | None = None, min_active_df: int = 0
                        ) -> list[tuple[str, str, str, int]]:
        """(term, month, venue, df) of one stream: from month `since` (YYYY-MM) on when
        given, and only the terms with `min_active_df` items from `active_since` on
        (the candidates a ranking can keep), so a night reads a bounded slice."""
        sql = "SELECT term, month, venue, df FROM term_counts WHERE stream = ?"
        args: list[Any] = [stream]
        if since:
            sql += " AND month >= ?"
            args.append(since)
        if active_since and min_active_df > 1:
            sql += (" AND term IN (SELECT term FROM term_counts WHERE stream = ? AND "
                    "month >= ? GROUP BY term HAVING sum(df) >= ?)")
            args += [stream, active_since, int(min_active_df)]
        return [(t, m, v, int(n)) for t, m, v, n in self.db.execute(sql, args)]

    def term_item_totals(self) -> list[tuple[str, str, int]]:
        """(month, stream, counted items)."""
        return [(m, s, int(n)) for m, s, n in self.db.execute(
            "SELECT month, stream, count(*) FROM term_items GROUP BY 1, 2")]

    def term_venue_totals(self, stream: str) -> list[tuple[str, str, int]]:
        """(month, venue, counted items) of one stream."""
        return [(m, v, int(n)) for m, v, n in self.db.execute(
            "SELECT month, coalesce(venue, '?'), count(*) FROM term_items WHERE stream = ? "
            "GROUP BY 1, 2",
            [stream])]

    def term_streams(self) -> list[str]:
        """Streams with counted items."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT stream FROM term_items")]

    def term_candidate_items(self, term: str, since: str, until: str, stream: str,
                             limit: int = 2000) -> list[dict[str, Any]]:
        """Items of the stream published in [since, until) whose text contains the term
        (case-blind substring: the caller checks the item's terms)."""
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql = ("SELECT i.id, i.title, i.summary, i.url, i.published, i.source_id FROM items i "
               "JOIN term_items t ON t.item_id = i.id WHERE t.stream = ? AND i.published >= ? "
               "AND i.published < ? AND (i.title LIKE ? ESCAPE '\\' OR i.summary LIKE ? "
               "ESCAPE '\\') ORDER BY i.published DESC LIMIT ?")
        return [dict(r) for r in self.db.query(sql, [stream, since, until, like, like,
                                                      int(limit)])]

    def fields_of_items(self, item_ids: Iterable[str], taxonomy: str, model: str
                        ) -> dict[str, list[str]]:
        """Assigned field ids per item (items without fields are absent)."""
        ids = list(item_ids)
        out: dict[str, list[str]] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            for item_id, field_id in self.db.execute(
                    f"SELECT item_id, field_id FROM item_fields WHERE taxonomy = ? AND "
                    f"model = ? AND item_id IN ({marks})", [taxonomy, model, *part]):
                out.setdefault(item_id, []).append(field_id)
        return out

    def topics_of_items(self, item_ids: Iterable[str], model: str) -> dict[str, str]:
        """The current topic of each item that has one."""
        ids = list(item_ids)
        out: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            for item_id, topic_id in self.db.execute(
                    f"SELECT item_id, topic_id FROM topic_members WHERE model = ? AND "
                    f"topic_id IS NOT NULL AND item_id IN ({marks})", [model, *part]):
                out[item_id] = topic_id
        return out

    def save_term_ranking(self, run_date: str, stream: str, rows: Sequence[dict[str, Any]]
                          ) -> None:
        """Replace the run date's ranked terms of a stream."""
        with self.db.atomic():
            self.db.execute("DELETE FROM term_rankings WHERE run_date = ? AND stream = ?",
                            [run_date, stream])
            self.db["term_rankings"].insert_all(
                ({"run_date": run_date, "stream": stream, "rank": rank, "term": r["term"],
                  "score": r["score"], "outside_taxonomy": int(bool(r.get("outside_taxonomy"))),
                  "best_field": r.get("best_field"), "details": json.dumps(r, ensure_ascii=False)}
                 for rank, r in enumerate(rows, 1)), pk=("run_date", "stream", "term"))

    def term_ranking(self, run_date: str | None = None, stream: str | None = None
                     ) -> list[dict[str, Any]]:
        """Ranked terms of a run date (default: the newest), every stream unless named."""
        if run_date is None:
            row = self.db.execute("SELECT max(run_date) FROM term_rankings").fetchone()
            run_date = row[0] if row else None
            if run_date is None:
                return []
        sql = "SELECT * FROM term_rankings WHERE run_date = ?"
        args: list[Any] = [run_date]
        if stream:
            sql += " AND stream = ?"
            args.append(stream)
        rows = []
        for r in self.db.query(sql + " ORDER BY stream, rank", args):
            details = json.loads(r["details"])
            rows.append({**details, "run_date": r["run_date"], "stream": r["stream"],
                         "rank": r["rank"]})
        return rows
