"""`scanner terms` and `scanner evaluate terms`: emerging terms, and their backtest.

Everything shown from items (terms, titles) is escaped for the terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from scanner.cli._common import config_of, console, open_store, parse_maps, run_command
from scanner.cli.evaluate import evaluate


@evaluate.command("terms")
@click.option("--corpus", "corpus", default="arxiv", show_default=True,
              help="arxiv, arxiv-cs, news (shared corpora) or the path of a dump.")
@click.option("--shared", type=click.Path(file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True)
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Map a dump column onto an item field (repeatable), as for import.")
@click.option("--cutoffs", help="Comma-separated cut-off dates, or FIRST..LAST for every "
              "quarter between (default: the protocol's, or every third month back from the "
              "corpus's last; each ranked on the window a nightly run would use there).")
@click.option("--top", type=click.IntRange(1), default=100, show_default=True)
@click.option("--known", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV of term, regex, role (emerging | control): leads and controls.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every cut-off's ranked list as one CSV.")
@click.option("--write", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the tables as Markdown to this file.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.pass_context
def evaluate_terms(ctx: click.Context, corpus: str, shared: Path, maps: tuple[str, ...],
                   cutoffs: str | None, top: int, known: Path | None, out: Path | None,
                   write: Path | None, workers: int) -> None:
    """Are emerging terms flagged early, and do they grow? Against baselines."""
    from scanner.taxonomy import load_taxonomy
    from scanner.terms.corpus import backtest_terms

    config = config_of(ctx)
    taxonomy = load_taxonomy(config.taxonomy_file)
    vocabulary = taxonomy.chinese_terms
    try:
        result = backtest_terms(corpus, shared, config.terms, cutoffs, top,
                                known.read_text(encoding="utf-8") if known else None,
                                parse_maps(maps) or None, workers, say=console.print,
                                vocabulary=vocabulary)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"\n{result['markdown']}\n")
    click.echo(json.dumps(result["summary"], indent=1))
    if out:
        out.write_text(result["csv"], encoding="utf-8")
        console.print(f"ranked lists written to {out}")
    if write:
        write.write_text(f"{result['markdown']}\n\n{json.dumps(result['summary'], indent=1)}\n",
                         encoding="utf-8")
        console.print(f"tables written to {write}")
    console.print(f"{result['seconds']} s")


@click.group(invoke_without_command=True)
@click.option("--field", "field_id", help="Only terms whose items carry this field.")
@click.option("--outside", is_flag=True, help="Only terms outside the taxonomy.")
@click.option("--date", "run_date", help="Run date YYYY-MM-DD (default: the newest ranking).")
@click.option("--stream", type=click.Choice(["paper", "news", "policy"]),
              help="One stream only.")
@click.option("--limit", type=click.IntRange(1), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.pass_context
def terms(ctx: click.Context, field_id: str | None, outside: bool, run_date: str | None,
          stream: str | None, limit: int, as_json: bool, as_csv: bool) -> None:
    """Emerging terms of a run, best first, with their support and fields."""
    if ctx.invoked_subcommand is not None:
        return
    from scanner.report.labels import term_ratio
    from scanner.terms.service import ranked_terms

    with open_store(ctx) as store:
        rows = ranked_terms(store, run_date, stream, field_id, outside)[:limit]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if as_csv:
        import csv
        import sys

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["run_date", "stream", "rank", "term", "score", "share_ratio",
                         "ratio_low", "ratio_high", "active_items", "venues", "best_field",
                         "outside_taxonomy"])
        for r in rows:
            writer.writerow([r["run_date"], r["stream"], r["rank"], r["term"], r["score"],
                             r["share_ratio"], r["ratio_low"], r["ratio_high"],
                             r["active_items"], r["venues"], r.get("best_field") or "",
                             int(bool(r.get("outside_taxonomy")))])
        return
    if not rows:
        console.print("No ranked terms: run `scanner terms update` (or the nightly flow).")
        return
    table = Table("stream", "rank", "term", "score", "share ratio (90% interval)", "items",
                  "venues", "field (share)", "evidence",
                  title=f"Emerging terms, {rows[0]['run_date']}")
    for r in rows:
        field = "outside taxonomy" if r.get("outside_taxonomy") else \
            f"{r['best_field']} ({r['best_field_share']:.0%})"
        evidence = r["evidence"][0]["title"][:50] if r.get("evidence") else ""
        table.add_row(r["stream"], str(r["rank"]), escape(r["term"]), f"{r['score']:.2f}",
                      term_ratio(r, "en", prefix=""), str(r["active_items"]),
                      str(r["venues"]), escape(field), escape(evidence))
    console.print(table)


@terms.command("update")
@click.option("--date", "run_date", help="Run date YYYY-MM-DD (default today, UTC).")
@click.option("--rebuild", is_flag=True, help="Count every stored item again (a rescore).")
@click.pass_context
def terms_update(ctx: click.Context, run_date: str | None, rebuild: bool) -> None:
    """Count new items' terms and rank emerging terms (what the nightly terms stage does)."""
    from scanner.run import run_date_or_today, terms_stage

    day = run_date_or_today(run_date)
    summary = run_command(ctx, "terms", {"rebuild": rebuild},
                          [lambda run: terms_stage(run, rebuild)], day)
    result = summary["stages"][0]
    skipped = "; ".join(f"{k}: {v}" for k, v in result["skipped"].items())
    console.print(f"Terms for {day}: {result['counted']} items counted"
                  f"{' (rebuilt)' if rebuild else ''}; ranked "
                  f"{json.dumps(result['ranked'])}{'; skipped ' + skipped if skipped else ''}; "
                  f"{result['seconds']} s.")
