"""`scanner signals` and `scanner rank`: indicators and ranked lists with their reasons.

Everything shown from items is escaped for the terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from scanner.backtest import PROTOCOLS
from scanner.cli import _config, _store, cli, console, evaluate
from scanner.report import rank_change
from scanner.signals import LISTS


@cli.command("signals")
@click.option("--date", "run_date", help="Run date YYYY-MM-DD (default: compute for today).")
@click.option("--field", "field_id", help="Show one field with its pathways.")
@click.option("--compute", is_flag=True, help="Compute signals for the date first.")
@click.pass_context
def signals_command(ctx: click.Context, run_date: str | None, field_id: str | None,
                    compute: bool) -> None:
    """Indicators of the fields (or one field and its pathways), with explanations."""
    from scanner.pipeline import run_date_or_today, signals_stage

    config = _config(ctx)
    if compute or (run_date is None and not field_id):
        run_date = run_date_or_today(run_date)
        signals_stage(config, "cli", run_date)
    with _store(ctx) as store:
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
                          escape(p["explanation"][:120]))
        console.print(table)


@cli.command("rank")
@click.option("--list", "list_name", type=click.Choice(LISTS), default="fields",
              show_default=True)
@click.option("--date", "run_date", help="A past run date (default: the newest).")
@click.option("--limit", type=click.IntRange(1), default=25, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def rank_command(ctx: click.Context, list_name: str, run_date: str | None, limit: int,
                 as_json: bool) -> None:
    """A stored ranked list with rank changes and the reason for each rank."""
    with _store(ctx) as store:
        rows = store.ranked(list_name, run_date, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        raise click.ClickException("no signals stored yet: run `scanner run` or "
                                   "`scanner signals --compute`")
    table = Table("rank", "change", "id", "score", "growth", "novelty", "coherence", "impact",
                  "confidence", "why",
                  title=f"{list_name} on {rows[0]['run_date']}")
    for r in rows:
        s = r["subscores"]
        label = r["indicators"].get("label") or r["indicators"].get("name_en") or ""
        table.add_row(str(r["rank"]), rank_change(r), escape(f"{r['entity_id']} {label}"[:40]),
                      f"{r['score']:.3f}", f"{s['growth']:.2f}", f"{s['novelty']:.2f}",
                      f"{s['coherence']:.2f}", f"{s['impact']:.2f}", f"{s['confidence']:.2f}",
                      escape(r["explanation"][:90]))
    console.print(table)


@evaluate.command("backtest")
@click.option("--corpus", "corpus_name", type=click.Choice(sorted(PROTOCOLS)), default="arxiv",
              show_default=True)
@click.option("--shared", type=click.Path(file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True)
@click.option("--sample", type=click.IntRange(1000), default=100_000, show_default=True,
              help="Random sample of the corpus (fixed seed).")
@click.option("--cutoffs", help="Comma-separated cut-off dates (default: the protocol's).")
@click.option("--model", help="Embedding model (default: the config's).")
@click.option("--periods", type=click.IntRange(5), default=8, show_default=True)
@click.option("--seed", type=int, default=20100101, show_default=True)
@click.option("--write", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the table as Markdown to this file.")
@click.pass_context
def evaluate_backtest(ctx: click.Context, corpus_name: str, shared: Path, sample: int,
                      cutoffs: str | None, model: str | None, periods: int, seed: int,
                      write: Path | None) -> None:
    """Does the emergence ranking predict which topics grow? Against baselines."""
    from dataclasses import replace

    from scanner.pipeline import backtest_run

    config = _config(ctx)
    config = replace(config, model=model or config.model)
    with _store(ctx) as store:
        _, table = backtest_run(config, store, corpus_name, str(shared), sample, cutoffs,
                                periods, seed, say=console.print)
    click.echo(f"\n{table}")
    if write:
        write.write_text(f"{table}\n", encoding="utf-8")
        console.print(f"written to {write}")
