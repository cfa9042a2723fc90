"""`scanner report` and `scanner review`: the panel report and the panel's answers."""

from __future__ import annotations

from pathlib import Path

import click

from scanner.cli import _config, _get_run, _store, cli, console


@cli.command("report")
@click.option("--date", "run_date", help="Run date with stored signals (default: newest).")
@click.option("--run", "run_id", help="A run id (see `scanner runs list`): its date's report.")
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="both",
              show_default=True)
@click.pass_context
def report_command(ctx: click.Context, run_date: str | None, run_id: str | None,
                   lang: str) -> None:
    """Write HTML, Markdown, JSON and CSV into <report_dir>/<date>/ and update `latest`."""
    from scanner.pipeline import report_stage

    config = _config(ctx)
    if run_id:
        run_date = _get_run(ctx, run_id)["run_date"]
    result = report_stage(config, "cli", run_date, lang)
    console.print(f"Report written to {result['folder']} ({result['fields']} fields, "
                  f"{result['watchlist']} watchlist topics).")


@cli.group()
def review() -> None:
    """The panel's verdicts: import the filled review sheet, add one, export all."""


@review.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--report-date", help="The report the sheet answers.")
@click.pass_context
def review_import(ctx: click.Context, path: Path, report_date: str | None) -> None:
    """Import a filled-in review.csv (all rows are checked before any is stored)."""
    from scanner.review import import_sheet

    with _store(ctx) as store:
        result = import_sheet(store, path, report_date)
    console.print(f"{result.added} verdicts added, {result.changed} changed (kept as new "
                  f"rows; the earlier ones stay), {result.duplicates} duplicates skipped, "
                  f"{result.blank} rows without a verdict.")


@review.command("add")
@click.option("--kind", type=click.Choice(["item-field", "topic-new-field", "field-priority"]),
              required=True)
@click.option("--entity", "entity_id", required=True, help="Field id or topic id.")
@click.option("--item", "item_id", default="", help="Item id (item-field verdicts).")
@click.option("--verdict", required=True)
@click.option("--reviewer", required=True)
@click.option("--note", default="")
@click.pass_context
def review_add(ctx: click.Context, kind: str, entity_id: str, item_id: str, verdict: str,
               reviewer: str, note: str) -> None:
    """Add one verdict."""
    from scanner.errors import ConfigError
    from scanner.review import add_verdict, check_verdict

    row = {"kind": kind, "entity_id": entity_id, "item_id": item_id, "verdict": verdict,
           "reviewer": reviewer, "note": note}
    problem = check_verdict(row, "verdict")
    if problem:
        raise ConfigError(problem)
    with _store(ctx) as store:
        outcome = add_verdict(store, row)
    console.print(f"verdict {outcome}.")


@review.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def review_export(ctx: click.Context, out: Path | None) -> None:
    """Every panel verdict as CSV (stdout or --out)."""
    from scanner.review import export_sheet

    with _store(ctx) as store:
        text = export_sheet(store)
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"written to {out}")
    else:
        click.echo(text, nl=False)


@review.command("draft")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("data/taxonomy/drafts"), show_default=True)
@click.pass_context
def review_draft(ctx: click.Context, out_dir: Path) -> None:
    """Write a draft taxonomy version with the accepted topics as proposed fields."""
    from datetime import UTC, datetime

    from scanner.review import accepted_topics, draft_taxonomy
    from scanner.taxonomy import load_taxonomy

    config = _config(ctx)
    with _store(ctx) as store:
        topics = [t for t in (store.topic(i) for i in accepted_topics(store)) if t]
    if not topics:
        raise click.ClickException("no topic has been accepted as a new field")
    path = draft_taxonomy(Path(config.taxonomy_file), topics,
                          load_taxonomy(config.taxonomy_file), out_dir,
                          datetime.now(UTC).date().isoformat())
    console.print(f"draft taxonomy with {len(topics)} proposed field(s): {path}")


@cli.command("explain")
@click.argument("item_id")
@click.option("--top", type=click.IntRange(1, 23), default=3, show_default=True,
              help="Fields to show, best score first.")
@click.pass_context
def explain_command(ctx: click.Context, item_id: str, top: int) -> None:
    """Why an item got its fields: scores, nearest prototypes, keywords, pathways."""
    from rich.markup import escape

    from scanner.taxonomy import load_taxonomy, taxonomy_key

    config = _config(ctx)
    key = taxonomy_key(load_taxonomy(config.taxonomy_file))
    with _store(ctx) as store:
        item = store.item(item_id)
        row = store.assignment(item_id, key, config.model)
    if item is None:
        raise click.ClickException(f"no item {item_id!r}")
    if row is None:
        raise click.ClickException(f"item {item_id} has no assignment under taxonomy {key} and "
                                   f"model {config.model}: run `scanner assign`")
    console.print(f"[bold]{escape(item['title'] or '')}[/] ({escape(item['source_id'])}, "
                  f"{(item['published'] or '')[:10]})")
    console.print(f"fields: {', '.join(row['fields']) or 'none'} (taxonomy {key}, "
                  f"{row['method']})")
    for field_id, score in sorted(row["scores"].items(), key=lambda kv: -kv[1])[:top]:
        evidence = row["evidence"].get(field_id, {})
        chosen = "assigned" if field_id in row["fields"] else "not assigned"
        console.print(f"\n[bold]{field_id}[/] p={score:.2f} ({chosen}); similarity "
                      f"{evidence.get('similarity', '-')}")
        for part in ("prototypes", "keywords_title", "keywords_headline", "keywords_body"):
            if evidence.get(part):
                words = "; ".join(escape(str(w)) for w in evidence[part])
                console.print(f"  {part.replace('_', ' ')}: {words}")
        pathways = row["pathways"].get(field_id) or {}
        if pathways:
            best = sorted(pathways.items(), key=lambda kv: -kv[1])[:3]
            console.print("  pathways: " + ", ".join(f"{p} {s:.2f}" for p, s in best))
