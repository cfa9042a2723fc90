"""`scanner taxonomy show|validate|diff`: the measures' field taxonomy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from scanner.cli._common import (
    config_of,
    console,
)


@click.group()
def taxonomy() -> None:
    """The measures' field taxonomy (directions, fields, tiers, pathways)."""


def _taxonomy_path(ctx: click.Context, path: str | None) -> Path:
    return Path(path) if path else config_of(ctx).taxonomy_file


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
    from scanner.taxonomy import load_taxonomy
    from scanner.taxonomy_checks import all_citations, verify_citations

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
    from scanner.taxonomy import load_taxonomy
    from scanner.taxonomy_checks import diff_taxonomies

    a, b = load_taxonomy(old), load_taxonomy(new)
    changes = diff_taxonomies(a, b)
    console.print(f"{a.version} -> {b.version}: {len(changes)} change(s)")
    for change in changes:
        console.print(f"  {escape(change)}")


# -- the nightly run ---------------------------------------------------------------------


