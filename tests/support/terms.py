"""Helpers of the terms tests: a CSV corpus imported into a store through the CLI."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from scanner.cli import cli

#: How the terms tests' CSV corpora name the item fields (date, headline, body, cat).
CORPUS_MAP = ("--map", "title=headline", "--map", "summary=body", "--map",
              "published=date", "--map", "primary_category=cat")


def import_corpus(runner: CliRunner, db: Path, corpus: Path) -> Result:
    """`scanner import` of a terms-test CSV corpus into the store at `db`."""
    return runner.invoke(cli, ["--db", str(db), "import", str(corpus), *CORPUS_MAP])
