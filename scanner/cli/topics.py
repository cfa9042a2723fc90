"""`scanner topics update|list|show|history`: topics and their lineage."""

from __future__ import annotations

import json

import click
from rich.markup import escape
from rich.table import Table

from scanner.cli._common import (
    console,
    open_store,
    run_command,
    stage_bars,
    stored_model_in,
)


@click.group()
def topics() -> None:
    """Topics found in the data, with stable ids and lineage."""


@topics.command("update")
@click.option("--date", "run_date", help="Run date YYYY-MM-DD (default today, UTC).")
@click.option("--full", is_flag=True, help="Recluster the whole window now.")
@click.pass_context
def topics_update(ctx: click.Context, run_date: str | None, full: bool) -> None:
    """Update topics over the configured window (what the nightly topics stage does)."""
    from scanner.run import run_date_or_today, topics_stage

    day = run_date_or_today(run_date)
    with stage_bars():
        summary = run_command(ctx, "topics", {"full": full},
                              [lambda run: topics_stage(run, full=full)], day)
    result = summary["stages"][0]
    console.print(f"Topics for {day} ({', '.join(f'{k}: {v}' for k, v in result['modes'].items())}"
                  f"): {result['topics']} topics over {result['items']} items, "
                  f"{result['unassigned']} unassigned, {result['outside_taxonomy']} outside the "
                  f"taxonomy; events {json.dumps(result['events'])}; {result['seconds']} s.")


def _keywords(topic: dict) -> str:
    words = topic.get("keywords") or {}
    parts = [", ".join(words[lang][:6]) for lang in ("en", "zh") if words.get(lang)]
    return escape(" | ".join(parts))


@topics.command("list")
@click.option("--status", "statuses", multiple=True, default=("live",), show_default=True,
              type=click.Choice(["live", "dormant", "died", "merged"]))
@click.option("--outside", is_flag=True, help="Only topics outside the taxonomy.")
@click.option("--limit", type=click.IntRange(1), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def topics_list(ctx: click.Context, statuses: tuple[str, ...], outside: bool, limit: int,
                as_json: bool) -> None:
    """Topics, largest first, with keywords and their best field."""
    with open_store(ctx) as store:
        rows = store.list_topics(stored_model_in(ctx, store), statuses, limit,
                                 outside_only=outside)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        return
    table = Table("id", "size", "status", "best field (share)", "keywords", "since",
                  title=f"{len(rows)} topics ({', '.join(statuses)})")
    for t in rows:
        field = "outside taxonomy" if t["outside_taxonomy"] == 1 else \
            f"{t['best_field']} ({t['best_share']:.0%})" if t["best_field"] else "not scored"
        table.add_row(t["id"], str(t["size"]), t["status"], escape(field), _keywords(t),
                      t["born_run_date"] or "")
    console.print(table)


@topics.command("show")
@click.argument("topic_id")
@click.option("--items", "n_items", type=click.IntRange(0), default=8, show_default=True)
@click.pass_context
def topics_show(ctx: click.Context, topic_id: str, n_items: int) -> None:
    """One topic: keywords, field and pathway affinity, members, series."""
    with open_store(ctx) as store:
        topic = store.topic(topic_id)
        if topic is None:
            raise click.ClickException(f"unknown topic {topic_id!r}; see `scanner topics list`")
        members = store.topic_member_items(topic_id, n_items)
        series = store.topic_series(topic_id)
    console.print(f"[bold]{topic['id']}[/] {escape(topic['label'] or '')} — {topic['status']}, "
                  f"{topic['size']} items, scope {topic['scope']}, model {topic['model']}, "
                  f"born {topic['born_run_date']}, last item {topic['last_item_date']}")
    for lang, what in (("en", "en"), ("zh", "zh"), ("zh_summaries", "zh, from the Chinese "
                                                    "summaries of its English items")):
        words = (topic["keywords"] or {}).get(lang)
        if words:
            console.print(f"keywords ({what}): {escape(', '.join(words))}")
    affinity = sorted((topic["affinity"] or {}).items(), key=lambda kv: -kv[1]["share"])[:5]
    if topic["outside_taxonomy"] == 1:
        console.print("[yellow]outside the taxonomy[/]: no field holds "
                      f"{topic['best_share']:.0%} or more of its members")
    if affinity:
        console.print("fields: " + ", ".join(f"{f} {a['share']:.0%} (mean {a['mean']:.2f})"
                                             for f, a in affinity))
    pathways = sorted((topic["pathway_affinity"] or {}).items(), key=lambda kv: -kv[1])[:5]
    if pathways and pathways[0][1] > 0:
        console.print("pathways: " + ", ".join(f"{p} {v:.2f}" for p, v in pathways if v > 0))
    table = Table("similarity", "date", "lang", "title", "id", title="members nearest the centroid")
    for m in members:
        table.add_row(f"{m['similarity']:.3f}", (m["published"] or "")[:10], m["language"] or "",
                      escape((m["title"] or "")[:90]), escape(m["id"]))
    console.print(table)
    if series:
        periods = sorted({s["period"] for s in series})[-12:]
        counts = {p: sum(s["count"] for s in series if s["period"] == p) for p in periods}
        totals = {p: sum(s["total"] for s in series if s["period"] == p) for p in periods}
        console.print("items per period (share of all): " + ", ".join(
            f"{p} {counts[p]} ({counts[p] / max(totals[p], 1):.1%})" for p in periods))


@topics.command("history")
@click.argument("topic_id")
@click.pass_context
def topics_history(ctx: click.Context, topic_id: str) -> None:
    """A topic's lineage events and size per run."""
    with open_store(ctx) as store:
        if store.topic(topic_id) is None:
            raise click.ClickException(f"unknown topic {topic_id!r}; see `scanner topics list`")
        history = store.topic_history(topic_id)
    table = Table("night", "event", "topic", "other", "detail", title=f"lineage of {topic_id}")
    for e in history["events"]:
        table.add_row(e["run_date"], e["kind"], e["topic_id"], e["other_id"] or "",
                      escape(e["detail"] or ""))
    console.print(table)
    sizes = ", ".join(f"{s['run_date']}: {s['size']}" for s in history["snapshots"][-15:])
    console.print(f"size per night: {sizes or 'none recorded'}")
