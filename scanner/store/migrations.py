"""Numbered schema migrations of the store; append new ones, never edit a shipped one.

Only scanner.store applies them; they are kept apart so store.py stays readable.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils


def _m001_initial(db: sqlite_utils.Database) -> None:
    db["sources"].create(
        {
            "id": str, "name": str, "kind": str, "url": str, "language": str,
            "item_kind": str, "enabled": int, "etag": str, "last_modified": str,
            "last_status": str, "last_fetched_at": str, "last_ok_at": str,
        },
        pk="id",
    )
    db["runs"].create(
        {
            "id": str, "kind": str, "run_date": str, "status": str, "started_at": str,
            "finished_at": str, "params": str, "summary": str, "error": str,
        },
        pk="id",
    )
    db["fetches"].create(
        {
            "id": int, "run_id": str, "source_id": str, "url": str, "started_at": str,
            "duration_s": float, "attempts": int, "status": str, "http_code": int,
            "bytes": int, "content_type": str, "bozo": int, "bozo_class": str,
            "bozo_message": str, "error_class": str, "error_message": str, "etag": str,
            "last_modified": str, "entries": int, "items_new": int, "items_changed": int,
            "items_unchanged": int,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db["fetches"].create_index(["source_id", "started_at"])
    db["items"].create(
        {
            "id": str, "source_id": str, "kind": str, "url": str, "title": str,
            "summary": str, "published": str, "published_flag": str, "published_raw": str,
            "authors": str, "categories": str, "language": str, "content_hash": str,
            "record_hash": str, "primary_category": str, "version": int, "doi": str,
            "origin": str, "first_seen_at": str, "updated_at": str,
        },
        pk="id",
        not_null={"id", "source_id", "kind", "title", "published", "content_hash",
                  "record_hash"},
    )
    db["items"].create_index(["published"])
    db["items"].create_index(["source_id"])
    db["items"].create_index(["content_hash"])
    db["imports"].create(
        {
            "key": str, "path": str, "format": str, "rows_done": int, "rows_total": int,
            "finished": int, "started_at": str, "updated_at": str,
        },
        pk="key",
    )


def _m002_embeddings(db: sqlite_utils.Database) -> None:
    db["embeddings"].create(
        {"content_hash": str, "model": str, "dim": int, "vector": bytes, "created_at": str},
        pk=("content_hash", "model"),
        not_null={"dim", "vector"},
    )
    db["embeddings"].create_index(["model"])


def _m003_assignments(db: sqlite_utils.Database) -> None:
    db["assignments"].create(
        {"item_id": str, "taxonomy": str, "model": str, "content_hash": str, "scores": str,
         "fields": str, "evidence": str, "pathways": str, "method": str, "computed_at": str},
        pk=("item_id", "taxonomy", "model"),
    )
    db["item_fields"].create(
        {"item_id": str, "taxonomy": str, "model": str, "field_id": str, "score": float,
         "pathway_id": str},
        pk=("item_id", "taxonomy", "model", "field_id"),
    )
    db["item_fields"].create_index(["taxonomy", "model", "field_id"])
    db["verdicts"].create(
        {"id": int, "item_id": str, "field_id": str, "verdict": int, "reviewer": str,
         "note": str, "created_at": str},
        pk="id", not_null={"item_id", "field_id", "verdict", "reviewer"},
    )
    db["verdicts"].create_index(["field_id"])


def _m004_topics(db: sqlite_utils.Database) -> None:
    db["topics"].create(
        {"id": str, "model": str, "scope": str, "status": str, "size": int, "label": str,
         "keywords": str, "representatives": str, "centroid": bytes, "floor": float,
         "affinity": str, "pathway_affinity": str, "taxonomy": str, "best_field": str,
         "best_share": float, "outside_taxonomy": int, "born_run_date": str,
         "last_run_date": str, "last_item_date": str, "updated_at": str},
        pk="id", not_null={"model", "scope", "status"},
    )
    db["topics"].create_index(["model", "status"])
    db["topic_members"].create(  # current membership; topic_id NULL = held unassigned
        {"item_id": str, "model": str, "scope": str, "topic_id": str, "similarity": float,
         "run_date": str},
        pk=("item_id", "model", "scope"),
    )
    db["topic_members"].create_index(["topic_id"])
    db["topic_runs"].create(
        {"run_date": str, "model": str, "scope": str, "run_id": str, "mode": str,
         "window_start": str, "window_end": str, "items": int, "topics": int,
         "unassigned": int, "seconds": float, "created_at": str},
        pk=("run_date", "model", "scope"),
    )
    db["topic_events"].create(
        {"id": int, "run_date": str, "model": str, "scope": str, "kind": str,
         "topic_id": str, "other_id": str, "detail": str},
        pk="id",
    )
    db["topic_events"].create_index(["topic_id"])
    db["topic_events"].create_index(["run_date", "model", "scope"])
    db["topic_snapshots"].create(
        {"run_date": str, "model": str, "topic_id": str, "size": int, "label": str,
         "best_field": str, "best_share": float},
        pk=("run_date", "model", "topic_id"),
    )
    db["topic_series"].create(
        {"topic_id": str, "period": str, "kind": str, "count": int, "total": int},
        pk=("topic_id", "period", "kind"),
    )


def _m005_signals(db: sqlite_utils.Database) -> None:
    db["signals"].create(
        {"run_date": str, "list": str, "entity_id": str, "parent_id": str, "rank": int,
         "previous_rank": int, "score": float, "subscores": str, "indicators": str,
         "explanation": str, "support": float, "taxonomy": str, "model": str},
        pk=("run_date", "list", "entity_id"),
    )
    db["signals"].create_index(["list", "entity_id"])


def _m006_panel_verdicts(db: sqlite_utils.Database) -> None:
    db["panel_verdicts"].create(  # append-only: a changed mind is a new row
        {"id": int, "entry_id": str, "kind": str, "entity_id": str, "verdict": str,
         "reviewer": str, "note": str, "report_date": str, "created_at": str},
        pk="id", not_null={"entry_id", "kind", "verdict", "reviewer"},
    )
    db["panel_verdicts"].create_index(["kind", "entity_id"])


def _m007_locks(db: sqlite_utils.Database) -> None:
    db["locks"].create(
        {"name": str, "owner": str, "pid": int, "host": str, "acquired_at": str,
         "heartbeat_at": str},
        pk="name",
    )


def _m008_topic_restore(db: sqlite_utils.Database) -> None:
    # each scope's topics and members as they were before its newest night, so that a
    # rerun of that night starts from the same state as its first run
    db.execute("CREATE TABLE topic_restore_topics AS SELECT '' AS restore_date, * "
               "FROM topics WHERE 0")
    db.execute("CREATE TABLE topic_restore_members AS SELECT '' AS restore_date, * "
               "FROM topic_members WHERE 0")
    db["topic_restore_runs"].create({"run_date": str, "model": str, "scope": str},
                                    pk=("model", "scope"))


def _m009_entry_identity(db: sqlite_utils.Database) -> None:
    # items: what tells an entry apart within its source (guid, or link with fragment);
    # NULL on items stored before, claimed by the first entry of the same source that
    # maps to them, so their ids are kept. fetches: every entry not stored, by reason.
    db["items"].add_column("entry_key", str)
    for column in ("items_duplicate", "items_elsewhere", "items_rejected"):
        db["fetches"].add_column(column, int)
    db["fetches"].add_column("notes", str)


def _m010_terms(db: sqlite_utils.Database) -> None:
    db["term_counts"].create(  # items per term, month, stream (item kind) and venue
        {"term": str, "month": str, "stream": str, "venue": str, "df": int},
        pk=("term", "month", "stream", "venue"), not_null={"df"},
    )
    db["term_counts"].create_index(["stream", "month"])
    db["term_items"].create({"item_id": str, "month": str, "stream": str}, pk="item_id")
    db["term_items"].create_index(["stream", "month"])
    db["term_rankings"].create(
        {"run_date": str, "stream": str, "rank": int, "term": str, "score": float,
         "outside_taxonomy": int, "best_field": str, "details": str},
        pk=("run_date", "stream", "term"),
    )


def _m011_assignment_calibrator(db: sqlite_utils.Database) -> None:
    # the digest of the calibrator that made the assignment: a new one makes it stale
    db["assignments"].add_column("calibrator", str)


def _m012_item_summaries(db: sqlite_utils.Database) -> None:
    # summaries of an item in another language than its own, as a dump carries them (the
    # arXiv CS corpus's machine-written Chinese summaries of English papers); kept apart
    # from items so that they change neither an item's hashes nor its upsert counts
    db["item_summaries"].create(
        {"item_id": str, "language": str, "summary": str, "origin": str, "updated_at": str},
        pk=("item_id", "language"), not_null={"summary"},
    )


def _m013_recount_terms(db: sqlite_utils.Database) -> None:
    # the term extraction folds possessives now ("policy's" was counted as "policy'"):
    # counts made before would mix two spellings of one term, so they are cleared and the
    # next terms stage counts every stored item again (derived data; nothing else lost)
    db.execute("DELETE FROM term_counts")
    db.execute("DELETE FROM term_items")


def _m014_recount_terms(db: sqlite_utils.Database) -> None:
    # the extraction keeps version numbers with names now ("GPT-5.1" was cut at its
    # period into "GPT-5", "Llama 4" lost its 4): cleared and recounted, as in 13; and
    # each counted item keeps its venue, so a venue whose share shifts tenfold over a
    # window (a category or source that starts mid-window made its words look new) can
    # have its terms judged against its own items (TermSettings.venue_mix)
    _m013_recount_terms(db)
    db["term_items"].add_column("venue", str)


#: Numbered schema migrations; append, never edit one that has shipped.
MIGRATIONS: list[tuple[int, str, Callable[[sqlite_utils.Database], None]]] = [
    (1, "sources, runs, fetches, items, imports", _m001_initial),
    (2, "embeddings per (content hash, model)", _m002_embeddings),
    (3, "field assignments, assigned fields, expert verdicts", _m003_assignments),
    (4, "topics, members, lineage events, snapshots, time series", _m004_topics),
    (5, "ranked signals per run", _m005_signals),
    (6, "panel verdicts on topics and fields", _m006_panel_verdicts),
    (7, "run lock", _m007_locks),
    (8, "topic state before each scope's newest night, for reruns", _m008_topic_restore),
    (9, "entry keys on items; entries not stored counted on fetches", _m009_entry_identity),
    (10, "term counts per month, stream and venue; ranked emerging terms", _m010_terms),
    (11, "assignments carry the digest of the calibrator that made them",
     _m011_assignment_calibrator),
    (12, "item summaries in another language (Chinese summaries of English papers)",
     _m012_item_summaries),
    (13, "term counts recounted (possessives folded into their word)", _m013_recount_terms),
    (14, "term counts recounted (version numbers kept with model names); counted items' "
         "venues", _m014_recount_terms),
]
