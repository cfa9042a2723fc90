"""What `scanner browse` tells an analyst about the store: table and column descriptions
and canned queries, as Datasette metadata.

Only the tables a panel analyst reads are described and shown; the run's machinery
(locks, restore copies, import checkpoints, vectors, migrations) is hidden. Canned query
parameters left empty mean "any" (an open window, every list), so each query runs from
its form without SQL.
"""

from __future__ import annotations

from typing import Any

#: Tables shown, each with a description and its columns' meanings.
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "items": ("Every stored paper, news story and policy document, one row each.", {
        "id": "stable item id (arxiv:<id> for arXiv papers, else a hash of the source entry)",
        "source_id": "the feed or import it came from (see sources)",
        "kind": "paper, news or policy: the signal stream it counts in",
        "url": "link to the original", "title": "title as published (not HTML-stripped)",
        "summary": "abstract or lead text",
        "published": "publication time, ISO 8601 UTC",
        "published_flag": "ok, or how the date was guessed (missing, future, ...)",
        "published_raw": "the date text as the source gave it",
        "authors": "JSON list of author names", "categories": "JSON list of categories",
        "language": "detected language (en, zh, ...)",
        "content_hash": "hash of title and summary: the embedding key",
        "record_hash": "hash of every stored field: changes when the item changes",
        "primary_category": "arXiv primary category (the venue)",
        "version": "arXiv version", "doi": "DOI when known",
        "origin": "fetch:<source> or import:<preset>",
        "first_seen_at": "when first stored", "updated_at": "when last changed",
        "entry_key": "what tells the entry apart within its source (guid or link)",
    }),
    "item_summaries": ("Summaries of an item in another language than its own, as a dump "
                       "carries them (the arXiv CS corpus's Chinese summaries).", {
        "item_id": "the item (see items)", "language": "the summary's language",
        "summary": "the text, one part a line", "origin": "where it came from",
        "updated_at": "when last written"}),
    "sources": ("Configured feeds and their latest fetch state.", {
        "id": "source id", "name": "display name", "kind": "feed kind (rss, atom, arxiv)",
        "url": "feed URL", "language": "declared language",
        "item_kind": "kind of the items it yields", "enabled": "1 when fetched nightly",
        "last_status": "status of the latest fetch", "last_fetched_at": "latest fetch",
        "last_ok_at": "latest successful fetch"}),
    "runs": ("Every nightly, rescore, backfill and ad-hoc run, with its outcome.", {
        "id": "run id", "kind": "nightly, rescore, backfill, ...",
        "run_date": "the date the run is for", "status": "running, ok or failed",
        "started_at": "start (UTC)", "finished_at": "end (UTC)",
        "params": "JSON parameters", "summary": "JSON summary per stage",
        "error": "what failed, when it did"}),
    "fetches": ("One row per feed fetch: HTTP outcome, parser state, items stored.", {
        "run_id": "the run that fetched (see runs)", "source_id": "the feed",
        "url": "URL fetched", "started_at": "start (UTC)", "duration_s": "seconds",
        "attempts": "tries including retries",
        "status": "ok, not_modified, http_error, network_error, timeout, parse_error, ...",
        "http_code": "HTTP status", "bytes": "body size",
        "bozo": "1 when the feed was malformed (feedparser's bozo)",
        "bozo_class": "the parser's complaint", "error_class": "exception class",
        "error_message": "what went wrong", "entries": "entries in the feed",
        "items_new": "entries stored as new items", "items_changed": "items updated",
        "items_unchanged": "items already stored as they are",
        "items_duplicate": "the same entry twice in the feed",
        "items_elsewhere": "the same text already stored from another source",
        "items_rejected": "entries not stored (no title, too large, ...)",
        "notes": "parser notes"}),
    "item_fields": ("Taxonomy fields each item is assigned to, with its score.", {
        "item_id": "the item", "taxonomy": "taxonomy version key",
        "model": "embedding model", "field_id": "the field (taxonomy id)",
        "score": "assignment score (higher = closer)",
        "pathway_id": "the field's technology pathway it matches best, if any"}),
    "assignments": ("Each item's full assignment: scores for every field, evidence terms.", {
        "item_id": "the item", "scores": "JSON field -> score",
        "fields": "JSON list of assigned fields", "evidence": "JSON matched terms per field",
        "pathways": "JSON pathway scores per field", "method": "how it was assigned",
        "computed_at": "when"}),
    "verdicts": ("Expert verdicts on single item-field pairs (newest row wins).", {
        "item_id": "the item", "field_id": "the field",
        "verdict": "1 relevant, 0 not relevant", "reviewer": "who", "note": "why",
        "created_at": "when"}),
    "panel_verdicts": ("The panel's verdicts on report entries (append-only; newest wins).", {
        "entry_id": "report entry", "kind": "field or topic", "entity_id": "its id",
        "verdict": "relevant, accept, promote, keep, watch, retire, ...",
        "reviewer": "who", "note": "why", "report_date": "report it answers",
        "created_at": "when"}),
    "topics": ("Discovered topics (clusters of items), current state.", {
        "id": "topic id (Tnnnnnn), stable across nights", "model": "embedding model",
        "scope": "all, or the item kind clustered apart",
        "status": "live, dormant, merged or died", "size": "members in the window",
        "label": "top keywords", "keywords": "JSON keywords per language (zh_summaries: "
        "from the Chinese summaries of English members)",
        "representatives": "JSON ids of the members nearest the centre",
        "best_field": "the field most members are assigned to",
        "best_share": "share of members in that field",
        "outside_taxonomy": "1 when no field holds enough members",
        "affinity": "JSON share of members per field",
        "born_run_date": "first night it existed", "last_run_date": "latest night",
        "last_item_date": "newest member's date"}),
    "topic_members": ("Which topic each item belongs to now (topic_id empty = unassigned).", {
        "item_id": "the item", "topic_id": "its topic", "similarity": "cosine to the centre",
        "run_date": "night of the assignment"}),
    "topic_runs": ("One row per topics night and scope: mode, window, sizes, time.", {
        "mode": "full (reclustered) or incremental", "window_start": "window start",
        "window_end": "window end", "items": "items clustered", "topics": "live topics",
        "unassigned": "items in no topic", "seconds": "time taken"}),
    "topic_events": ("Topic lineage: born, grew, shrank, merged, split, died per night.", {
        "run_date": "night", "kind": "the event", "topic_id": "the topic",
        "other_id": "the other topic of a merge or split", "detail": "why"}),
    "topic_snapshots": ("Each topic's size, label and best field per night.", {
        "run_date": "night", "topic_id": "the topic", "size": "members",
        "label": "label then", "best_field": "best field then",
        "best_share": "its share then"}),
    "topic_series": ("Items per topic, period and stream, with the period's stream total.", {
        "period": "month or ISO week", "kind": "stream (item kind)",
        "count": "the topic's items", "total": "all items of the stream"}),
    "signals": ("Ranked lists per run date: fields, pathways, topics, watchlist, convergence.", {
        "run_date": "the run's date", "list": "which ranked list",
        "entity_id": "field, pathway, topic or field pair", "parent_id": "its field",
        "rank": "rank in the list (1 = top)", "previous_rank": "rank in the previous run",
        "score": "composite score (ranking only)", "subscores": "JSON novelty, growth, ...",
        "indicators": "JSON figures behind the score", "explanation": "why, in one line",
        "support": "evidence weight"}),
    "term_counts": ("Items mentioning a term per month, stream and venue.", {
        "term": "the term", "month": "YYYY-MM", "stream": "item kind",
        "venue": "arXiv category or source", "df": "items that mention it"}),
    "term_items": ("Items already counted in term_counts.", {
        "item_id": "the item", "month": "its month", "stream": "its kind",
        "venue": "its venue (category or source)"}),
    "term_rankings": ("Emerging terms ranked per run date and stream.", {
        "run_date": "the run's date", "stream": "item kind", "rank": "rank (1 = top)",
        "term": "the term", "score": "emergence score",
        "outside_taxonomy": "1 when no field's terms cover it",
        "best_field": "nearest field", "details": "JSON figures"}),
}

