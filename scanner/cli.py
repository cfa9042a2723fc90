"""The `scanner` command: ad-hoc runs, imports and inspection for analysts.

Errors raised on purpose (scanner.errors) become one clear line at this edge.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scanner.config import Config, load_config
from scanner.errors import ScannerError
from scanner.store import Store

console = Console(highlight=False)


def _config(ctx: click.Context) -> Config:
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


def _flow_on_runner(flow_object: Any, config: Config) -> Any:
    """The flow (on Dask when configured), called with live bars for its stages."""
    from flows.scale import on_runner

    runnable = on_runner(flow_object, config.dask)

    def call(**parameters: Any) -> Any:
        from scanner import progress

        with Progress(TextColumn("{task.description:>8}"), BarColumn(),
                      TextColumn("{task.fields[count]}"), TimeElapsedColumn(),
                      console=console) as bars, progress.listening(StageBars(bars)):
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


def _store(ctx: click.Context) -> Store:
    return Store(_config(ctx).db_path)


def _get_run(ctx: click.Context, run_id: str) -> dict[str, Any]:
    """A stored run; a clear error when there is no such run."""
    from sqlite_utils.db import NotFoundError

    with _store(ctx) as store:
        try:
            return store.get_run(run_id)
        except NotFoundError as exc:
            raise click.ClickException(f"no run {run_id!r}; see `scanner runs list`") from exc


def _sources(config: Config, ids: list[str] | None = None) -> list[Any]:
    """The enabled sources, or the named ones (unknown ids are an error)."""
    from scanner.sources import load_sources, select_sources

    return select_sources(load_sources(config.sources_file, config.taxonomy_file), ids)


class _Group(click.Group):
    """Turns ScannerError into a clear message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        import sqlite3

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


# -- sources ----------------------------------------------------------------------


@cli.group()
def sources() -> None:
    """The sources a nightly run pulls."""


@sources.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include disabled sources.")
@click.pass_context
def sources_list(ctx: click.Context, show_all: bool) -> None:
    """List the sources in the sources file."""
    from scanner.sources import load_sources

    config = _config(ctx)
    table = Table("id", "kind", "item kind", "lang", "enabled", "url",
                  title=f"Sources ({config.sources_file})")
    for source in load_sources(config.sources_file, config.taxonomy_file):
        if source.enabled or show_all:
            table.add_row(source.id, source.kind, source.item_kind, source.language,
                          "yes" if source.enabled else "no", escape(source.url))
    console.print(table)


@sources.command("check")
@click.option("--source", "source_ids", multiple=True, help="Only these source ids.")
@click.pass_context
def sources_check(ctx: click.Context, source_ids: tuple[str, ...]) -> None:
    """Validate the sources file and try each source live, storing nothing."""
    from scanner.fetch import HostThrottle, fetch_url, make_client
    from scanner.ingest import parse_outcome
    config = _config(ctx)
    chosen = _sources(config, list(source_ids) or None)
    throttle = HostThrottle(config.fetch.host_delay_s, config.fetch.default_host_delay_s)
    table = Table("id", "status", "http", "entries", "bozo", "seconds", "message",
                  title="Source check (nothing stored)")
    failed = 0
    with make_client(config.fetch) as client:
        for source in chosen:
            outcome = fetch_url(client, source.url, config.fetch, throttle=throttle)
            status, parsed, message = parse_outcome(outcome, source)
            failed += status not in ("ok", "not_modified")
            table.add_row(source.id, status, str(outcome.http_code or "-"),
                          str(parsed.entries_seen if parsed else 0),
                          "yes" if parsed and parsed.bozo else "no",
                          f"{outcome.duration_s:.1f}", escape((message or "")[:120]))
    console.print(table)
    console.print(f"{len(chosen) - failed} of {len(chosen)} sources answered with a feed.")


# -- fetch and import -------------------------------------------------------------------


def _print_pull(results: list[Any]) -> None:
    table = Table("source", "status", "http", "entries", "new", "changed", "bozo", "message",
                  title="Fetch")
    for r in results:
        table.add_row(r.source_id, r.status, str(r.http_code or "-"), str(r.entries),
                      str(r.counts.new), str(r.counts.changed), "yes" if r.bozo else "no",
                      escape((r.message or "")[:100]))
    console.print(table)


