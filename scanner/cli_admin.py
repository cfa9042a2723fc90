"""`scanner db check|backup|unlock`: the store's health, copies and a stuck lock."""

from __future__ import annotations

import json
from pathlib import Path

import click

from scanner.cli import _store, console, db


@db.command("check")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def db_check(ctx: click.Context, as_json: bool) -> None:
    """Integrity check, schema version and row counts; exit 1 when something is wrong."""
    store = _store(ctx)
    try:
        report = store.check()
    finally:
        store.close()
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
    store = _store(ctx)
    try:
        path = store.backup(target)
    finally:
        store.close()
    console.print(f"backup written to {path} ({path.stat().st_size:,} bytes)")


@db.command("unlock")
@click.pass_context
def db_unlock(ctx: click.Context) -> None:
    """Remove the run lock (only when the run holding it is gone for good)."""
    from scanner.pipeline import RUN_LOCK

    store = _store(ctx)
    try:
        removed = store.force_unlock(RUN_LOCK)
    finally:
        store.close()
    console.print(f"removed the lock of run {removed['owner']} (pid {removed['pid']} on "
                  f"{removed['host']})" if removed else "no lock was held")
