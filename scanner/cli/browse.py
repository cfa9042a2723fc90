"""`scanner browse`: the store in a browser, read-only, through Datasette (optional extra)."""

from __future__ import annotations

from pathlib import Path

import click

from scanner.cli._common import config_of, console


@click.command("browse")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default serves this machine only.")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option("--get", "get_path", metavar="PATH",
              help="Print one page (e.g. /store/failed_fetches.json) and exit, serving nothing.")
@click.pass_context
def browse_command(ctx: click.Context, host: str, port: int, get_path: str | None) -> None:
    """Browse the store read-only: tables described, canned queries (a field's evidence in
    a window, a topic's history, a run's ranked lists, failed fetches) without SQL.

    Needs the `browse` extra: pip install 'horizon-scanner[browse]'.
    """
    from scanner.store.browse import browse_app, serve

    path = Path(config_of(ctx).db_path)
    if get_path:
        import asyncio

        ds = browse_app(path)
        response = asyncio.run(ds.client.get(get_path))
        click.echo(response.text)
        if response.status_code != 200:
            raise click.ClickException(f"{get_path}: HTTP {response.status_code}")
        return
    ds = browse_app(path)  # fails here on a missing store or extra, before any address
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]listening on {host}: anyone who can reach it reads the "
                      "whole store (read-only)[/]")
    console.print(f"Browsing {path} read-only at http://{host}:{port}/store ; Ctrl-C stops.")
    serve(ds, host, port)
