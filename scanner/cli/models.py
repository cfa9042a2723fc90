"""`scanner embed` and `scanner models list|build`: the embedding models."""

from __future__ import annotations

import click
from rich.table import Table

from scanner.cli._common import (
    config_of,
    console,
    stage_bars,
)
from scanner.config import EMBED_BACKENDS

backend_option = click.option(
    "--backend", type=click.Choice(EMBED_BACKENDS),
    help="Runtime (default: the config's embed_backend, else the model's first in the "
         "registry: openvino). openvino and torch give the same vectors; openvino-int8 "
         "(opt-in) stores its own under MODEL+int8.")


@click.command()
@click.option("--model", help="Registry model id (default: the config's model).")
@click.option("--limit", type=click.IntRange(1), help="Embed at most N texts.")
@click.option("--threads", type=click.IntRange(1), help="CPU threads (default: all cores).")
@backend_option
@click.pass_context
def embed(ctx: click.Context, model: str | None, limit: int | None, threads: int | None,
          backend: str | None) -> None:
    """Embed stored items that have no vector for the model yet."""
    from dataclasses import replace

    from scanner.run import RunContext, embed_stage, run_steps

    config = config_of(ctx)
    config = replace(config, model=model or config.model,
                     embed_threads=threads or config.embed_threads,
                     embed_backend=backend or config.embed_backend)
    with stage_bars(), RunContext(config) as run:
        summary = run_steps(run, "embed", {"model": config.model, "limit": limit},
                            [lambda run: embed_stage(run, limit=limit)])
        backend_used = getattr(run.embedder(), "backend", "?") if run.has_embedder else None
    result = summary["stages"][0]
    console.print(f"{result['embedded']} texts embedded with {result['model']} in "
                  f"{result['seconds']:.1f} s ({result['items_per_s']:.1f}/s); "
                  f"{result['reused']} vectors already stored were reused.")
    if backend_used:
        console.print(f"backend: {backend_used}")


@click.group()
def models() -> None:
    """The embedding-model registry (models/registry.toml)."""


@models.command("list")
def models_list() -> None:
    """List the registry's models."""
    from scanner.embed import load_registry

    specs, default = load_registry()
    table = Table("id", "loader", "backends", "dim", "max tokens", "languages", "licence",
                  title="Embedding models")
    for spec in specs.values():
        mark = " (default)" if spec.id == default else ""
        table.add_row(spec.id + mark, spec.loader, ", ".join(spec.backends) or "-",
                      str(spec.dimension), str(spec.max_tokens), ", ".join(spec.languages),
                      spec.licence)
    console.print(table)


@models.command("build")
@click.argument("model_id", required=False)
@backend_option
@click.pass_context
def models_build(ctx: click.Context, model_id: str | None, backend: str | None) -> None:
    """Build a model's files into the cache now (offline; done on first use otherwise):
    the model folder, its OpenVINO conversion when that is the backend, and the
    conversion's int8 build (quantised by NNCF, a few minutes) on openvino-int8."""
    from scanner.embed import (
        INT8_BACKEND,
        int8_model_folder,
        model_folder,
        model_spec,
        openvino_model_folder,
    )
    from scanner.embed.registry import resolve_backend

    config = config_of(ctx)
    spec = model_spec(model_id or config.model)
    if spec.loader == "hashing":
        console.print(f"{spec.id}: nothing to build (no weights)")
        return
    folder = model_folder(spec, config.model_cache)
    console.print(f"{spec.id}: ready in {folder}")
    chosen = resolve_backend(spec, backend or config.embed_backend)
    if chosen in ("openvino", INT8_BACKEND):
        converted = openvino_model_folder(spec, config.model_cache)
        console.print(f"{spec.id}: OpenVINO conversion ready in {converted}")
    if chosen == INT8_BACKEND:
        console.print(f"{spec.id}: int8 build ready in "
                      f"{int8_model_folder(spec, config.model_cache)}")
