"""`scanner assign` and `scanner explain`: items scored against the taxonomy, and why."""

from __future__ import annotations

import click
from rich.markup import escape

from scanner.cli._common import (
    config_of,
    console,
    open_store,
    run_command,
    stage_bars,
    stored_model_in,
)


@click.command()
@click.option("--limit", type=click.IntRange(1), help="Assign at most N items.")
@click.pass_context
def assign(ctx: click.Context, limit: int | None) -> None:
    """Score embedded items against the taxonomy's fields (new or changed items only)."""
    from scanner.run import assign_stage

    with stage_bars():
        summary = run_command(ctx, "assign", {"limit": limit},
                              [lambda run: assign_stage(run, limit=limit)])
    result = summary["stages"][0]
    console.print(f"{result['assigned']} items scored against taxonomy {result['taxonomy']}; "
                  f"{result['with_fields']} of them belong to at least one field.")


@click.command("explain")
@click.argument("item_id")
@click.option("--top", type=click.IntRange(1, 23), default=3, show_default=True,
              help="Fields to show, best score first.")
@click.pass_context
def explain_command(ctx: click.Context, item_id: str, top: int) -> None:
    """Why an item got its fields: scores, nearest prototypes, keywords, pathways."""

    from scanner.taxonomy import load_taxonomy, taxonomy_key

    config = config_of(ctx)
    key = taxonomy_key(load_taxonomy(config.taxonomy_file))
    with open_store(ctx) as store:
        model = stored_model_in(ctx, store)
        item = store.item(item_id)
        row = store.assignment(item_id, key, model)
    if item is None:
        raise click.ClickException(f"no item {item_id!r}")
    if row is None:
        raise click.ClickException(f"item {item_id} has no assignment under taxonomy {key} and "
                                   f"model {model}: run `scanner assign`")
    console.print(f"[bold]{escape(item['title'] or '')}[/] ({escape(item['source_id'])}, "
                  f"{(item['published'] or '')[:10]})")
    console.print(f"fields: {', '.join(row['fields']) or 'none'} (taxonomy {key}, "
                  f"{row['method']})")
    for field_id, score in sorted(row["scores"].items(), key=lambda kv: -kv[1])[:top]:
        evidence = row["evidence"].get(field_id, {})
        chosen = "assigned" if field_id in row["fields"] else "not assigned"
        console.print(f"\n[bold]{field_id}[/] p={score:.2f} ({chosen}); similarity "
                      f"{evidence.get('similarity', '-')}")
        for part in ("prototypes", "keywords_title", "keywords_headline", "keywords_body"):
            if evidence.get(part):
                words = "; ".join(escape(str(w)) for w in evidence[part])
                console.print(f"  {part.replace('_', ' ')}: {words}")
        pathways = row["pathways"].get(field_id) or {}
        if pathways:
            best = sorted(pathways.items(), key=lambda kv: -kv[1])[:3]
            console.print("  pathways: " + ", ".join(f"{p} {s:.2f}" for p, s in best))
