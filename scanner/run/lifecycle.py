"""A run's life: the run lock, the run row opened and always closed, the run date."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import UTC, date, datetime
from typing import Any

from scanner import progress
from scanner.errors import ConfigError
from scanner.run.context import RunContext
from scanner.store import Store, explain_sqlite_error, new_run_id

#: The lock every run that writes results holds for its whole length.
RUN_LOCK = "pipeline"

#: A step of a run: called with the run's context, returns its stage summary.
Step = Callable[[RunContext], dict[str, Any]]


def run_date_or_today(run_date: str | date | None) -> str:
    """The run date as YYYY-MM-DD (today in UTC when None)."""
    if run_date is None:
        return datetime.now(UTC).date().isoformat()
    if isinstance(run_date, date):
        return run_date.isoformat()
    try:
        return date.fromisoformat(run_date).isoformat()
    except ValueError as exc:
        raise ConfigError(f"run date {run_date!r} is not a YYYY-MM-DD date") from exc


def stored_run_date(store: Store, run_date: str | None, fetch: bool) -> tuple[str, str]:
    """(the run date, a note): the given date; else, for a run that does not fetch, the
    newest stored item's date (an imported store is judged where its data end, not a
    year later); else today."""
    if run_date is not None or fetch:
        return run_date_or_today(run_date), ""
    newest = store.newest_item_date()
    if newest is None:
        return run_date_or_today(None), ""
    return newest, f"no --date and no fetch: running for the newest stored item's date {newest}"


def begin_run(store: Store, kind: str, run_date: str, params: dict[str, Any]) -> str:
    """Take the store's run lock, open a run row and return its id.

    Raises RunLockError (nothing written) when another live run holds the lock; a lock
    left by a dead process is taken over, its run row marked failed, and the take-over
    noted in the new run's params.
    """
    run_id = new_run_id(kind, run_date)
    note = store.acquire_lock(RUN_LOCK, run_id)
    try:
        return store.start_run(kind, run_date, {**params, "lock_note": note}, run_id)
    except BaseException:
        store.release_lock(RUN_LOCK, run_id)
        raise


def end_run(store: Store, run_id: str, status: str, summary: dict[str, Any],
            error: str | None = None) -> None:
    """Close a run row with its outcome and give the run lock back."""
    try:
        store.finish_run(run_id, status, summary, error)
    finally:
        store.release_lock(RUN_LOCK, run_id)


def run_steps(ctx: RunContext, kind: str, params: dict[str, Any],
              steps: Sequence[Step]) -> dict[str, Any]:
    """One run: take the lock, call each step with the context, close the run row.

    The row is closed whatever happens, with the stages that finished; a failing step
    marks the run failed with its reason and the exception goes on to the caller.
    """
    run_date = ctx.run_date or run_date_or_today(None)
    ctx.run_date = run_date
    ctx.run_id = begin_run(ctx.store, kind, run_date, params)
    # nobody watching (a deployment's run): progress goes to the log, a line per tenth
    watching = nullcontext() if progress.is_heard() else progress.listening(progress.printer())
    stages: list[dict[str, Any]] = []
    ctx.stages = stages  # the stages finished so far, for a report written inside the run
    summary: dict[str, Any] = {"run_id": ctx.run_id, "run_date": run_date, "stages": stages}
    status, error = "failed", None
    try:
        with watching:
            for step in steps:
                stages.append(step(ctx))
                progress.finish(str(stages[-1].get("stage", "")))
        status = "ok"
    except sqlite3.DatabaseError as exc:
        error = f"{type(exc).__name__}: {explain_sqlite_error(exc, ctx.config.db_path)}"
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        try:
            end_run(ctx.store, ctx.run_id, status, summary, error)
        except sqlite3.DatabaseError:
            if status == "ok":
                raise
            # the store cannot take the failure either (disk full, read-only): the first
            # error goes on; the next run's lock take-over closes this run's row
    return summary
