"""`scanner signals` and `scanner rank`: indicators and ranked lists with their reasons.

Everything shown from items is escaped for the terminal.
"""

from __future__ import annotations

import json

import click
from rich.markup import escape
from rich.table import Table

from scanner.cli._common import (
    console,
    open_store,
    quiet_progress,
    run_command,
)
from scanner.report import rank_change
from scanner.signals import LISTS


@click.command("signals")
@click.option("--date", "run_date", help="Run date YYYY-MM-DD (default: compute for today).")
@click.option("--field", "field_id", help="Show one field with its pathways.")
@click.option("--compute", is_flag=True, help="Compute signals for the date first.")
@click.pass_context
def signals_command(ctx: click.Context, run_date: str | None, field_id: str | None,
                    compute: bool) -> None:
    """Indicators of the fields (or one field and its pathways), with explanations."""
    from scanner.run import run_date_or_today, signals_stage

    if field_id:
        _known_field(ctx, field_id)
    if compute or (run_date is None and not field_id):
        run_date = run_date_or_today(run_date)
        with quiet_progress():
            run_command(ctx, "signals", {}, [signals_stage], run_date)
    with open_store(ctx) as store:
        rows = store.ranked("fields", run_date, entity_id=field_id, limit=100)
        if field_id and not rows:
            raise click.ClickException(f"no signals for field {field_id!r}; run `scanner "
                                       "signals --compute` or check `scanner taxonomy show`")
        pathways = store.ranked("pathways", run_date, parent_id=field_id, limit=100) \
            if field_id else []
    for row in rows:
        ind = row["indicators"]
        console.print(f"[bold]#{row['rank']} {escape(row['entity_id'])}[/] "
                      f"({escape(ind.get('name_en', ''))} / {escape(ind.get('name_zh', ''))}) "
                      f"score {row['score']:.3f} [{rank_change(row)}]; "
                      f"tier {ind.get('tier') or '-'}, "
                      f"evidence stage {ind.get('stage') or '-'} "
                      f"({ind.get('stage_vs_tier') or 'no tier'})")
        console.print(f"  {escape(row['explanation'])}")
        if field_id:
            console.print(f"  share per period: {ind['series']} over {ind['periods']}")
            console.print(f"  evidence mix {json.dumps(ind['evidence_mix'])}, maturity cues "
                          f"{json.dumps(ind['maturity_cues'])}")
            for item in ind.get("top_evidence", []):
                console.print(f"  - {item['date']} [{escape(item['source'] or '')}] "
                              f"{escape(item['title'] or '')} {escape(item['url'] or '')}")
    if pathways:
        table = Table("rank", "change", "pathway", "score", "share x", "items", "why",
                      title=f"pathways of {field_id}")
        for p in pathways:
            table.add_row(str(p["rank"]), rank_change(p), escape(p["entity_id"]),
                          f"{p['score']:.3f}",
                          f"{p['indicators']['growth']:.2f}", f"{p['support']:.0f}",
                          escape(p["explanation"]))
        console.print(table)


def _known_field(ctx: click.Context, field_id: str) -> None:
    """Refuse a field id the taxonomy does not have, naming the nearest ones."""
    from difflib import get_close_matches

    from scanner.cli._common import config_of
    from scanner.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(config_of(ctx).taxonomy_file)
    if field_id in taxonomy.fields:
        return
    near = get_close_matches(field_id, list(taxonomy.fields), n=3, cutoff=0.4) or [
        f for f in taxonomy.fields if field_id.lower() in f]
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise click.ClickException(f"unknown field {field_id!r}{hint} (all ids: `scanner "
                               "taxonomy show`)")


@click.command("rank")
@click.option("--list", "list_name", type=click.Choice(LISTS), default="fields",
              show_default=True)
@click.option("--date", "run_date", help="A past run date (default: the newest).")
@click.option("--limit", type=click.IntRange(1), default=25, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def rank_command(ctx: click.Context, list_name: str, run_date: str | None, limit: int,
                 as_json: bool) -> None:
    """A stored ranked list with rank changes and the reason for each rank."""
    with open_store(ctx) as store:
        rows = store.ranked(list_name, run_date, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        raise click.ClickException("no signals stored yet: run `scanner run` or "
                                   "`scanner signals --compute`")
    from scanner.report.reasons import reason

    # every column wraps rather than cutting: the reason is read whole
    table = Table("rank", "±", title=f"{list_name} on {rows[0]['run_date']}", expand=True,
                  caption="g n c i t f: the growth, novelty, coherence, impact, emerging "
                          "terms and confidence sub-scores")
    table.add_column("id", ratio=2, overflow="fold")
    table.add_column("score (g n c i t f)", ratio=2, overflow="fold")
    table.add_column("why", ratio=5, overflow="fold")
    for r in rows:
        s = r["subscores"]
        label = r["indicators"].get("label") or r["indicators"].get("name_en") or ""
        subs = " ".join(f"{s[k]:.2f}" if k in s else "–"
                        for k in ("growth", "novelty", "coherence", "impact", "terms",
                                  "confidence"))
        table.add_row(str(r["rank"]), rank_change(r), escape(f"{r['entity_id']} {label}"),
                      f"{r['score']:.3f} ({subs})", escape(reason(r, {}, "en")))
    console.print(table)


