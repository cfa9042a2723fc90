"""`scanner evaluate assign|backtest`: measured accuracy of the stages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from scanner.cli._common import (
    config_of,
    console,
    context_of,
    parse_maps,
)
from scanner.evaluation.backtest import PROTOCOLS


@click.group()
def evaluate() -> None:
    """Measured accuracy of the pipeline's stages."""


@evaluate.command("assign")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled JSONL with texts (default: ../shared/data/labels/dev.jsonl).")
@click.option("--id-labels", type=click.Path(dir_okay=False, path_type=Path),
              help="Id-only labels whose train split is added (default: "
                   "data/labels/labels.jsonl; texts from ../shared/data/corpus).")
@click.option("--dev-only", is_flag=True, help="Only --labels, no id-only labels.")
@click.option("--test-split", is_flag=True,
              help="Also score the frozen test split of --id-labels once, with the "
                   "calibrator trained on everything else (report it, never tune on it).")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(3, 20))
@click.option("--seed", default=0, show_default=True)
@click.option("--save", is_flag=True, help="Save the calibrator fitted on all labels.")
@click.option("--write", "write_doc", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as Markdown to this file.")
@click.pass_context
def evaluate_assign(ctx: click.Context, labels: Path | None, id_labels: Path | None,
                    dev_only: bool, test_split: bool, folds: int, seed: int, save: bool,
                    write_doc: Path | None) -> None:
    """Cross-validated field-assignment figures (micro/macro F1, per field, en/zh)."""
    from scanner import PROJECT_ROOT
    from scanner.assign import calibrator_path
    from scanner.evaluation.runs import (
        assignment_evaluation,
        default_id_labels,
        frozen_split_evaluation,
    )

    labels = labels or PROJECT_ROOT.parent / "shared" / "data" / "labels" / "dev.jsonl"
    ids = None if dev_only else str(id_labels) if id_labels else default_id_labels()
    frozen = None
    with console.status(f"embedding the labelled items of {labels.name} and scoring them"), \
            context_of(ctx) as run:
        report, calibrator, taxonomy = assignment_evaluation(run, str(labels), folds, seed, ids)
        model_key = run.stored_model
        if test_split and ids:
            frozen = frozen_split_evaluation(run, calibrator, ids, report.details["labels"])
    _print_figures(report, f"Field assignment, {folds}-fold out-of-fold")
    if frozen is not None:
        _print_figures(frozen, "Frozen test split (scored once)")
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
        path = calibrator_path(taxonomy.version, model_key)
        calibrator.save(path)
        console.print(f"calibrator saved to {path} (threshold {calibrator.threshold:.2f})")
    if write_doc:
        write_doc.parent.mkdir(parents=True, exist_ok=True)
        text = report.to_markdown("## Field assignment: cross-validation")
        if frozen is not None:
            text += "\n" + frozen.to_markdown("## Field assignment: the frozen test split")
        write_doc.write_text(text, encoding="utf-8")
        console.print(f"report written to {write_doc}")


def _print_figures(report: Any, title: str) -> None:
    """The group figures of a report as a table."""
    table = Table("items", "micro-F1", "macro-F1", "no field given one", title=title,
                  caption="macro-F1: mean over the fields with a positive in the group")
    for group in ("all", "en", "zh"):
        none = report.details["nofield_with_field"][group]
        table.add_row(f"{group} ({report.items[group]})", f"{report.micro_f1[group]:.3f}",
                      f"{report.macro_f1[group]:.3f}",
                      f"{none['given_a_field']}/{none['items']}")
    console.print(table)


def _sample(value: int) -> int:
    if 0 < value < 100:
        raise click.BadParameter(f"{value}: 0 (every row) or at least 100")
    return value


@evaluate.command("backtest")
@click.option("--corpus", "corpus_name", default="arxiv", show_default=True,
              help=f"A protocol ({', '.join(sorted(PROTOCOLS))}), or the path of any dump "
                   "`scanner import` reads, or several as PATH::KIND,PATH::KIND (a corpus "
                   "mixing streams); then --cutoffs is required.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Map a dump column onto an item field (a --corpus path; repeatable).")
@click.option("--kind", type=click.Choice(["paper", "news", "policy"]),
              help="Item kind of a --corpus path's rows.")
@click.option("--horizon-days", type=click.IntRange(30), help="Days after each cut-off "
              "over which growth is realised (default: the protocol's, 730 for a path).")
@click.option("--period", "period_months", type=click.Choice(["1", "3", "6", "12"]),
              help="Months per period (default: the protocol's, 6 for a path).")
@click.option("--shared", type=click.Path(file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True)
@click.option("--sample", type=click.IntRange(0), default=100_000, show_default=True,
              callback=lambda ctx, param, value: _sample(value),
              help="Random sample of the corpus (fixed seed), at least 100; 0: every row.")
@click.option("--vectors", type=click.Choice(["model", "lsa"]), default="model",
              show_default=True, help="The model's embeddings (stored, reused), or LSA "
              "vectors fitted at each cut-off on the items before it: a whole corpus in "
              "minutes, topics only.")
@click.option("--cutoffs", help="Comma-separated cut-off dates (default: the protocol's).")
@click.option("--model", help="Embedding model (default: the config's).")
@click.option("--periods", type=click.IntRange(5), default=8, show_default=True)
@click.option("--seed", type=int, default=20100101, show_default=True)
@click.option("--label", type=click.Choice(["held-out", "in-sample"]), default="held-out",
              show_default=True, help="Realised growth's base: a held-out half of the window "
              "before the cut-off, or all of it, clustered (the earlier, size-biased label).")
@click.option("--terms/--no-terms", default=True, show_default=True,
              help="Count and rank the corpus's terms at each cut-off, so topics get the "
                   "nightly run's terms sub-score (off: it is left out).")
@click.option("--write", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the table as Markdown to this file.")
@click.pass_context
def evaluate_backtest(ctx: click.Context, corpus_name: str, maps: tuple[str, ...],
                      kind: str | None, horizon_days: int | None, period_months: str | None,
                      shared: Path, sample: int, cutoffs: str | None, model: str | None,
                      periods: int, seed: int, label: str, vectors: str, terms: bool,
                      write: Path | None) -> None:
    """Does the emergence ranking predict which topics grow? Against baselines."""
    from dataclasses import replace

    from scanner.evaluation.runs import backtest_run
    from scanner.run import RunContext

    config = config_of(ctx)
    config = replace(config, model=model or config.model)
    with RunContext(config) as run:
        mapping = parse_maps(maps) or None
        _, table = backtest_run(run, run.store, corpus_name, str(shared), sample, cutoffs,
                                periods, seed, say=console.print, mapping=mapping, kind=kind,
                                horizon_days=horizon_days,
                                period_months=int(period_months) if period_months else None,
                                label=label, vectors=vectors, terms=terms)
    click.echo(f"\n{table}")
    if write:
        write.write_text(f"{table}\n", encoding="utf-8")
        console.print(f"written to {write}")
