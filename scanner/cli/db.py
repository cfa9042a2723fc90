"""`scanner db stats|check|backup|unlock`: the SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from scanner.cli._common import (
    config_of,
    console,
    open_store,
)


@click.group()
def db() -> None:
    """The SQLite store."""


@db.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def db_stats(ctx: click.Context, as_json: bool) -> None:
    """Counts of items, sources, fetches and runs."""
    stats = open_store(ctx).stats()
    if as_json:
        click.echo(json.dumps(stats, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Store {escape(stats['path'])} (schema v{stats['schema_version']})")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("items", str(stats["items"]))
    for group in ("items_by_kind", "items_by_language", "items_by_published_flag",
                  "embeddings_by_model", "fetches_by_status", "runs_by_status"):
        for key, value in stats[group].items():
            table.add_row(f"{group.replace('_', ' ')}: {escape(key)}", str(value))
    table.add_row("sources", str(stats["sources"]))
    console.print(table)


# -- taxonomy -----------------------------------------------------------------------------


@db.command("check")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def db_check(ctx: click.Context, as_json: bool) -> None:
    """Integrity check, schema version and row counts; exit 1 when something is wrong."""
    from scanner.errors import StoreError
    from scanner.store import check_unopenable

    try:
        store = open_store(ctx)
    except StoreError as exc:  # damaged: the store refuses it, so look at the file as is
        path = config_of(ctx).db_path
        found = check_unopenable(path)
        if found == ["ok"]:  # sound SQLite, refused for another reason (not our store)
            raise click.ClickException(str(exc)) from exc
        if as_json:
            click.echo(json.dumps({"path": str(path), "integrity": found, "healthy": False,
                                   "error": str(exc)}, indent=1))
        else:
            console.print(f"{path}: cannot be opened as a store; SQLite's integrity check "
                          f"(read-only) says: {escape('; '.join(found[:5]))}")
        raise click.ClickException("the store is damaged: restore the newest backup (see "
                                   "README, Storage) or move the file away to start an "
                                   "empty store") from exc
    with store:
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
    with open_store(ctx) as store:
        path = store.backup(target)
    console.print(f"backup written to {path} ({path.stat().st_size:,} bytes)")


@db.command("unlock")
@click.pass_context
def db_unlock(ctx: click.Context) -> None:
    """Remove the run lock (only when the run holding it is gone for good)."""
    from scanner.run import RUN_LOCK

    with open_store(ctx) as store:
        removed = store.force_unlock(RUN_LOCK)
    console.print(f"removed the lock of run {removed['owner']} (pid {removed['pid']} on "
                  f"{removed['host']})" if removed else "no lock was held")


