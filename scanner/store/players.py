"""Read methods for the report's key players: who and what carries a field or topic.

One row per (entity, item) with the item's facts a player can be read from: its source,
arXiv primary category, authors, language, date, title and the summary's first 120
characters (where organisations are named). Nothing is written here.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

_COLUMNS = ("entity_id", "item_id", "kind", "source_id", "primary_category", "authors",
            "language", "published", "title", "lead")
_FACTS = ("i.id, i.kind, i.source_id, i.primary_category, i.authors, i.language, "
          "substr(i.published, 1, 10), i.title, substr(i.summary, 1, 120)")


class PlayerTables:
    """Store methods for key players; mixed into scanner.store.Store."""

    db: sqlite_utils.Database
    _NOT_REJECTED: str

    def field_player_facts(self, taxonomy: str, model: str, since: str, until: str
                           ) -> list[dict[str, Any]]:
        """Items assigned to each field, published from `since` to `until` (both days
        included; panel-rejected item-field pairs left out, as in the signals)."""
        sql = (f"SELECT f.field_id, {_FACTS} FROM item_fields f JOIN items i "
               "ON i.id = f.item_id WHERE f.taxonomy = ? AND f.model = ? "
               "AND substr(i.published, 1, 10) BETWEEN ? AND ? "
               f"AND {self._NOT_REJECTED}")
        return [dict(zip(_COLUMNS, row, strict=True))
                for row in self.db.execute(sql, [taxonomy, model, since, until])]

    def topic_player_facts(self, model: str, since: str, until: str
                           ) -> list[dict[str, Any]]:
        """Members of live topics published from `since` to `until` (both included)."""
        sql = (f"SELECT m.topic_id, {_FACTS} FROM topic_members m JOIN items i "
               "ON i.id = m.item_id JOIN topics t ON t.id = m.topic_id WHERE m.model = ? "
               "AND t.status = 'live' AND substr(i.published, 1, 10) BETWEEN ? AND ?")
        return [dict(zip(_COLUMNS, row, strict=True))
                for row in self.db.execute(sql, [model, since, until])]
