"""The `scanner` command: ad-hoc runs, imports and inspection for analysts.

A root group over one module per command group; each module imports the library and
`scanner.cli._common`, never this file. Errors raised on purpose (scanner.errors) become
one clear line at this edge.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import click

from scanner.cli import (
    assign,
    browse,
    db,
    evaluate,
    ingest,
    models,
    report,
    runs,
    signals,
    taxonomy,
    terms,
    topics,
)
from scanner.errors import ScannerError


class _Group(click.Group):
    """Turns ScannerError into a clear message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ScannerError as exc:
            raise click.ClickException(str(exc)) from exc
        except sqlite3.DatabaseError as exc:  # disk full, read-only, locked, damaged
            from scanner.store import explain_sqlite_error

            obj = ctx.find_root().obj or {}
            path = obj["config"].db_path if "config" in obj else obj.get("db") or "in use"
            raise click.ClickException(explain_sqlite_error(exc, path)) from exc


@click.group(cls=_Group)
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML config file (default: $SCANNER_CONFIG or ./scanner.toml).")
@click.option("--db", type=click.Path(dir_okay=False), help="SQLite database path.")
@click.version_option(package_name="horizon-scanner")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db: str | None) -> None:
    """horizon-scanner: evidence on emerging technology fields for expert panels."""
    ctx.obj = {"config_path": config_path, "db": db}


for command in (
    ingest.sources, ingest.fetch, ingest.import_,
    models.embed, models.models,
    assign.assign, assign.explain_command,
    topics.topics, terms.terms,
    signals.signals_command, signals.rank_command,
    report.report_command, report.review,
    runs.run, runs.rescore_command, runs.backfill_command, runs.serve_command, runs.runs,
    evaluate.evaluate, db.db, browse.browse_command, taxonomy.taxonomy,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="scanner")
