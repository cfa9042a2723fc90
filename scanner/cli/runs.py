"""`scanner run`, `rescore`, `backfill`, `serve`, `runs list|show`: whole runs via the flows."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from scanner.cli._common import (
    chosen_sources,
    config_of,
    config_path_of,
    console,
    dask_option,
    flow_on_runner,
    get_run,
    open_store,
    print_run_summary,
)


@click.command()
@click.option("--date", "run_date", help="Run date YYYY-MM-DD (default today, UTC).")
@click.option("--since", "since", help="Also run every night from this date up to --date, "
              "oldest first (catch-up); only the first night fetches.")
@click.option("--sources", "source_ids", help="Comma-separated source ids to pull.")
@click.option("--field", "field_id", help="Pull only the arXiv searches built for this field.")
@click.option("--no-fetch", is_flag=True, help="Skip fetching; work on stored items.")
@dask_option
@click.pass_context
def run(ctx: click.Context, run_date: str | None, since: str | None, source_ids: str | None,
        field_id: str | None, no_fetch: bool) -> None:
    """Run the nightly flow once, now (through Prefect, offline), or for every night since
    a date."""
    from scanner.run import run_date_or_today, stored_run_date

    config = config_of(ctx)
    ids = [s.strip() for s in source_ids.split(",") if s.strip()] if source_ids else None
    chosen = chosen_sources(config, ids)  # fail fast on unknown ids
    if field_id:
        ids = [s.id for s in chosen if s.field == field_id]
        if not ids:
            raise click.ClickException(f"no enabled source searches field {field_id!r}; "
                                       "see `scanner sources list`")
    with open_store(ctx) as store:
        day, note = stored_run_date(store, run_date, not no_fetch)
    if note:
        console.print(note)
    nights = _nights(run_date_or_today(since), day) if since else [day]
    from flows.nightly import nightly

    flow_run = flow_on_runner(nightly, config)
    for number, night in enumerate(nights):
        console.print(f"Nightly run for {night} ({number + 1} of {len(nights)}; Prefect, "
                      "offline; the local server takes a moment)")
        summary = flow_run(
            run_date=night, sources=ids, fetch=not no_fetch and number == 0,
            config_path=str(config.config_file) if config.config_file else None,
            db_path=str(Path(config.db_path).resolve()), dask=config.dask or None)
        print_run_summary(summary)


def _nights(first: str, last: str) -> list[str]:
    """Every date from first to last, inclusive."""
    from datetime import date, timedelta

    start, end = date.fromisoformat(first), date.fromisoformat(last)
    if start > end:
        raise click.BadParameter(f"--since {first} is after the run date {last}")
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


@click.command("serve")
@click.pass_context
def serve_command(ctx: click.Context) -> None:
    """Serve the deployments (nightly at 02:00 Asia/Shanghai) from this process."""
    from flows.deployments import NIGHTLY_CRON, TIMEZONE, serve

    console.print(f"Serving nightly ({NIGHTLY_CRON}, {TIMEZONE}), rescore and backfill; "
                  "Ctrl-C stops.")
    config = config_of(ctx)  # fail here on a bad config, not at 02:00
    # absolute paths: a deployment's parameters outlive this working directory
    serve(config_path_of(config), str(Path(config.db_path).resolve()))


@click.command("rescore")
@click.option("--date", "run_date", help="Run date YYYY-MM-DD (default today, UTC).")
@click.option("--run", "run_id", help="Rescore the date of this run (see `scanner runs list`).")
@dask_option
@click.pass_context
def rescore_command(ctx: click.Context, run_date: str | None, run_id: str | None) -> None:
    """Recompute assignments, topics (full), signals and the report from stored items."""
    from flows.batch import rescore
    from scanner.cli._common import flow_on_runner, print_run_summary

    config = config_of(ctx)
    if run_id:
        run_date = get_run(ctx, run_id)["run_date"]
    summary = flow_on_runner(rescore, config)(
        run_date=run_date, config_path=config_path_of(config),
        db_path=str(Path(config.db_path).resolve()), dask=config.dask or None)
    print_run_summary(summary)


@click.command("backfill")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--from", "date_from", help="With --to instead of PATH: fetch the arXiv API "
              "sources' submissions of this date range (YYYY-MM-DD).")
@click.option("--to", "date_to", help="Last day of the range, inclusive.")
@click.option("--sources", "source_ids", help="Comma-separated arXiv API source ids "
              "(default: every enabled one).")
@click.option("--chunk-rows", type=click.IntRange(100), default=20_000, show_default=True)
@dask_option
@click.pass_context
def backfill_command(ctx: click.Context, path: str | None, date_from: str | None,
                     date_to: str | None, source_ids: str | None, chunk_rows: int) -> None:
    """Import a dump in chunks (resumable), or fetch a date range from the arXiv API;
    embedding as it goes, then assign."""
    from flows.batch import backfill
    from scanner.cli._common import flow_on_runner, print_run_summary

    if (path is None) == (date_from is None and date_to is None) or \
            (path is None and not (date_from and date_to)):
        raise click.UsageError("give a dump PATH, or --from and --to (not both)")
    config = config_of(ctx)
    ids = [s.strip() for s in source_ids.split(",") if s.strip()] if source_ids else None
    summary = flow_on_runner(backfill, config)(
        path=str(Path(path).resolve()) if path else None, chunk_rows=chunk_rows,
        config_path=config_path_of(config), db_path=str(Path(config.db_path).resolve()),
        dask=config.dask or None, date_from=date_from, date_to=date_to, sources=ids)
    print_run_summary(summary)


@click.group()
def runs() -> None:
    """Past runs: list them, show one."""


@runs.command("list")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.pass_context
def runs_list(ctx: click.Context, limit: int) -> None:
    """The newest runs with their status and time per stage."""

    with open_store(ctx) as store:
        rows = store.recent_runs(limit)
    table = Table("id", "kind", "date", "status", "started", "stages (s)", "error",
                  title=f"{len(rows)} runs")
    for r in rows:
        stages = ", ".join(f"{s['stage']} {s.get('seconds', '')}"
                           for s in r["summary"].get("stages", []))
        table.add_row(r["id"], r["kind"], r["run_date"], r["status"], r["started_at"] or "",
                      stages, escape((r["error"] or "")[:60]))
    console.print(table)


@runs.command("show")
@click.argument("run_id")
@click.pass_context
def runs_show(ctx: click.Context, run_id: str) -> None:
    """One run: parameters, stages with their figures, error."""
    click.echo(json.dumps(get_run(ctx, run_id), indent=1, ensure_ascii=False))
