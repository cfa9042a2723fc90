"""Helpers of the terms tests: a CSV corpus imported into a store through the CLI."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from click.testing import CliRunner, Result

from scanner.cli import cli
from scanner.terms.counts import month_range

#: How the terms tests' CSV corpora name the item fields (date, headline, body, cat).
CORPUS_MAP = ("--map", "title=headline", "--map", "summary=body", "--map",
              "published=date", "--map", "primary_category=cat")


def import_corpus(runner: CliRunner, db: Path, corpus: Path) -> Result:
    """`scanner import` of a terms-test CSV corpus into the store at `db`."""
    return runner.invoke(cli, ["--db", str(db), "import", str(corpus), *CORPUS_MAP])


def write_corpus(path: Path, alike: str = "", months: tuple[str, str] = ("2014-01", "2019-12"),
                 rise_from: int = 24) -> None:
    """Six years of 200 items a month (2014-2019): "quantum sprocket" rising from 2016
    (its 24th month; `rise_from`) by one item every two months, "steady widget" in one
    item a month, filler words, five venues; `alike`, a phrase rising as the sprocket
    does in as many other items; `months`, another span (first, last)."""
    rng = random.Random(5)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "headline", "body", "cat"])
        for k, m in enumerate(month_range(*months)):
            rising = max(0, (k - rise_from) // 2)
            for j in range(200):
                text = ". ".join(f"filler{rng.randrange(200)}" for _ in range(3))
                if j < rising:
                    text += ". quantum sprocket"
                elif alike and j < 2 * rising:
                    text += f". {alike}"
                if j == 0:
                    text += ". steady widget"
                writer.writerow([f"{m}-{1 + j % 28:02d}", f"Item {k} {j}", text,
                                 f"cat{rng.randrange(5)}"])
