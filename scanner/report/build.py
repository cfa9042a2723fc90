"""Panel reports: one self-contained HTML file, Markdown, JSON and CSV per run date.

Written to `<report_dir>/<run-date>/`, with `<report_dir>/latest` pointing at the newest.
Everything that came from a feed is escaped: the HTML goes through Jinja2 with
autoescaping and forbids every script by its Content-Security-Policy (the page needs
none; charts are inline SVG drawn from numbers only), Markdown escapes its own markup
and HTML, and CSV cells that a spreadsheet would run as formulas are defused.

Order of contents (issue #7): summary of changes and coverage, fields by direction and
tier, pathways within fields, emerging topics and the out-of-taxonomy watchlist,
converging field pairs, suggested adjustments for the panel.
"""

from __future__ import annotations

from typing import Any

from scanner.report.adjust import suggestions
from scanner.signals import LISTS


def build_report(store: Any, taxonomy: Any, run_date: str | None = None,
                 current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything a report shows, as JSON-able data (the JSON format is this dict).

    `current` is the run writing the report ({"id", "stages"} so far), when a run does:
    its finished stages stand in for the summary its row gets only at the end.
    """
    from scanner.report.enrich import enrich
    from scanner.report.players import key_players
    from scanner.report.summary import executive_summary
    from scanner.taxonomy import taxonomy_key

    dates = store.signal_run_dates()
    if run_date is None:
        if not dates:
            from scanner.errors import ScannerError

            raise ScannerError("no signals stored yet: run `scanner run` (or `scanner signals "
                               "--compute`) before writing a report")
        run_date = dates[0]
    # a night whose signals ranked nothing (no items yet) still gets a report: coverage
    # and empty lists say so
    lists = {name: store.ranked(name, run_date, limit=500) for name in LISTS}
    fields = lists["fields"]
    moved = [r for r in fields if r["previous_rank"] is not None]
    # the night's figures come from the newest run that computed signals, its terms from
    # the newest that ranked terms: a later ad-hoc command of the same date (`terms
    # update`, `assign`) is newest but holds no signals stage, and the report lost the
    # streams' coverage and warnings ("news stays out of the composites")
    newest = store.latest_run_for(run_date)
    own_run = bool(current and newest and newest.get("id") == current.get("id"))
    run = newest if own_run else store.latest_run_for(run_date, "signals") or newest
    terms_run = run if own_run else store.latest_run_for(run_date, "terms") or run
    for row in lists["topics"] + lists["watchlist"]:
        history = store.topic_history(row["entity_id"])
        row["lineage"] = [f"{e['run_date']} {e['kind']}" + (f" {e['other_id']}" if e["other_id"]
                                                            else "")
                          for e in history["events"][-4:]]
        row["lineage_events"] = [{"date": e["run_date"], "kind": e["kind"],
                                  "other": e["other_id"]} for e in history["events"][-4:]]
    panel = panel_state(store)
    for row in fields:
        row["panel_verdict"] = panel["field_priority"].get(row["entity_id"])
    for row in lists["topics"] + lists["watchlist"]:
        row["panel_verdict"] = panel["topics"].get(row["entity_id"])
    if own_run and run is not None and current is not None:
        run = terms_run = {**run, "summary": {**(run.get("summary") or {}),
                                              "stages": list(current.get("stages") or [])}}
    signals_meta = _signals_meta(run)
    by_direction: dict[str, list[dict[str, Any]]] = {}
    for row in fields:
        by_direction.setdefault(row["indicators"].get("direction") or "", []).append(row)
    stats = store.stats()
    data = {
        "run_date": run_date,
        "previous_date": next((d for d in dates if d < run_date), None),
        "taxonomy": fields[0]["taxonomy"] if fields else taxonomy_key(taxonomy),
        "taxonomy_version": taxonomy.version,
        "directions": {d: {"zh": taxonomy.directions[d].zh, "en": taxonomy.directions[d].en}
                       for d in taxonomy.directions},
        "tiers": {t: {"zh": taxonomy.tiers[t].zh, "en": taxonomy.tiers[t].en}
                  for t in taxonomy.tiers},
        "summary": {
            "new_entrants": [r["entity_id"] for r in fields if r["previous_rank"] is None
                             and dates and run_date != dates[-1]][:5],
            "risers": [(r["entity_id"], r["previous_rank"] - r["rank"]) for r in
                       sorted(moved, key=lambda r: r["rank"] - r["previous_rank"])[:3]
                       if r["previous_rank"] > r["rank"]],
            "fallers": [(r["entity_id"], r["previous_rank"] - r["rank"]) for r in
                        sorted(moved, key=lambda r: r["previous_rank"] - r["rank"])[:3]
                        if r["previous_rank"] < r["rank"]],
            "new_outside": [r["entity_id"] for r in lists["watchlist"]
                            if r["previous_rank"] is None][:5],
        },
        "coverage": {
            "items": stats["items"], "items_by_kind": stats["items_by_kind"],
            "items_by_language": stats["items_by_language"],
            "run": {**{k: run.get(k) for k in ("id", "status", "started_at", "finished_at")},
                    "own": own_run} if run else None,
            "new_items": new_items(run, store),
            "sources_ok": run.get("sources_ok") if run else None,
            "sources_failed": run.get("sources_failed") if run else None,
            "period": signals_meta.get("period"),
            "period_reason": signals_meta.get("period_reason"),
            "periods": signals_meta.get("periods"),
            "streams": signals_meta.get("streams", {}),
            "warnings": signals_meta.get("warnings", []),
        },
        "panel": {"answered_items": sorted(panel["answered_items"]),
                  "answered_topics": sorted(panel["topics"])},
        "fields_by_direction": by_direction,
        "field_names": {f.id: {"zh": f.zh, "en": f.en} for f in taxonomy.fields.values()},
        "fields_without_evidence": [f.id for f in taxonomy.active_fields
                                    if f.id not in {r["entity_id"] for r in fields}],
        "lists": lists,
    }
    data["terms"] = emerging_terms(store, run_date)
    data["terms_skipped"] = terms_skipped(terms_run)
    data["terms_windows"] = terms_windows(terms_run)
    stage = _terms_stage(terms_run)
    data["terms_phrasing"] = dict(stage.get("phrasing") or {})
    data["terms_not_judged"] = dict(stage.get("not_judged") or {})
    data["terms_shifted"] = dict(stage.get("venues_shifted") or {})
    data["suggestions"] = suggestions(
        fields, lists["watchlist"], data["fields_without_evidence"], stats["items_by_kind"],
        sum(int(r["indicators"].get("size") or 0) for r in lists["topics"] + lists["watchlist"]),
        topics_with_terms(data["terms"]))
    enrich(data, taxonomy)
    periods = signals_meta.get("periods") or (fields[0]["indicators"].get("periods")
                                               if fields else None)
    since = None
    if periods:
        from scanner.report.players import period_start

        since = period_start(periods[0])
    data["players"] = key_players(store, lists, since, run_date)
    data["executive"] = executive_summary(data)
    return data


def new_items(run: dict[str, Any] | None, store: Any = None) -> int | None:
    """Items a run brought in (its pull, fetch and import stages), with those that failed
    runs of the same night stored before it (a killed night's items are this night's
    too); None without a run."""
    if not run:
        return None
    stages = [s for s in run.get("summary", {}).get("stages", [])
              if s.get("stage") in ("pull", "fetch", "import")]
    own = sum(int(s.get("new") or s.get("items_new") or 0) for s in stages)
    earlier = store.items_stored_by_failed_runs_before(run) \
        if store is not None and run.get("started_at") else 0
    return own + earlier



#: What a report lists: topics (and watchlist entries) per list, evidence items per field
#: card (the review sheet asks about the same ones), emerging terms per stream; a topic
#: carries a term when it holds TERM_TOPIC_ITEMS of the term's evidence items and at least
#: TERM_TOPIC_SHARE of them: the topic is where the term lives, not one of many holding a
#: few items of a phrase spread over the whole store (on the young arXiv CS store, terms
#: such as dLLM, LIBERO or vehicle routing have 0.4-1.0 of their items in one topic;
#: phrasing such as "substrate" or "declarative" at most 0.15; a quarter is 30 times a
#: topic's chance share there; set by looking at that store, not validated elsewhere).
TOPICS_SHOWN = 25
EVIDENCE_SHOWN = 3
TERMS_SHOWN = 20
TERM_TOPIC_ITEMS = 3
TERM_TOPIC_SHARE = 0.25


def emerging_terms(store: Any, run_date: str) -> dict[str, list[dict[str, Any]]]:
    """The run's ranked emerging terms per stream (scanner.terms), best first."""
    from scanner.terms.service import ranked_terms

    out: dict[str, list[dict[str, Any]]] = {}
    for row in ranked_terms(store, run_date):
        out.setdefault(row["stream"], []).append(row)
    return {k: sorted(v, key=lambda r: r["rank"]) for k, v in sorted(out.items())}


def _terms_stage(run: dict[str, Any] | None) -> dict[str, Any]:
    """The run's newest terms stage summary ({} when it ran none)."""
    stages = ((run or {}).get("summary") or {}).get("stages") or []
    return next((st for st in reversed(stages) if st.get("stage") == "terms"), {})


def terms_skipped(run: dict[str, Any] | None) -> dict[str, str]:
    """Streams the run's terms stage did not rank, with the reason."""
    return dict(_terms_stage(run).get("skipped") or {})


def terms_windows(run: dict[str, Any] | None) -> dict[str, str]:
    """Streams the run's terms stage ranked on windows fitted to a short history, with
    the windows it used (scanner.terms.windows)."""
    return dict(_terms_stage(run).get("windows") or {})


def topics_with_terms(terms: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Topics that carry at least one of the run's emerging terms (where it lives)."""
    out = set()
    for rows in terms.values():
        for row in rows:
            total = row.get("evidence_items") or sum(t.get("items", 0)
                                                     for t in row.get("topics") or [])
            out |= {t["topic"] for t in row.get("topics") or []
                    if t.get("items", 0) >= TERM_TOPIC_ITEMS
                    and t.get("items", 0) >= TERM_TOPIC_SHARE * total}
    return out


def panel_state(store: Any) -> dict[str, Any]:
    """What the panel has said so far: the newest field-priority verdict per field (with
    who and when), the newest verdict per topic, and the item-field pairs answered."""
    from scanner.report.review import newest_verdicts

    answered = {v["entity_id"] for v in store.panel_verdicts("item-field")}
    return {"field_priority": newest_verdicts(store, "field-priority"),
            "topics": newest_verdicts(store, "topic-new-field"), "answered_items": answered}


def _signals_meta(run: dict[str, Any] | None) -> dict[str, Any]:
    """The signals stage's period choice, stream coverage and warnings of a run."""
    stages = (run or {}).get("summary", {}).get("stages", [])
    return next((s for s in stages if s.get("stage") == "signals"), {})


def rank_change(row: dict[str, Any]) -> str:
    """A ranked row's move since the previous run: 'new', '=', '+3' (up) or '-2' (down)."""
    if row.get("previous_rank") is None:
        return "new"
    delta = row["previous_rank"] - row["rank"]
    return f"{delta:+d}" if delta else "="
