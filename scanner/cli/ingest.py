"""`scanner sources`, `scanner fetch` and `scanner import`: getting items in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scanner.cli._common import (
    chosen_sources,
    config_of,
    console,
    line_printer,
    parse_maps,
    quiet_progress,
    run_command,
    stage_bars,
)


@click.group()
def sources() -> None:
    """The sources a nightly run pulls."""


@sources.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include disabled sources.")
@click.pass_context
def sources_list(ctx: click.Context, show_all: bool) -> None:
    """List the sources in the sources file."""
    from scanner.ingest.sources import load_sources

    config = config_of(ctx)
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
    from scanner.ingest.fetch import HostThrottle, fetch_url, make_client
    from scanner.ingest.pull import parse_outcome
    config = config_of(ctx)
    chosen = chosen_sources(config, list(source_ids) or None)
    throttle = HostThrottle(config.fetch.host_delay_s, config.fetch.default_host_delay_s)
    table = Table("id", "status", "http", "entries", "bozo", "seconds", "message",
                  title="Source check (nothing stored)")
    failed = 0
    with make_client(config.fetch) as client:
        for source in chosen:
            outcome = fetch_url(client, source.url, config.fetch, throttle=throttle)
            status, parsed, message = parse_outcome(outcome, source, config.fetch)
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


@click.command()
@click.option("--source", "source_ids", multiple=True, help="Only these source ids.")
@click.pass_context
def fetch(ctx: click.Context, source_ids: tuple[str, ...]) -> None:
    """Fetch sources now and store their items (no other stage). Takes the run lock
    like `scanner run`: refused, with the holder named, while another run writes."""
    from scanner.run import pull_stage

    config = config_of(ctx)
    ids = list(source_ids) or None
    chosen_sources(config, ids)  # unknown ids fail here, before the lock
    results: list[Any] = []
    with stage_bars():
        summary = run_command(ctx, "fetch", {"sources": list(source_ids)}, [
            lambda run: pull_stage(run, ids, on_source=results.append)])
    _print_pull(results)
    totals = summary["stages"][0]
    console.print(f"{totals['sources_ok']} of {totals['sources']} sources ok; "
                  f"{totals['items_new']} new and {totals['items_changed']} changed items "
                  f"stored in {config.db_path}.")


@click.command("import")
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
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]),
              help="Only items published on or after this date (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]),
              help="Only items published on or before this date (YYYY-MM-DD).")
@click.option("--sample", type=click.IntRange(1),
              help="Import N rows drawn at random (after --since/--until).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sample.")
@click.pass_context
def import_(ctx: click.Context, path: Path, fmt: str | None, maps: tuple[str, ...],
            kind: str | None, source_id: str | None, batch_size: int, limit: int | None,
            restart: bool, since: Any, until: Any, sample: int | None, seed: int) -> None:
    """Import a JSONL, CSV or Parquet dump (resumable: rerun after a crash)."""
    from scanner.ingest.dumps import import_dump

    since = since.date().isoformat() if since else None
    until = until.date().isoformat() if until else None
    if since and until and since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}")
    mapping = parse_maps(maps)
    done: list[Any] = []

    def import_step(run: Any) -> dict[str, Any]:
        if not console.is_terminal:  # redirected: a line per tenth instead of a bar
            from scanner.progress import Step

            lines = line_printer()
            lines(Step("import", 0, None))
            done.append(import_dump(
                run.store, path, fmt=fmt, mapping=mapping or None, kind=kind,
                source_id=source_id, batch_size=batch_size, limit=limit, restart=restart,
                since=since, until=until, sample=sample, seed=seed,
                progress=lambda n, total: lines(Step("import", n, total))))
            lines(Step("import", finished=True))
            return _import_summary(path, done[0])
        with Progress(TextColumn("importing {task.fields[name]}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bars:
            bar = bars.add_task("import", total=None, name=path.name)
            done.append(import_dump(
                run.store, path, fmt=fmt, mapping=mapping or None, kind=kind,
                source_id=source_id, batch_size=batch_size, limit=limit, restart=restart,
                since=since, until=until, sample=sample, seed=seed,
                progress=lambda n, total: bars.update(bar, completed=n, total=total)))
        return _import_summary(path, done[0])

    with quiet_progress():
        run_command(ctx, "import", {"path": str(path)}, [import_step])
    result = done[0]
    if result.rows_read == 0 and result.rows_skipped_resume:
        console.print(f"{path} was already imported ({result.rows_skipped_resume} rows); "
                      "use --restart to read it again.")
        return
    if result.encoding == "gb18030":
        console.print(f"{path} read as GB18030 (a GBK dump, as Excel on Chinese Windows "
                      "saves it), not UTF-8.")
    resumed = (f", resumed after {result.rows_skipped_resume} rows"
               if result.rows_skipped_resume else "")
    kept = ""
    if result.rows_filtered:
        what = [f"published {since or '...'} to {until or '...'}" if since or until else "",
                f"a sample of {sample} (seed {seed})" if sample else ""]
        kept = f"; {result.rows_filtered} left out ({' and '.join(w for w in what if w)})"
    console.print(
        f"{result.rows_read} rows read as '{result.preset}'{resumed} in {result.seconds:.1f} s "
        f"({result.rate:,.0f} rows/s): {result.counts.new} new, {result.counts.changed} "
        f"changed, {result.counts.unchanged} unchanged, {result.counts.duplicates} "
        f"duplicates, {result.counts.elsewhere} already stored by another source, "
        f"{result.rows_invalid} unreadable or without a title{kept}."
    )


def _import_summary(path: Path, result: Any) -> dict[str, Any]:
    return {"stage": "import", "status": "ok", "path": str(path), "rows": result.rows_read,
            "new": result.counts.new, "left_out": result.rows_filtered}


# -- field assignment and evaluation ------------------------------------------------------


