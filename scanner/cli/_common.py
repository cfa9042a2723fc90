"""What every command module shares: the console, the config, store and run context of
the invocation, the Dask option, live stage bars and the run summary. Imports no
command module."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scanner.config import Config, load_config
from scanner.run import RunContext, run_steps
from scanner.run.lifecycle import Step
from scanner.store import Store

console = Console(highlight=False)


def config_of(ctx: click.Context) -> Config:
    obj = ctx.find_root().obj
    if "config" not in obj:
        obj["config"] = load_config(obj["config_path"], {"db_path": obj["db"],
                                                         "dask": obj.get("dask")})
    return obj["config"]


def dask_option(command: Any) -> Any:
    """--dask ADDRESS: run batch stages on Dask (overrides the config's `dask`)."""
    def remember(ctx: click.Context, _param: Any, value: str | None) -> str | None:
        if value is not None:
            ctx.find_root().obj["dask"] = value
        return value

    return click.option("--dask", help="Embed on Dask: 'local[:N]' or a scheduler address "
                        "(needs a running Prefect server; docs/scaling.md).",
                        callback=remember, expose_value=False, is_eager=True)(command)


def flow_on_runner(flow_object: Any, config: Config) -> Any:
    """The flow (on Dask when configured), called with live bars for its stages."""
    from flows.scale import on_runner

    runnable = on_runner(flow_object, config.dask)

    def call(**parameters: Any) -> Any:
        with stage_bars(transient=False):  # the bars stay above the run's summary
            return runnable(**parameters)

    return call


class StageBars:
    """A rich bar per stage of a run, fed by scanner.progress reports."""

    def __init__(self, bars: Progress) -> None:
        self.bars = bars
        self.tasks: dict[str, Any] = {}

    def __call__(self, step: Any) -> None:
        task = self.tasks.get(step.stage)
        if task is None:
            task = self.tasks[step.stage] = self.bars.add_task(step.stage, total=step.total,
                                                               count="")
        if step.finished:
            shown = self.bars.tasks[task]
            end = shown.total if shown.total is not None else max(shown.completed, 1)
            count = shown.fields.get("count") or "done"  # a stage with nothing counted
            self.bars.update(task, total=end, completed=end, count=count)
        else:
            count = f"{step.done:,}/{step.total:,}" if step.total else \
                (f"{step.done:,}" if step.done else "")
            self.bars.update(task, completed=step.done, total=step.total, count=count)


def open_store(ctx: click.Context) -> Store:
    """The configured store (for commands that only read, or write one verdict)."""
    return Store(config_of(ctx).db_path)


def stored_model_in(ctx: click.Context, store: Store) -> str:
    """What the configured model's rows are stored under in this store (its backend
    settled against the store's vectors, as a run settles it)."""
    from scanner.embed.registry import settle_backend, stored_model

    config = config_of(ctx)
    return stored_model(settle_backend(config, store.has_embeddings, str(config.db_path)))


def context_of(ctx: click.Context, run_date: str | None = None) -> RunContext:
    """A run context over the invocation's config: what a command hands to the library."""
    return RunContext(config_of(ctx), run_date)


def run_command(ctx: click.Context, kind: str, params: dict[str, Any],
                steps: Sequence[Step], run_date: str | None = None) -> dict[str, Any]:
    """Run a command's steps the way the flows do: the run lock (refused, holder named,
    before anything is written, while another run writes), a run row closed whatever
    happens, one context for every step."""
    with context_of(ctx, run_date) as run:
        return run_steps(run, kind, params, steps)


@contextmanager
def quiet_progress() -> Iterator[None]:
    """Stage reports go nowhere: for a command that shows its own progress."""
    from scanner import progress

    with progress.listening(lambda step: None):
        yield


def line_printer() -> Any:
    """A progress listener writing a line per stage start, tenth and end, flushed at once
    (rich bars print nothing when the output is not a terminal)."""
    from scanner import progress

    return progress.printer(lambda line: print(line, flush=True))


@contextmanager
def stage_bars(transient: bool = True) -> Iterator[None]:
    """Live rich bars, one per stage, fed by the stages' progress reports (cleared at the
    end when `transient`); lines instead when the output is not a terminal."""
    from scanner import progress

    if not console.is_terminal:
        with progress.listening(line_printer()):
            yield
        return
    with Progress(TextColumn("{task.description:>8}"), BarColumn(),
                  TextColumn("{task.fields[count]}"), TimeElapsedColumn(),
                  console=console, transient=transient) as bars, \
            progress.listening(StageBars(bars)):
        yield


def get_run(ctx: click.Context, run_id: str) -> dict[str, Any]:
    """A stored run; a clear error when there is no such run."""
    from sqlite_utils.db import NotFoundError

    with open_store(ctx) as store:
        try:
            return store.get_run(run_id)
        except NotFoundError as exc:
            raise click.ClickException(f"no run {run_id!r}; see `scanner runs list`") from exc


def chosen_sources(config: Config, ids: list[str] | None = None) -> list[Any]:
    """The enabled sources, or the named ones (unknown ids are an error)."""
    from scanner.ingest.sources import load_sources, select_sources

    return select_sources(load_sources(config.sources_file, config.taxonomy_file), ids)


def print_run_summary(summary: dict[str, Any]) -> None:
    table = Table("stage", "status", "seconds", "details", title=f"Run {summary['run_id']}")
    for stage in summary["stages"]:
        details = {k: v for k, v in stage.items()
                   if k not in ("stage", "status", "seconds", "failures")}
        table.add_row(stage["stage"], stage["status"], str(stage.get("seconds", "")),
                      escape(json.dumps(details, ensure_ascii=False)[:160]))
    console.print(table)
    for stage in summary["stages"]:
        for source_id, reason in (stage.get("failures") or {}).items():
            console.print(f"[yellow]source {escape(source_id)} failed:[/] {escape(reason[:200])}")
        for key in ("reason", "note"):  # a skipped stage's reason, what a stage did unasked
            if stage.get(key):
                console.print(f"[yellow]{escape(stage['stage'])}:[/] {escape(str(stage[key]))}")
        if stage["stage"] == "pull" and stage.get("sources"):
            console.print(
                f"Pull: {stage['sources_ok']} of {stage['sources']} sources answered, "
                f"{stage['sources_failed']} failed (recorded in the fetches table); "
                f"{stage['items_new']} new items."
            )
    console.print(f"Run {summary['run_id']} finished: {summary.get('status', 'ok')}.")


def config_path_of(config: Any) -> str | None:
    return str(config.config_file) if config.config_file else None


def parse_maps(maps: Sequence[str]) -> dict[str, str]:
    """--map FIELD=COLUMN options as a mapping; a malformed one is a usage error."""
    mapping = {}
    for entry in maps:
        target, sep, column = entry.partition("=")
        if not sep or not target or not column:
            raise click.BadParameter(f"{entry!r} is not FIELD=COLUMN", param_hint="--map")
        mapping[target.strip()] = column.strip()
    return mapping

