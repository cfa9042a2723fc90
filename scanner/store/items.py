"""Items, embeddings, field assignments, verdicts and import checkpoints (mixed into
Store)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import sqlite_utils

from scanner.errors import StoreError
from scanner.store.base import (
    UpsertCounts,
    _item_row,
    utcnow,
)
from scanner.store.identity import Holder, place, slots


class ItemTables:
    """Items and what the stages derive from them."""

    db: sqlite_utils.Database

    def upsert_items(self, items: Sequence[dict[str, Any]]) -> UpsertCounts:
        """Insert new items and update changed ones, in one transaction."""
        with self.db.atomic():
            return self._upsert_items(items)

    def _holders(self, ids: Iterable[str]) -> dict[str, Holder]:
        """The stored rows among `ids`: who holds each."""
        out: dict[str, Holder] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for item_id, source_id, entry_key, content_hash, record_hash, title in \
                    self.db.execute(
                        "SELECT id, source_id, entry_key, content_hash, record_hash, title "
                        f"FROM items WHERE id IN ({marks})", chunk):
                out[item_id] = Holder(source_id, entry_key, content_hash, record_hash, title)
        return out

    def _upsert_items(self, items: Sequence[dict[str, Any]]) -> UpsertCounts:
        counts = UpsertCounts()
        if not items:
            return counts
        stored = self._holders(slot for item in items for slot, _ in slots(item)
                               if slot is not None)
        taken: dict[str, Holder] = {}
        unique: dict[str, dict[str, Any]] = {}
        claims: list[tuple[str, str]] = []  # (entry key, id) of stored rows without a key
        for item in items:
            target, key, how = place(item, stored, taken)
            if how == "elsewhere":
                counts.elsewhere += 1
                continue
            if how == "duplicate":
                counts.duplicates += 1  # the first occurrence in a batch wins
                continue
            taken[target] = Holder(item["source_id"], key, item["content_hash"],
                                   title=item["title"])
            unique[target] = item if (target, key) == (item["id"], item.get("entry_key")) \
                else {**item, "id": target, "entry_key": key}
            holder = stored.get(target)
            if holder is not None and holder.entry_key is None and key:
                claims.append((key, target))
        now = utcnow()
        new_rows, changed_rows = [], []
        for item_id, item in unique.items():
            row = _item_row(item)
            holder = stored.get(item_id)
            if holder is None:
                row["first_seen_at"] = row["updated_at"] = now
                new_rows.append(row)
            elif holder.record_hash != row["record_hash"]:
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
        if claims:
            self.db.conn.executemany(
                "UPDATE items SET entry_key = ? WHERE id = ? AND entry_key IS NULL", claims)
        self._save_summaries(unique, now)
        counts.new += len(new_rows)
        counts.changed += len(changed_rows)
        return counts

    def _save_summaries(self, items: dict[str, dict[str, Any]], now: str) -> None:
        """Each item's summaries in other languages ({language: text}), replacing older
        ones; written for unchanged items too, so a re-import fills them in."""
        rows = [{"item_id": item_id, "language": language, "summary": text,
                 "origin": item.get("origin"), "updated_at": now}
                for item_id, item in items.items()
                for language, text in (item.get("summaries") or {}).items() if text]
        if rows:
            self.db["item_summaries"].upsert_all(rows, pk=("item_id", "language"),
                                                 batch_size=1000)

    def item_summaries(self, item_ids: Sequence[str], language: str) -> dict[str, str]:
        """The stored summaries in `language` of the given items, by item id."""
        out: dict[str, str] = {}
        wanted = list(dict.fromkeys(item_ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            out.update(self.db.execute(
                f"SELECT item_id, summary FROM item_summaries WHERE language = ? "
                f"AND item_id IN ({marks})", [language, *chunk]).fetchall())
        return out

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

    def has_embeddings(self, model: str) -> bool:
        """Whether any vector is stored for `model` (stops at the first one)."""
        sql = "SELECT 1 FROM embeddings WHERE model = ? LIMIT 1"
        return self.db.execute(sql, [model]).fetchone() is not None

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

    # embedded items with no assignment for (taxonomy, model), or a stale one: the item's
    # content changed, or (when a calibrator digest is given) another calibrator made it
    _UNASSIGNED = (
        "FROM items i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ? "
        "LEFT JOIN assignments a ON a.item_id = i.id AND a.taxonomy = ? AND a.model = ? "
        "WHERE a.item_id IS NULL OR a.content_hash != i.content_hash "
        "OR (? IS NOT NULL AND a.calibrator IS NOT ?)"
    )

    def items_needing_assignment(self, taxonomy: str, model: str, limit: int,
                                 calibrator: str | None = None) -> list[dict[str, Any]]:
        """Embedded items with no current assignment for (taxonomy, model, calibrator)."""
        sql = (f"SELECT i.id, i.kind, i.title, i.summary, i.content_hash "
               f"{self._UNASSIGNED} LIMIT ?")
        columns = ("id", "kind", "title", "summary", "content_hash")
        params = [model, taxonomy, model, calibrator, calibrator, limit]
        return [dict(zip(columns, row, strict=True)) for row in self.db.execute(sql, params)]

    def count_items_needing_assignment(self, taxonomy: str, model: str,
                                       calibrator: str | None = None) -> int:
        """How many embedded items lack a current assignment."""
        sql = f"SELECT count(*) {self._UNASSIGNED}"
        params = [model, taxonomy, model, calibrator, calibrator]
        return int(self.db.execute(sql, params).fetchone()[0])

    def assignments_by_other_calibrators(self, taxonomy: str, model: str,
                                         calibrator: str) -> int:
        """How many stored assignments another calibrator (or none recorded) made."""
        return int(self.db.execute(
            "SELECT count(*) FROM assignments WHERE taxonomy = ? AND model = ? "
            "AND calibrator IS NOT ?", [taxonomy, model, calibrator]).fetchone()[0])

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

    def newest_item_date(self) -> str | None:
        """The newest published date (YYYY-MM-DD) of any stored item, or None."""
        row = self.db.execute("SELECT max(substr(published, 1, 10)) FROM items").fetchone()
        return row[0] if row and row[0] else None

    def item_ids_published(self, since: str, before: str, kind: str) -> list[str]:
        """Ids of the items of a kind published from `since` to the day before `before`
        (dates), oldest first (ties by id)."""
        return [r[0] for r in self.db.execute(
            "SELECT id FROM items WHERE kind = ? AND substr(published, 1, 10) >= ? AND "
            "substr(published, 1, 10) < ? ORDER BY published, id", [kind, since, before])]

    def count_items_published(self, since: str, until: str) -> int:
        """Items published in [since, until] (dates)."""
        return int(self.db.execute(
            "SELECT count(*) FROM items WHERE substr(published, 1, 10) BETWEEN ? AND ?",
            [since, until]).fetchone()[0])

