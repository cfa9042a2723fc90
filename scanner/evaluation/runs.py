"""Evaluation as runs: the assignment figures and the emergence backtest wired to the
configured model and taxonomy (the `evaluate` flow and `scanner evaluate`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError
from scanner.run.context import RunContext
from scanner.run.stages import shipped_calibrator_file
from scanner.store import Store

#: Where the labelled items' vectors are kept between evaluations (not committed).
VECTOR_CACHE = Path(".cache") / "vectors" / "labels"


def training_labels(ctx: RunContext, labels: str, id_labels: str | None,
                    splits: tuple[str, ...] = ("train",)) -> Any:
    """The labelled items to train and cross-validate on: `labels` (a JSONL with texts,
    the dev set) plus the given splits of `id_labels` (ids only, texts from the corpora
    in ../shared/data/corpus); never the frozen test split unless asked for."""
    from scanner import PROJECT_ROOT
    from scanner.evaluation.assignment import load_labels
    from scanner.evaluation.labels import combine, load_id_labels

    field_ids = [f.id for f in ctx.taxonomy.active_fields]
    sets = []
    if labels:
        if not Path(labels).is_file():
            raise ConfigError(f"labels file {labels} not found; pass --labels")
        sets.append(load_labels(Path(labels), field_ids))
    if id_labels:
        if not Path(id_labels).is_file():
            raise ConfigError(f"labels file {id_labels} not found; pass --id-labels")
        corpus_dir = PROJECT_ROOT.parent / "shared" / "data" / "corpus"
        sets.append(load_id_labels(Path(id_labels), field_ids, corpus_dir, splits))
    if not sets:
        raise ConfigError("no labels given: pass --labels or --id-labels")
    return combine(*sets)


def assignment_evaluation(ctx: RunContext, labels: str, folds: int = 5, seed: int = 0,
                          id_labels: str | None = None) -> tuple[Any, Any, Any]:
    """(report with cross-lingual figures, calibrator fitted on all labels, taxonomy):
    nested CV on `labels` plus the train split of `id_labels`."""
    from scanner import PROJECT_ROOT
    from scanner.assign import Scorer
    from scanner.evaluation.assignment import crosslingual_matching, evaluate_assignment
    from scanner.evaluation.labels import cached_vectors

    taxonomy = ctx.taxonomy
    embedder = ctx.embedder()
    labelled = training_labels(ctx, labels, id_labels)
    vectors = cached_vectors(embedder, labelled.texts, PROJECT_ROOT / VECTOR_CACHE)
    report, calibrator = evaluate_assignment(Scorer(taxonomy, embedder), labelled, vectors,
                                             folds=folds, seed=seed)
    report.details["crosslingual"] = crosslingual_matching(embedder, taxonomy, labelled,
                                                           vectors)
    return report, calibrator, taxonomy


def frozen_split_evaluation(ctx: RunContext, calibrator: Any, id_labels: str,
                            trained_on: str) -> Any:
    """The report of a trained calibrator on the frozen test split of `id_labels`."""
    from scanner import PROJECT_ROOT
    from scanner.assign import Scorer
    from scanner.evaluation.assignment import evaluate_frozen
    from scanner.evaluation.labels import cached_vectors

    embedder = ctx.embedder()
    held_out = training_labels(ctx, "", id_labels, ("test",))
    vectors = cached_vectors(embedder, held_out.texts, PROJECT_ROOT / VECTOR_CACHE)
    return evaluate_frozen(Scorer(ctx.taxonomy, embedder), calibrator, held_out, vectors,
                           trained_on)


def default_id_labels() -> str | None:
    """data/labels/labels.jsonl when the project has it (its train split joins the dev set)."""
    from scanner import PROJECT_ROOT

    path = PROJECT_ROOT / "data" / "labels" / "labels.jsonl"
    return str(path) if path.is_file() else None


def evaluate_assignment_stage(ctx: RunContext, labels: str, folds: int = 5,
                              seed: int = 0, id_labels: str | None = None) -> dict[str, Any]:
    """Out-of-fold assignment figures as a run stage (nothing is saved) on `labels`, plus
    the train split of `id_labels` when given (`scanner evaluate assign` passes
    data/labels/labels.jsonl by default)."""
    started = time.monotonic()
    report, _, taxonomy = assignment_evaluation(ctx, labels, folds, seed, id_labels)
    return {"stage": "evaluate-assign", "status": "ok", "labels": labels,
            "model": ctx.stored_model, "taxonomy": taxonomy.version, "items": report.items,
            "micro_f1": {k: round(v, 4) for k, v in report.micro_f1.items()},
            "macro_f1": {k: round(v, 4) for k, v in report.macro_f1.items()},
            "crosslingual": report.details["crosslingual"],
            "seconds": round(time.monotonic() - started, 2)}


def backtest_run(ctx: RunContext, store: Store, corpus_name: str, shared: str, sample: int,
                 cutoffs: str | None = None, periods: int = 8, seed: int = 20100101,
                 say: Callable[[str], None] | None = None, mapping: Any = None,
                 kind: str | None = None, horizon_days: int | None = None,
                 period_months: int | None = None, label: str = "held-out",
                 vectors: str = "model", terms: bool = True) -> tuple[list[dict], str]:
    """The emergence backtest of one protocol (scanner.evaluation.backtest.PROTOCOLS), or
    of any dump `scanner import` reads when `corpus_name` is a path (then `cutoffs` is
    required), in `store`; (results per cut-off, the table with its header). `vectors`
    "lsa": lexical vectors fitted at each cut-off on the items before it, instead of the
    model's (minutes for a whole corpus; topics only). `terms`: the corpus's terms are
    counted and ranked at each cut-off, so topics get the nightly run's terms sub-score
    (scanner.evaluation.topicterms); off, it is left out."""
    from scanner.assign import Calibrator, Scorer, assign_fields
    from scanner.evaluation.backtest import (
        PROTOCOLS,
        backtest_cutoff,
        format_field_table,
        format_table,
    )
    from scanner.evaluation.corpus import load_corpus

    config = ctx.config
    model = ctx.stored_model  # MODEL, or MODEL+int8
    if corpus_name in PROTOCOLS:
        preset, relative, default_cutoffs, horizon, months = PROTOCOLS[corpus_name]
        path = Path(shared) / relative
        if not path.is_file():
            raise ConfigError(f"{path} is missing: the backtest reads the shared corpus")
    else:
        path = Path(corpus_name)  # one dump, or several joined by commas
        missing = [p for p in corpus_name.split(",")
                   if not Path(p.strip().partition("::")[0]).is_file()]
        if missing:
            raise ConfigError(f"--corpus {missing[0]}: neither a protocol "
                              f"({', '.join(PROTOCOLS)}) nor a file")
        if not cutoffs:
            raise ConfigError("a backtest on a given corpus needs --cutoffs D,D")
        preset, relative, default_cutoffs, horizon, months = None, str(path), cutoffs, 730, 6
    horizon = horizon_days or horizon
    months = period_months or months
    taxonomy = ctx.taxonomy
    calibrator: Any = None
    if vectors == "lsa":
        model = "LSA (lexical, fitted on each cut-off's past)"
        if say:
            say("LSA vectors: topics only (fields are assigned from the model's vectors)")
    else:
        try:
            calibrator = Calibrator.load(shipped_calibrator_file(ctx))
        except ConfigError:
            if say:
                say(f"no trained calibrator for {model}: fields are not ranked, topics only")
    corpus = load_corpus(
        store, path, preset, model, sample, seed, ctx.embedder,
        mapping=mapping, kind=kind, vectors=vectors,
        progress=(lambda done, total: say(f"embedded {done}/{total}")
                  if done % 5120 == 0 or done == total else None) if say else None,
        assign=(lambda titles, bodies, vectors: assign_fields(
            Scorer(taxonomy, ctx.embedder()), calibrator, titles, bodies, vectors))
        if calibrator else None)
    from scanner.evaluation.lexical import at_cutoff

    marker = None
    if terms:
        from scanner.evaluation.topicterms import TermMarker
        from scanner.terms.extract import ChineseSegmenter

        marker = TermMarker.of_corpus(corpus, config.terms,
                                      ChineseSegmenter(taxonomy.chinese_terms))
    results = []
    for cutoff in (cutoffs or default_cutoffs).split(","):
        if vectors == "lsa":
            corpus = at_cutoff(corpus, cutoff.strip())
        result = backtest_cutoff(corpus, cutoff.strip(), horizon, months, periods,
                                 config.topics, config.signals, label=label, terms=marker)
        results.append(result)
        if say:
            say(f"{cutoff}: {result['items_before']} items before, "
                f"{result['items_after']} in the {horizon}-day horizon "
                f"({result['future_unattached']:.1%} unattached), "
                f"{result['topics']} topics, {result['grew_2x']} grew 2x; emerging terms "
                f"ranked {_ranked_text(result.get('terms_ranked'))}")
    drawn = f"sample seed {seed}" if sample and sample < len(corpus.dates) else "every row"
    header = (f"Backtest on {relative} ({len(corpus.dates)} items, {drawn}), "
              f"model {model}, periods of {months} months x {periods}, "
              f"horizon {horizon} d, {label} base window; topics' terms sub-score "
              f"{'from the terms ranked at each cut-off' if terms else 'left out'}.")
    fields = format_field_table(results)
    with_fields = int(corpus.fields.any(axis=1).sum()) if corpus.fields is not None else 0
    field_part = (f"\n\nFields ({with_fields} of the {len(corpus.dates)} items have one or "
                  f"more, assigned by the shipped calibrator):\n\n{fields}" if fields else "")
    return results, f"{header}\n\nTopics:\n\n{format_table(results)}{field_part}"


def _ranked_text(ranked: dict[str, int] | None) -> str:
    """'paper 100, news 0' (terms ranked per stream at a cut-off), or 'off'."""
    if ranked is None:
        return "off"
    return ", ".join(f"{k} {v}" for k, v in sorted(ranked.items())) or "in no stream"


def backtest_stage(ctx: RunContext, corpus_name: str, shared: str, sample: int,
                   db: str | None = None) -> dict[str, Any]:
    """The backtest of one protocol as a run stage, in a store of its own (default
    backtest-<corpus>.db beside the configured one): the corpus never mixes with the
    items the nightly runs rank."""
    started = time.monotonic()
    db = db or str(Path(ctx.config.db_path).with_name(f"backtest-{corpus_name}.db"))
    with Store(db) as store:
        results, table = backtest_run(ctx, store, corpus_name, shared, sample)
    return {"stage": "evaluate-backtest", "status": "ok", "corpus": corpus_name,
            "sample": sample, "store": db, "cutoffs": len(results), "table": table,
            "seconds": round(time.monotonic() - started, 2)}
