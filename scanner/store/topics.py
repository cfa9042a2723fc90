"""Topic tables of the store: topics, current members, runs, lineage, snapshots, series.

A topic run writes everything it produced in one transaction, after deleting what an
earlier run of the same date, model and scope wrote: rerunning a night replaces that
night's results and duplicates nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlite_utils

_JSON_COLUMNS = ("keywords", "representatives", "affinity", "pathway_affinity")


def _decode_topic(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    for key in _JSON_COLUMNS:
        row[key] = json.loads(row[key]) if row.get(key) else {}
    blob = row.pop("centroid", None)
    row["centroid"] = np.frombuffer(blob, dtype=np.float32).copy() if blob else None
    return row


class TopicTables:
    """Store methods for topics; mixed into scanner.store.Store."""

    db: sqlite_utils.Database

    def window_items(self, since: str, until: str, kinds: Sequence[str]) -> list[dict[str, Any]]:
        """Items published in [since, until] (dates) of the given kinds, oldest first,
        each with its stored Chinese summary (`summary_zh`, None when it has none)."""
        marks = ",".join("?" * len(kinds))
        sql = (f"SELECT i.id, i.kind, i.language, i.published, i.title, i.summary, "
               f"s.summary FROM items i LEFT JOIN item_summaries s ON s.item_id = i.id "
               f"AND s.language = 'zh' "
               f"WHERE substr(i.published, 1, 10) BETWEEN ? AND ? AND i.kind IN ({marks}) "
               f"ORDER BY i.published, i.id")
        columns = ("id", "kind", "language", "published", "title", "summary", "summary_zh")
        return [dict(zip(columns, row, strict=True))
                for row in self.db.execute(sql, [since, until, *kinds])]

    def current_topics(self, model: str, scope: str,
                       statuses: Sequence[str] = ("live", "dormant")) -> list[dict[str, Any]]:
        """Topics of a model and scope in the given states, with centroids decoded."""
        marks = ",".join("?" * len(statuses))
        rows = self.db["topics"].rows_where(
            f"model = ? AND scope = ? AND status IN ({marks})", [model, scope, *statuses],
            order_by="id")
        return [_decode_topic(r) for r in rows]

    def all_live_topics(self, model: str) -> list[dict[str, Any]]:
        """Live topics of every scope of a model, with centroids decoded."""
        rows = self.db["topics"].rows_where("model = ? AND status = 'live'", [model],
                                            order_by="id")
        return [_decode_topic(r) for r in rows]

    def topic_memberships(self, model: str, scope: str) -> dict[str, tuple[str | None, float]]:
        """{item id: (topic id or None for held unassigned, similarity)}."""
        sql = ("SELECT item_id, topic_id, similarity FROM topic_members "
               "WHERE model = ? AND scope = ?")
        return {i: (t, s) for i, t, s in self.db.execute(sql, [model, scope])}

    def last_full_topic_run(self, model: str, scope: str, before: str) -> str | None:
        """Date of the newest full reclustering before `before` (exclusive), or None."""
        row = self.db.execute(
            "SELECT max(run_date) FROM topic_runs WHERE model = ? AND scope = ? "
            "AND mode = 'full' AND run_date < ?", [model, scope, before]).fetchone()
        return row[0] if row else None

    def next_topic_number(self) -> int:
        """One more than the highest numeric part of any topic id."""
        row = self.db.execute("SELECT max(CAST(substr(id, 2) AS INTEGER)) FROM topics"
                              ).fetchone()
        return int(row[0] or 0) + 1

    def save_topic_run(self, run: dict[str, Any], topics: Sequence[dict[str, Any]],
                       members: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]],
                       series: Sequence[dict[str, Any]], series_from: str = "") -> None:
        """Write one topic run atomically, replacing an earlier run of the same night.

        `topics` are upserted (live, dormant and died alike); `members` replace the whole
        membership of the run's model and scope; `series` replace the rows of the topics
        they name from period `series_from` on (older periods are kept); a snapshot of
        every live or dormant topic is taken.
        """
        key = [run["run_date"], run["model"], run["scope"]]
        with self.db.atomic():
            self._keep_state_before(*key)
            self.db.execute("DELETE FROM topic_events WHERE run_date = ? AND model = ? "
                            "AND scope = ?", key)
            self.db.execute("DELETE FROM topic_snapshots WHERE run_date = ? AND model = ? "
                            "AND topic_id IN (SELECT id FROM topics WHERE scope = ?)", key)
            self.db.execute("DELETE FROM topic_members WHERE model = ? AND scope = ?",
                            key[1:])
            self.db["topic_runs"].upsert(run, pk=("run_date", "model", "scope"))
            rows = []
            for topic in topics:
                row = {k: v for k, v in topic.items() if k != "centroid"}
                for column in _JSON_COLUMNS:
                    row[column] = json.dumps(topic.get(column) or {}, ensure_ascii=False)
                centroid = topic.get("centroid")
                row["centroid"] = np.asarray(centroid, dtype=np.float32).tobytes() \
                    if centroid is not None else None
                rows.append(row)
            if rows:
                self.db["topics"].upsert_all(rows, pk="id", alter=False, batch_size=200)
            self.db["topic_members"].insert_all(members, batch_size=1000)
            self.db["topic_events"].insert_all(
                [{**e, "run_date": run["run_date"], "model": run["model"],
                  "scope": run["scope"]} for e in events], batch_size=500)
            self.db["topic_snapshots"].insert_all(
                [{"run_date": run["run_date"], "model": run["model"], "topic_id": t["id"],
                  "size": t["size"], "label": t.get("label"), "best_field": t.get("best_field"),
                  "best_share": t.get("best_share")}
                 for t in topics if t["status"] in ("live", "dormant")],
                pk=("run_date", "model", "topic_id"), replace=True)
            touched = sorted({s["topic_id"] for s in series})
            for start in range(0, len(touched), 500):
                chunk = touched[start:start + 500]
                self.db.execute(f"DELETE FROM topic_series WHERE period >= ? AND topic_id IN "
                                f"({','.join('?' * len(chunk))})", [series_from, *chunk])
            self.db["topic_series"].insert_all(series, batch_size=1000)

    #: (copy, live table) pairs of the state kept before a scope's newest night
    _KEPT_STATE = (("topic_restore_topics", "topics"), ("topic_restore_members", "topic_members"))

    def _kept_state_date(self, model: str, scope: str) -> str | None:
        """The night whose prior state is kept for a scope, if any."""
        row = self.db.execute("SELECT run_date FROM topic_restore_runs WHERE model = ? AND "
                              "scope = ?", [model, scope]).fetchone()
        return row[0] if row else None

    def _keep_state_before(self, run_date: str, model: str, scope: str) -> None:
        """Copy the scope's topics and members aside before the first run of a new night
        (a rerun of the same night keeps the copy taken before its first run)."""
        if self._kept_state_date(model, scope) == run_date:
            return
        for table, source in self._KEPT_STATE:
            columns = ", ".join(self.db[source].columns_dict)
            self.db.execute(f"DELETE FROM {table} WHERE model = ? AND scope = ?",
                            [model, scope])
            self.db.execute(f"INSERT INTO {table} (restore_date, {columns}) SELECT ?, "
                            f"{columns} FROM {source} WHERE model = ? AND scope = ?",
                            [run_date, model, scope])
        self.db["topic_restore_runs"].upsert({"run_date": run_date, "model": model,
                                              "scope": scope}, pk=("model", "scope"))

    def restore_state_before(self, run_date: str, model: str, scope: str) -> bool:
        """Put back the scope's topics and members as they were before its newest night,
        when `run_date` is that night (a rerun); True when something was restored.

        Topics born in the first run of the night go, ids and all: the rerun numbers its
        own births from the same point.
        """
        if self._kept_state_date(model, scope) != run_date:
            return False
        with self.db.atomic():
            for table, source in self._KEPT_STATE:
                columns = ", ".join(self.db[source].columns_dict)
                self.db.execute(f"DELETE FROM {source} WHERE model = ? AND scope = ?",
                                [model, scope])
                self.db.execute(f"INSERT INTO {source} ({columns}) SELECT {columns} FROM "
                                f"{table} WHERE model = ? AND scope = ?", [model, scope])
            self.db.execute("DELETE FROM topic_series WHERE topic_id NOT IN "
                            "(SELECT id FROM topics)")
        return True

    def clear_topics(self, model: str) -> None:
        """Forget every topic of a model (for a replay from scratch); items stay."""
        with self.db.atomic():
            self.db.execute("DELETE FROM topic_series WHERE topic_id IN "
                            "(SELECT id FROM topics WHERE model = ?)", [model])
            for table in ("topic_members", "topic_runs", "topic_events", "topic_snapshots",
                          "topics", "topic_restore_topics", "topic_restore_members",
                          "topic_restore_runs"):
                self.db.execute(f"DELETE FROM {table} WHERE model = ?", [model])

    # -- reading ------------------------------------------------------------------------

    def list_topics(self, model: str | None = None, statuses: Sequence[str] = ("live",),
                    limit: int = 50, outside_only: bool = False) -> list[dict[str, Any]]:
        """Topics, largest first, without centroids."""
        where = [f"status IN ({','.join('?' * len(statuses))})"]
        params: list[Any] = list(statuses)
        if model:
            where.append("model = ?")
            params.append(model)
        if outside_only:
            where.append("outside_taxonomy = 1")
        rows = self.db["topics"].rows_where(" AND ".join(where), params,
                                            order_by="size DESC, id", limit=limit)
        out = []
        for row in rows:
            topic = _decode_topic(row)
            topic.pop("centroid")
            out.append(topic)
        return out

    def topic(self, topic_id: str) -> dict[str, Any] | None:
        """One topic, or None."""
        try:
            return _decode_topic(self.db["topics"].get(topic_id))
        except sqlite_utils.db.NotFoundError:
            return None

    def topic_member_items(self, topic_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """A topic's current members nearest its centroid first, with title and date."""
        sql = ("SELECT i.id, i.kind, i.language, i.published, i.title, i.url, m.similarity "
               "FROM topic_members m JOIN items i ON i.id = m.item_id WHERE m.topic_id = ? "
               "ORDER BY m.similarity DESC, i.id LIMIT ?")
        columns = ("id", "kind", "language", "published", "title", "url", "similarity")
        return [dict(zip(columns, row, strict=True))
                for row in self.db.execute(sql, [topic_id, limit])]

    def topic_history(self, topic_id: str) -> dict[str, list[dict[str, Any]]]:
        """A topic's snapshots (size per run) and lineage events naming it, oldest first."""
        snapshots = list(self.db["topic_snapshots"].rows_where(
            "topic_id = ?", [topic_id], order_by="run_date"))
        events = list(self.db["topic_events"].rows_where(
            "topic_id = ? OR other_id = ?", [topic_id, topic_id], order_by="run_date, id"))
        return {"snapshots": snapshots, "events": events}

    def topic_series(self, topic_id: str) -> list[dict[str, Any]]:
        """Items per period and kind, with the period's total of that kind."""
        return list(self.db["topic_series"].rows_where("topic_id = ?", [topic_id],
                                                       order_by="period, kind"))

    def topic_events(self, run_date: str | None = None) -> list[dict[str, Any]]:
        """Lineage events, of one night or all."""
        if run_date:
            return list(self.db["topic_events"].rows_where("run_date = ?", [run_date],
                                                           order_by="id"))
        return list(self.db["topic_events"].rows_where(order_by="run_date, id"))

    def topic_runs(self) -> list[dict[str, Any]]:
        """Every topic run, oldest first."""
        return list(self.db["topic_runs"].rows_where(order_by="run_date, scope"))
