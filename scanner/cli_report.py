"""`scanner report`: write the panel report of a run date in every format."""

from __future__ import annotations

import click

from scanner.cli import _config, cli, console


@cli.command("report")
@click.option("--date", "run_date", help="Run date with stored signals (default: newest).")
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="both",
              show_default=True)
@click.pass_context
def report_command(ctx: click.Context, run_date: str | None, lang: str) -> None:
    """Write HTML, Markdown, JSON and CSV into <report_dir>/<date>/ and update `latest`."""
    from scanner.pipeline import report_stage

    config = _config(ctx)
    result = report_stage(config, "cli", run_date, lang)
    console.print(f"Report written to {result['folder']} ({result['fields']} fields, "
                  f"{result['watchlist']} watchlist topics).")
