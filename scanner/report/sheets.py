"""The report's CSV files: each ranked list, and the review sheet the panel fills in.

Cells a spreadsheet would run as formulas are defused. Files are written as UTF-8 with a
byte-order mark, so Excel (Chinese Windows included) opens them in the right encoding.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from scanner.report.build import EVIDENCE_SHOWN, TOPICS_SHOWN
from scanner.report.review import VERDICTS

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV value that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


#: The figures the report shows, then the sub-scores (percentile ranks in the list, so a
#: "growth" of 1.0 is the list's fastest, not a ratio: named *_subscore).
CSV_COLUMNS = ["entry_id", "rank", "previous_rank", "entity_id", "parent_id", "name_zh",
               "name_en", "emerging", "score", "share_ratio", "ratio_low", "ratio_high",
               "forecast", "items_active", "streams_used", "novelty_subscore",
               "growth_subscore", "coherence_subscore", "impact_subscore", "confidence",
               "support", "reason_zh", "reason_en", "explanation", "terms_subscore"]


def render_csv(rows: Sequence[dict[str, Any]]) -> str:
    """One ranked list as CSV, formula-safe: the same figures and reasons the report shows
    (both languages), with the sub-scores the score was made of."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        s, ind = r["subscores"], r.get("indicators") or {}
        name_zh = ind.get("name_zh") or ind.get("label_zh") or ""
        name_en = ind.get("name_en") or ind.get("label") or ""
        reason = r.get("reason") or {}
        writer.writerow([csv_cell(v) for v in (
            f"{r['list']}:{r['entity_id']}", r["rank"], r["previous_rank"], r["entity_id"],
            r["parent_id"], name_zh, name_en, ind.get("emerging"), r["score"],
            ind.get("growth"), ind.get("growth_low"), ind.get("growth_high"),
            ind.get("forecast"), ind.get("items_active"), " ".join(ind.get("streams_used") or []),
            s["novelty"], s["growth"], s["coherence"], s["impact"], s["confidence"],
            r["support"], reason.get("zh", ""), reason.get("en", ""), r["explanation"],
            s.get("terms", ""))])
    return buffer.getvalue()


def review_sheet(data: dict[str, Any]) -> str:
    """The CSV the panel fills in: one row per ranked entry and evidence item, asking
    about what the report shows (its EVIDENCE_SHOWN items a field, TOPICS_SHOWN topics)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["entry_id", "kind", "entity_id", "item_id", "title", "verdict",
                     "reviewer", "note", "allowed"])
    answered = data.get("panel", {})
    items_done = set(answered.get("answered_items", []))
    topics_done = set(answered.get("answered_topics", []))

    def allowed(kind: str) -> str:
        return " | ".join(VERDICTS[kind])

    for row in data["lists"]["fields"]:
        writer.writerow([csv_cell(v) for v in (f"fields:{row['entity_id']}", "field-priority",
                                               row["entity_id"], "", "", "", "", "",
                                               allowed("field-priority"))])
        for item in row["indicators"].get("top_evidence", [])[:EVIDENCE_SHOWN]:
            if f"{item['id']}:{row['entity_id']}" in items_done:
                continue  # the panel has answered this one: never asked again
            writer.writerow([csv_cell(v) for v in (
                f"item:{item['id']}:{row['entity_id']}", "item-field", row["entity_id"],
                item["id"], item["title"], "", "", "", allowed("item-field"))])
    # the new-field question is asked of topics outside the taxonomy (the watchlist) and
    # of any topic the report proposes as a new field, not of topics inside a field
    proposed = {s["entity"] for s in data.get("suggestions") or []
                if s.get("suggestion") == "propose new field"}
    seen: set[str] = set()
    for row in data["lists"]["watchlist"][:TOPICS_SHOWN] + [
            r for r in data["lists"]["topics"] if r["entity_id"] in proposed]:
        if row["entity_id"] in seen or row["entity_id"] in topics_done:
            continue
        seen.add(row["entity_id"])
        writer.writerow([csv_cell(v) for v in (
            f"topic:{row['entity_id']}", "topic-new-field", row["entity_id"], "",
            row["indicators"].get("label") or "", "", "", "", allowed("topic-new-field"))])
    return buffer.getvalue()
