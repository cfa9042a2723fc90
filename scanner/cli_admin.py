"""Operations: `scanner db check|backup|unlock`, `serve`, `rescore`, `backfill`, `runs`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from scanner.cli import _config, _get_run, _store, cli, console, dask_option, db


@db.command("check")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def db_check(ctx: click.Context, as_json: bool) -> None:
    """Integrity check, schema version and row counts; exit 1 when something is wrong."""
    with _store(ctx) as store:
        report = store.check()
    healthy = report["integrity"] == ["ok"] and report["foreign_key_problems"] == 0 and \
        report["schema_version"] == report["schema_expected"]
    if as_json:
        click.echo(json.dumps({**report, "healthy": healthy}, indent=1))
    else:
        console.print(f"{report['path']}: integrity {', '.join(report['integrity'][:5])}; "
                      f"schema {report['schema_version']} (expected "
                      f"{report['schema_expected']}); foreign-key problems "
                      f"{report['foreign_key_problems']}")
        console.print(", ".join(f"{t} {n}" for t, n in report["tables"].items()))
    if not healthy:
        raise click.ClickException("the store is not healthy: restore the newest backup "
                                   "(see README, Storage) or rebuild it")


@db.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def db_backup(ctx: click.Context, target: Path) -> None:
    """A consistent copy of the live store (safe while a run writes)."""
    with _store(ctx) as store:
        path = store.backup(target)
    console.print(f"backup written to {path} ({path.stat().st_size:,} bytes)")


@db.command("unlock")
@click.pass_context
def db_unlock(ctx: click.Context) -> None:
    """Remove the run lock (only when the run holding it is gone for good)."""
    from scanner.pipeline import RUN_LOCK

    with _store(ctx) as store:
        removed = store.force_unlock(RUN_LOCK)
    console.print(f"removed the lock of run {removed['owner']} (pid {removed['pid']} on "
                  f"{removed['host']})" if removed else "no lock was held")


@cli.command("serve")
@click.pass_context
def serve_command(ctx: click.Context) -> None:
    """Serve the deployments (nightly at 02:00 Asia/Shanghai) from this process."""
    from flows.deployments import NIGHTLY_CRON, TIMEZONE, serve

    console.print(f"Serving nightly ({NIGHTLY_CRON}, {TIMEZONE}), rescore and backfill; "
                  "Ctrl-C stops.")
    config = _config(ctx)  # fail here on a bad config, not at 02:00
    # absolute paths: a deployment's parameters outlive this working directory
    serve(_config_path(config), str(Path(config.db_path).resolve()))


@cli.command("rescore")
@click.option("--date", "run_date", help="Run date YYYY-MM-DD (default today, UTC).")
@click.option("--run", "run_id", help="Rescore the date of this run (see `scanner runs list`).")
@dask_option
@click.pass_context
def rescore_command(ctx: click.Context, run_date: str | None, run_id: str | None) -> None:
    """Recompute assignments, topics (full), signals and the report from stored items."""
    from flows.batch import rescore
    from scanner.cli import _flow_on_runner, _print_run_summary

    config = _config(ctx)
    if run_id:
        run_date = _get_run(ctx, run_id)["run_date"]
    summary = _flow_on_runner(rescore, config)(
        run_date=run_date, config_path=_config_path(config),
        db_path=str(Path(config.db_path).resolve()), dask=config.dask or None)
    _print_run_summary(summary)


@cli.command("backfill")
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
    from scanner.cli import _flow_on_runner, _print_run_summary

    if (path is None) == (date_from is None and date_to is None) or \
            (path is None and not (date_from and date_to)):
        raise click.UsageError("give a dump PATH, or --from and --to (not both)")
    config = _config(ctx)
    ids = [s.strip() for s in source_ids.split(",") if s.strip()] if source_ids else None
    summary = _flow_on_runner(backfill, config)(
        path=str(Path(path).resolve()) if path else None, chunk_rows=chunk_rows,
        config_path=_config_path(config), db_path=str(Path(config.db_path).resolve()),
        dask=config.dask or None, date_from=date_from, date_to=date_to, sources=ids)
    _print_run_summary(summary)


def _config_path(config: Any) -> str | None:
    return str(config.config_file) if config.config_file else None


@cli.group()
def runs() -> None:
    """Past runs: list them, show one."""


@runs.command("list")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.pass_context
def runs_list(ctx: click.Context, limit: int) -> None:
    """The newest runs with their status and time per stage."""
    from rich.table import Table

    with _store(ctx) as store:
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
    click.echo(json.dumps(_get_run(ctx, run_id), indent=1, ensure_ascii=False))