#: Tables kept out of the listing: the run's machinery, not evidence.
HIDDEN = ("embeddings", "imports", "locks", "migrations", "topic_restore_topics",
          "topic_restore_members", "topic_restore_runs")

_WINDOW = ("(:since = '' OR substr(i.published, 1, 10) >= :since) AND "
           "(:until = '' OR substr(i.published, 1, 10) <= :until)")

#: Canned queries: name -> (title, description, SQL, tables it reads).
QUERIES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "field_evidence": (
        "A field's evidence in a window",
        "Items assigned to a field (e.g. 6g) published from since to until (YYYY-MM-DD, "
        "both included; empty = open), best score first, with the panel's newest verdict.",
        "SELECT i.published, i.kind, i.source_id, i.title, i.url, round(f.score, 3) AS score, "
        "f.pathway_id, i.language, i.id AS item_id, (SELECT CASE v.verdict WHEN 1 THEN "
        "'relevant' ELSE 'irrelevant' END FROM verdicts v WHERE v.item_id = f.item_id AND "
        "v.field_id = f.field_id ORDER BY v.id DESC LIMIT 1) AS verdict, f.taxonomy, "
        "f.model FROM item_fields f JOIN items i ON i.id = f.item_id "
        f"WHERE f.field_id = :field AND {_WINDOW} ORDER BY f.score DESC, i.published DESC",
        ("item_fields", "items", "verdicts")),
    "field_months": (
        "A field's items per month and stream",
        "How many items of each stream a field has per month (the counts behind its share).",
        "SELECT substr(i.published, 1, 7) AS month, i.kind AS stream, count(*) AS items "
        "FROM item_fields f JOIN items i ON i.id = f.item_id WHERE f.field_id = :field "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        ("item_fields", "items")),
    "topic_history": (
        "A topic's history",
        "Night by night: a topic's size, label and best field, and its lineage events.",
        "WITH nights AS (SELECT run_date FROM topic_snapshots WHERE topic_id = :topic "
        "UNION SELECT run_date FROM topic_events WHERE topic_id = :topic) "
        "SELECT n.run_date, s.size, s.label, s.best_field, round(s.best_share, 3) AS "
        "best_share, (SELECT group_concat(e.kind || coalesce(' ' || e.other_id, ''), '; ') "
        "FROM topic_events e WHERE e.topic_id = :topic AND e.run_date = n.run_date) AS events "
        "FROM nights n LEFT JOIN topic_snapshots s ON s.topic_id = :topic AND s.run_date = "
        "n.run_date ORDER BY n.run_date",
        ("topic_snapshots", "topic_events")),
    "topic_items": (
        "A topic's members",
        "The items in a topic now, nearest its centre first.",
        "SELECT i.published, i.kind, i.title, i.url, round(m.similarity, 3) AS similarity, "
        "i.language, i.id AS item_id FROM topic_members m JOIN items i ON i.id = m.item_id "
        "WHERE m.topic_id = :topic ORDER BY m.similarity DESC",
        ("topic_members", "items")),
    "run_ranked_lists": (
        "A run's ranked lists",
        "The ranked lists of a run (its id or its date; see recent_runs), one list or all "
        "(list empty): fields, pathways, topics, watchlist, convergence.",
        "SELECT s.list, s.rank, s.previous_rank, s.entity_id, s.parent_id, round(s.score, 3) "
        "AS score, s.explanation FROM signals s WHERE s.run_date = coalesce((SELECT r.run_date "
        "FROM runs r WHERE r.id = :run), :run) AND (:list = '' OR s.list = :list) "
        "ORDER BY s.list, s.rank",
        ("signals", "runs")),
    "recent_runs": (
        "Recent runs",
        "Runs newest first, with their status and error.",
        "SELECT id, kind, run_date, status, started_at, finished_at, error FROM runs "
        "ORDER BY started_at DESC LIMIT 100",
        ("runs",)),
    "failed_fetches": (
        "Failed fetches",
        "Fetches that did not succeed, newest first, since a time (ISO; empty = all).",
        "SELECT f.started_at, f.source_id, s.name AS source, f.status, f.http_code, "
        "f.error_class, f.error_message, f.attempts, f.url, f.run_id FROM fetches f "
        "LEFT JOIN sources s ON s.id = f.source_id WHERE f.status NOT IN ('ok', "
        "'not_modified') AND (:since = '' OR f.started_at >= :since) "
        "ORDER BY f.started_at DESC, f.id DESC",
        ("fetches", "sources")),
    "outside_taxonomy_topics": (
        "Live topics outside the taxonomy",
        "Topics no field holds enough of: candidates for a new field, largest first.",
        "SELECT id, size, label, best_field, round(best_share, 3) AS best_share, "
        "born_run_date, last_item_date FROM topics WHERE status = 'live' AND "
        "outside_taxonomy = 1 ORDER BY size DESC",
        ("topics",)),
    "emerging_terms": (
        "A run's emerging terms",
        "Ranked emerging terms of a run date, one stream or all (stream empty).",
        "SELECT stream, rank, term, round(score, 3) AS score, outside_taxonomy, best_field "
        "FROM term_rankings WHERE run_date = :run_date AND (:stream = '' OR stream = "
        ":stream) ORDER BY stream, rank",
        ("term_rankings",)),
    "term_months": (
        "A term's items per month",
        "How many items mention a term, per month and stream (all venues).",
        "SELECT month, stream, sum(df) AS items FROM term_counts WHERE term = :term "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        ("term_counts",)),
}


def store_metadata(tables: set[str] | None = None, title: str = "horizon-scanner store"
                   ) -> dict[str, Any]:
    """Datasette metadata for the store database named "store".

    Args:
        tables: the tables the file has; queries reading a missing one are left out
            (None: assume every table of the current schema).
        title: the page title.
    """
    present = set(TABLES) | set(HIDDEN) if tables is None else tables
    described: dict[str, Any] = {
        name: {"description": about, "columns": columns}
        for name, (about, columns) in TABLES.items() if name in present}
    for name in ("items", "topics"):
        if name in described:
            described[name]["label_column"] = "title" if name == "items" else "label"
    if "items" in described:
        described["items"].update(sort_desc="published", facets=["kind", "language"])
    for name in HIDDEN:
        if name in present:
            described[name] = {"hidden": True}
    queries = {name: {"title": title_, "description": about, "sql": sql}
               for name, (title_, about, sql, needs) in QUERIES.items()
               if set(needs) <= present}
    return {
        "title": title,
        "description": "Read-only view of the scanner's store: items, assignments, topics, "
                       "signals, runs and fetches. Canned queries answer the common "
                       "questions without SQL; nothing here can change the store.",
        "databases": {"store": {"tables": described, "queries": queries}},
    }