@cli.command()
@click.option("--source", "source_ids", multiple=True, help="Only these source ids.")
@click.pass_context
def fetch(ctx: click.Context, source_ids: tuple[str, ...]) -> None:
    """Fetch sources now and store their items (no other stage)."""
    from scanner.ingest import pull_sources
    from scanner.pipeline import run_date_or_today
    config = _config(ctx)
    chosen = _sources(config, list(source_ids) or None)
    store = Store(config.db_path)
    run_id = store.start_run("fetch", run_date_or_today(None), {"sources": list(source_ids)})
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        bar = progress.add_task("fetching", total=len(chosen))
        summary = pull_sources(store, chosen, config.fetch, run_id=run_id,
                               on_source=lambda r: progress.advance(bar))
    store.finish_run(run_id, "ok", summary.totals())
    _print_pull(summary.results)
    totals = summary.totals()
    console.print(f"{totals['sources_ok']} of {totals['sources']} sources ok; "
                  f"{totals['items_new']} new and {totals['items_changed']} changed items "
                  f"stored in {config.db_path}.")


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]),
              help="Override the format guessed from the file name.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Map a dump column onto an item field (repeatable).")
@click.option("--kind", type=click.Choice(["paper", "news", "policy"]), help="Item kind.")
@click.option("--source-id", help="Source id written on the items.")
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--limit", type=click.IntRange(1), help="Import only the first N rows.")
@click.option("--restart", is_flag=True, help="Ignore the checkpoint; read from row one.")
@click.pass_context
def import_(ctx: click.Context, path: Path, fmt: str | None, maps: tuple[str, ...],
            kind: str | None, source_id: str | None, batch_size: int, limit: int | None,
            restart: bool) -> None:
    """Import a JSONL, CSV or Parquet dump (resumable: rerun after a crash)."""
    from scanner.dumps import import_dump

    mapping = {}
    for entry in maps:
        target, sep, column = entry.partition("=")
        if not sep or not target or not column:
            raise click.BadParameter(f"{entry!r} is not FIELD=COLUMN", param_hint="--map")
        mapping[target.strip()] = column.strip()
    store = _store(ctx)
    with Progress(TextColumn("importing {task.fields[name]}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
        bar = progress.add_task("import", total=None, name=path.name)
        result = import_dump(
            store, path, fmt=fmt, mapping=mapping or None, kind=kind, source_id=source_id,
            batch_size=batch_size, limit=limit, restart=restart,
            progress=lambda done, total: progress.update(bar, completed=done, total=total),
        )
    if result.rows_read == 0 and result.rows_skipped_resume:
        console.print(f"{path} was already imported ({result.rows_skipped_resume} rows); "
                      "use --restart to read it again.")
        return
    resumed = (f", resumed after {result.rows_skipped_resume} rows"
               if result.rows_skipped_resume else "")
    console.print(
        f"{result.rows_read} rows read as '{result.preset}'{resumed} in {result.seconds:.1f} s "
        f"({result.rate:,.0f} rows/s): {result.counts.new} new, {result.counts.changed} "
        f"changed, {result.counts.unchanged} unchanged, {result.rows_invalid} without a title."
    )


# -- field assignment and evaluation ------------------------------------------------------


@cli.command()
@click.option("--limit", type=click.IntRange(1), help="Assign at most N items.")
@click.pass_context
def assign(ctx: click.Context, limit: int | None) -> None:
    """Score embedded items against the taxonomy's fields (new or changed items only)."""
    from scanner.pipeline import assign_stage

    result = assign_stage(_config(ctx), "cli", limit=limit)
    console.print(f"{result['assigned']} items scored against taxonomy {result['taxonomy']}; "
                  f"{result['with_fields']} of them belong to at least one field.")


@cli.group()
def evaluate() -> None:
    """Measured accuracy of the pipeline's stages."""


@evaluate.command("assign")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled JSONL (default: ../shared/data/labels/dev.jsonl).")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(3, 20))
@click.option("--seed", default=0, show_default=True)
@click.option("--save", is_flag=True, help="Save the calibrator fitted on all labels.")
@click.option("--write", "write_doc", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as Markdown to this file.")
@click.pass_context
def evaluate_assign(ctx: click.Context, labels: Path | None, folds: int, seed: int, save: bool,
                    write_doc: Path | None) -> None:
    """Cross-validated field-assignment figures (micro/macro F1, per field, en/zh)."""
    from scanner import PROJECT_ROOT
    from scanner.assign import calibrator_path
    from scanner.pipeline import assignment_evaluation

    config = _config(ctx)
    labels = labels or PROJECT_ROOT.parent / "shared" / "data" / "labels" / "dev.jsonl"
    with console.status(f"embedding the labelled items of {labels.name} and scoring them"):
        report, calibrator, taxonomy = assignment_evaluation(config, str(labels), folds, seed)
    table = Table("items", "micro-F1", "macro-F1",
                  title=f"Field assignment, {folds}-fold out-of-fold ({labels.name})",
                  caption="macro-F1: mean over the fields with a positive in the group")
    for group in ("all", "en", "zh"):
        table.add_row(f"{group} ({report.items[group]})", f"{report.micro_f1[group]:.3f}",
                      f"{report.macro_f1[group]:.3f}")
    console.print(table)
    fields = Table("field", "support", "P", "R", "F1", "F1 en", "F1 zh", title="Per field")
    for row in report.per_field:
        fields.add_row(row["field"], str(row["support"]), f"{row['precision']:.2f}",
                       f"{row['recall']:.2f}", f"{row['f1']:.2f}",
                       "-" if row["f1_en"] is None else f"{row['f1_en']:.2f}",
                       "-" if row["f1_zh"] is None else f"{row['f1_zh']:.2f}")
    console.print(fields)
    cross = Table("direction", "items", "top-1", "MRR",
                  title="Cross-lingual matching (descriptions only, no keywords)")
    for direction, row in report.details["crosslingual"].items():
        cross.add_row(direction, str(row["items"]), f"{row['top1']:.3f}", f"{row['mrr']:.3f}")
    console.print(cross)
    if save:
        path = calibrator_path(taxonomy.version, config.model)
        calibrator.save(path)
        console.print(f"calibrator saved to {path} (threshold {calibrator.threshold:.2f})")
    if write_doc:
        write_doc.parent.mkdir(parents=True, exist_ok=True)
        write_doc.write_text(report.to_markdown(), encoding="utf-8")
        console.print(f"report written to {write_doc}")


# -- database ---------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """The SQLite store."""


@db.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def db_stats(ctx: click.Context, as_json: bool) -> None:
    """Counts of items, sources, fetches and runs."""
    stats = _store(ctx).stats()
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


@cli.group()
def taxonomy() -> None:
    """The measures' field taxonomy (directions, fields, tiers, pathways)."""


def _taxonomy_path(ctx: click.Context, path: str | None) -> Path:
    return Path(path) if path else _config(ctx).taxonomy_file


@taxonomy.command("show")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="both",
              show_default=True, help="Language of names.")
@click.option("--pathways/--no-pathways", default=True, help="List technology pathways.")
@click.pass_context
def taxonomy_show(ctx: click.Context, path: str | None, lang: str, pathways: bool) -> None:
    """Print the taxonomy tree: direction -> field (tier) -> pathway."""
    from rich.tree import Tree

    from scanner.taxonomy import load_taxonomy

    tax = load_taxonomy(_taxonomy_path(ctx, path))

    def bilingual(zh: str, en: str) -> str:
        return {"zh": zh, "en": en}.get(lang, f"{zh} / {en}")

    def name(item: Any) -> str:
        return bilingual(item.zh, item.en)

    root = Tree(f"[bold]{escape(bilingual(tax.title_zh, tax.title_en))}[/] "
                f"v{escape(tax.version)} ({escape(tax.date)})")
    for direction in tax.directions.values():
        branch = root.add(f"[bold]{escape(name(direction))}[/]")
        for f in tax.active_fields:
            if f.direction != direction.id:
                continue
            tier = name(tax.tiers[f.tier]) if f.tier else "-"
            judged = " [dim](direction by judgment)[/]" if f.direction_basis == "judgment" else ""
            node = branch.add(f"{escape(name(f))} [cyan]{f.id}[/] tier: {escape(tier)}{judged}")
            if pathways:
                for p in f.pathways:
                    mark = "" if p.citation else " [dim](judgment)[/]"
                    node.add(f"{escape(name(p))}{mark}")
    console.print(root)


@taxonomy.command("validate")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--seeds", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the source documents: check every quoted citation in them.")
@click.pass_context
def taxonomy_validate(ctx: click.Context, path: str | None, seeds: Path | None) -> None:
    """Validate a taxonomy file (and its citations against the documents)."""
    from scanner.errors import ConfigError
    from scanner.taxonomy import all_citations, load_taxonomy, verify_citations

    tax = load_taxonomy(_taxonomy_path(ctx, path))
    summary = (f"{tax.path}: version {tax.version}, {len(tax.directions)} directions, "
               f"{len(tax.fields)} fields, "
               f"{sum(len(f.pathways) for f in tax.fields.values())} pathways, "
               f"{len(all_citations(tax))} citations")
    if seeds:
        problems = verify_citations(tax, seeds)
        if problems:
            raise ConfigError("citations do not match the documents:\n  " +
                              "\n  ".join(escape(p) for p in problems))
        summary += ", every quote found in its document"
    console.print(f"valid: {summary}.")


@taxonomy.command("diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False))
@click.argument("new", type=click.Path(exists=True, dir_okay=False))
def taxonomy_diff(old: str, new: str) -> None:
    """Show what changed between two taxonomy versions."""
    from scanner.taxonomy import diff_taxonomies, load_taxonomy

    a, b = load_taxonomy(old), load_taxonomy(new)
    changes = diff_taxonomies(a, b)
    console.print(f"{a.version} -> {b.version}: {len(changes)} change(s)")
    for change in changes:
        console.print(f"  {escape(change)}")


# -- the nightly run ---------------------------------------------------------------------


@cli.command()
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
    from scanner.pipeline import run_date_or_today

    config = _config(ctx)
    ids = [s.strip() for s in source_ids.split(",") if s.strip()] if source_ids else None
    chosen = _sources(config, ids)  # fail fast on unknown ids
    if field_id:
        ids = [s.id for s in chosen if s.field == field_id]
        if not ids:
            raise click.ClickException(f"no enabled source searches field {field_id!r}; "
                                       "see `scanner sources list`")
    day = run_date_or_today(run_date)
    nights = _nights(run_date_or_today(since), day) if since else [day]
    from flows.nightly import nightly

    flow_run = _flow_on_runner(nightly, config)
    for number, night in enumerate(nights):
        console.print(f"Nightly run for {night} ({number + 1} of {len(nights)}; Prefect, "
                      "offline; the local server takes a moment)")
        summary = flow_run(
            run_date=night, sources=ids, fetch=not no_fetch and number == 0,
            config_path=str(config.config_file) if config.config_file else None,
            db_path=str(Path(config.db_path).resolve()), dask=config.dask or None)
        _print_run_summary(summary)


def _nights(first: str, last: str) -> list[str]:
    """Every date from first to last, inclusive."""
    from datetime import date, timedelta

    start, end = date.fromisoformat(first), date.fromisoformat(last)
    if start > end:
        raise click.BadParameter(f"--since {first} is after the run date {last}")
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def _print_run_summary(summary: dict[str, Any]) -> None:
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
        if stage["stage"] == "pull" and stage.get("sources"):
            console.print(
                f"Pull: {stage['sources_ok']} of {stage['sources']} sources answered, "
                f"{stage['sources_failed']} failed (recorded in the fetches table); "
                f"{stage['items_new']} new items."
            )
    console.print(f"Run {summary['run_id']} finished: {summary.get('status', 'ok')}.")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="scanner")


# command groups kept in their own modules register themselves on `cli` when imported
import scanner.cli_admin  # noqa: E402
import scanner.cli_models  # noqa: E402
import scanner.cli_report  # noqa: E402
import scanner.cli_signals  # noqa: E402
import scanner.cli_terms  # noqa: E402
import scanner.cli_topics  # noqa: E402, F401

if __name__ == "__main__":  # pragma: no cover
    # `python -m scanner.cli`: this file runs as __main__, and the command modules above
    # registered themselves on the imported scanner.cli's group, not on this one
    from scanner.cli import main as registered_main

    sys.exit(registered_main())
