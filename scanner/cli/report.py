"""`scanner report` and `scanner review import|add|export|draft`: the report and verdicts."""

from __future__ import annotations

from pathlib import Path

import click

from scanner.cli._common import (
    config_of,
    console,
    context_of,
    get_run,
    open_store,
)


@click.command("report")
@click.option("--date", "run_date", help="Run date with stored signals (default: newest).")
@click.option("--run", "run_id", help="A run id (see `scanner runs list`): its date's report.")
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="both",
              show_default=True)
@click.option("--pdf", is_flag=True,
              help="Also print report.pdf through headless Chromium (when installed).")
@click.pass_context
def report_command(ctx: click.Context, run_date: str | None, run_id: str | None,
                   lang: str, pdf: bool) -> None:
    """Write HTML, Markdown, JSON and CSV into <report_dir>/<date>/ and update `latest`."""
    from scanner.report.render import find_browser, write_pdf
    from scanner.run import report_stage

    if pdf and find_browser() is None:  # said before any work, not after
        raise click.ClickException(
            "--pdf needs headless Chromium and none is installed (Debian: apt-get install "
            "chromium fonts-noto-cjk); run without --pdf for HTML, Markdown, JSON and CSV")
    if run_id:
        run_date = get_run(ctx, run_id)["run_date"]
    with context_of(ctx, run_date) as run:  # writes files only: no run lock
        result = report_stage(run, lang)
    console.print(f"Report written to {result['folder']} ({result['fields']} fields, "
                  f"{result['watchlist']} watchlist topics).")
    if pdf:
        path = write_pdf(Path(result["folder"]) / "report.html")
        console.print(f"PDF written to {path} ({_pdf_pages(path)} pages).")


def _pdf_pages(path: Path) -> int:
    """Pages of a PDF, counted from its page objects."""
    import re

    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


@click.group()
def review() -> None:
    """The panel's verdicts: import the filled review sheet, add one, export all."""


def _field_ids(ctx: click.Context) -> list[str]:
    """Every field id of the configured taxonomy (retired ones too: old verdicts name them)."""
    from scanner.taxonomy import load_taxonomy

    return list(load_taxonomy(config_of(ctx).taxonomy_file).fields)


@review.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--report-date", help="The report the sheet answers.")
@click.pass_context
def review_import(ctx: click.Context, path: Path, report_date: str | None) -> None:
    """Import a filled-in review.csv (all rows are checked before any is stored)."""
    from scanner.report.review import import_sheet

    with open_store(ctx) as store:
        result = import_sheet(store, path, report_date, _field_ids(ctx))
    if result.encoding != "utf-8":
        console.print(f"{path} read as {result.encoding.upper()} (a GBK sheet, as Excel on "
                      "Chinese Windows saves it), not UTF-8.")
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
    from scanner.report.review import add_verdict, check_known, check_verdict

    row = {"kind": kind, "entity_id": entity_id, "item_id": item_id, "verdict": verdict,
           "reviewer": reviewer, "note": note}
    problem = check_verdict(row, "verdict")
    if problem:
        raise ConfigError(problem)
    with open_store(ctx) as store:
        problem = check_known(store, row, "verdict", _field_ids(ctx))
        if problem:
            raise ConfigError(problem)
        outcome = add_verdict(store, row)
    console.print(f"verdict {outcome}.")


@review.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def review_export(ctx: click.Context, out: Path | None) -> None:
    """Every panel verdict as CSV (stdout or --out)."""
    from scanner.report.review import export_sheet

    with open_store(ctx) as store:
        text = export_sheet(store)
    if out:  # with a BOM, as the report's CSVs: Excel reads it as UTF-8
        out.write_text(text, encoding="utf-8-sig")
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

    from scanner.report.review import accepted_topics, draft_taxonomy
    from scanner.taxonomy import load_taxonomy

    config = config_of(ctx)
    with open_store(ctx) as store:
        topics = [t for t in (store.topic(i) for i in accepted_topics(store)) if t]
    if not topics:
        raise click.ClickException("no topic has been accepted as a new field")
    path = draft_taxonomy(Path(config.taxonomy_file), topics,
                          load_taxonomy(config.taxonomy_file), out_dir,
                          datetime.now(UTC).date().isoformat())
    console.print(f"draft taxonomy with {len(topics)} proposed field(s): {path}")


