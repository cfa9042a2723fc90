"""The nightly run's stages as plain functions; flows/ wraps each in a Prefect task.

Each stage takes the config and the run id, does its work against the store, and
returns a small JSON-able summary that ends up in the run's row.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from scanner import progress
from scanner.config import Config
from scanner.ingest import SourceResult, pull_sources
from scanner.sources import load_sources, select_sources
from scanner.store import Store, explain_sqlite_error

#: Stages of the nightly run, in order.
STAGES: tuple[str, ...] = ("pull", "embed", "assign", "topics", "terms", "signals", "report")


def run_date_or_today(run_date: str | date | None) -> str:
    """The run date as YYYY-MM-DD (today in UTC when None)."""
    if run_date is None:
        return datetime.now(UTC).date().isoformat()
    if isinstance(run_date, date):
        return run_date.isoformat()
    try:
        return date.fromisoformat(run_date).isoformat()
    except ValueError as exc:
        from scanner.errors import ConfigError

        raise ConfigError(f"run date {run_date!r} is not a YYYY-MM-DD date") from exc


#: The lock every run that writes results holds for its whole length.
RUN_LOCK = "pipeline"


def begin_run(config: Config, kind: str, run_date: str, params: dict[str, Any]) -> str:
    """Take the store's run lock, open a run row and return its id.

    Raises RunLockError (nothing written) when another live run holds the lock; a lock
    left by a dead process is taken over and the take-over noted in the run's params.
    """
    from scanner.store import new_run_id

    with Store(config.db_path) as store:
        run_id = new_run_id(kind, run_date)
        note = store.acquire_lock(RUN_LOCK, run_id)
        try:
            return store.start_run(kind, run_date, {**params, "lock_note": note}, run_id)
        except BaseException:
            store.release_lock(RUN_LOCK, run_id)
            raise


def end_run(
    config: Config, run_id: str, status: str, summary: dict[str, Any], error: str | None = None
) -> None:
    """Close a run row with its outcome and give the run lock back."""
    with Store(config.db_path) as store:
        try:
            store.finish_run(run_id, status, summary, error)
        finally:
            store.release_lock(RUN_LOCK, run_id)


def run_steps(config: Config, kind: str, run_date: str, params: dict[str, Any],
              steps: Sequence[Callable[[str], dict[str, Any]]]) -> dict[str, Any]:
    """One run: take the lock, call each step with the run id, close the run row.

    The row is closed whatever happens, with the stages that finished; a failing step
    marks the run failed with its reason and the exception goes on to the caller.
    """
    from contextlib import nullcontext

    run_id = begin_run(config, kind, run_date, params)
    # nobody watching (a deployment's run): progress goes to the log, a line per tenth
    watching = nullcontext() if progress.is_heard() else progress.listening(progress.printer())
    stages: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"run_id": run_id, "run_date": run_date, "stages": stages}
    status, error = "failed", None
    try:
        with watching:
            for step in steps:
                stages.append(step(run_id))
                progress.finish(str(stages[-1].get("stage", "")))
        status = "ok"
    except sqlite3.DatabaseError as exc:
        error = f"{type(exc).__name__}: {explain_sqlite_error(exc, config.db_path)}"
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        try:
            end_run(config, run_id, status, summary, error)
        except sqlite3.DatabaseError:
            if status == "ok":
                raise
            # the store cannot take the failure either (disk full, read-only): the first
            # error goes on; the next run's lock take-over closes this run's row
    return summary


def pull_stage(
    config: Config,
    run_id: str,
    source_ids: list[str] | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
) -> dict[str, Any]:
    """Fetch the enabled (or the named) sources into the store."""
    started = time.monotonic()
    sources = select_sources(load_sources(config.sources_file, config.taxonomy_file), source_ids)
    pulled = 0

    def after_source(result: SourceResult) -> None:
        nonlocal pulled
        pulled += 1
        progress.report("pull", pulled, len(sources))
        if on_source:
            on_source(result)

    progress.report("pull", 0, len(sources))
    with Store(config.db_path) as store:
        summary = pull_sources(store, sources, config.fetch, run_id=run_id,
                               on_source=after_source)
    return {"stage": "pull", "status": "ok", **summary.totals(),
            "seconds": round(time.monotonic() - started, 2)}


def embed_stage(config: Config, run_id: str, limit: int | None = None) -> dict[str, Any]:
    """Embed stored items that have no vector for the configured model yet."""
    from scanner.embed import embed_new_items

    started = time.monotonic()
    progress.report("embed", 0)
    with Store(config.db_path) as store:
        if store.count_missing_embeddings(config.model) == 0:  # skip loading the model
            return {"stage": "embed", "status": "ok", "model": config.model, "embedded": 0,
                    "reused": store.count_embeddings(config.model), "items_per_s": 0.0,
                    "seconds": round(time.monotonic() - started, 2)}
        embedder = configured_embedder(config)
        result = embed_new_items(store, embedder, limit=limit,
                                 progress=lambda done, total: progress.report("embed", done, total))
    return {"stage": "embed", "status": "ok", "model": result.model,
            "embedded": result.embedded, "reused": result.reused,
            "items_per_s": round(result.rate, 2),
            "seconds": round(time.monotonic() - started, 2)}


# -- the embed stage in batches, for a cluster (flows/scale.py maps embed_batch) ----------


def pending_embedding_batches(config: Config, batch_size: int = 256, max_batches: int = 16
                              ) -> list[list[dict[str, Any]]]:
    """The next texts without a vector for the configured model, cut into batches.

    A wave holds at most max_batches batches, so memory stays bounded by the wave
    whatever the backlog; call again after saving a wave to get the next one.
    """
    with Store(config.db_path) as store:
        pending = store.missing_embeddings(config.model, batch_size * max_batches)
    return [pending[i:i + batch_size] for i in range(0, len(pending), batch_size)]


def count_pending_embeddings(config: Config) -> int:
    """How many stored texts have no vector for the configured model."""
    with Store(config.db_path) as store:
        return int(store.count_missing_embeddings(config.model))


def embed_batch(config: Config, batch: Sequence[dict[str, Any]]) -> tuple[list[str], Any]:
    """(content hashes, float32 vectors) of one batch; touches no store (runs on workers)."""
    from scanner.embed import item_text

    embedder = _process_embedder(config.model, config.embed_threads or None,
                                 str(config.model_cache), config.embed_backend)
    return [b["content_hash"] for b in batch], embedder.embed([item_text(b) for b in batch])


@lru_cache(maxsize=2)
def _process_embedder(model: str, threads: int | None, cache: str, backend: str) -> Any:
    """One loaded model per worker process, kept for the batches that follow."""
    from pathlib import Path

    from scanner.embed import load_embedder

    return load_embedder(model, threads, Path(cache), backend)


def configured_embedder(config: Config) -> Any:
    """The configured model on the configured backend, threads and cache."""
    from scanner.embed import load_embedder

    return load_embedder(config.model, config.embed_threads or None, config.model_cache,
                         config.embed_backend)


def save_embedding_batch(config: Config, hashes: Sequence[str], vectors: Any) -> None:
    """Store one batch's vectors (in one transaction)."""
    with Store(config.db_path) as store:
        store.save_embeddings(config.model, hashes, vectors)


def shipped_calibrator_file(config: Config, taxonomy: Any) -> Any:
    """The trained calibrator of the taxonomy's version and the configured model; a
    ConfigError saying how to train it when there is none."""
    from scanner.assign import calibrator_path
    from scanner.errors import ConfigError

    path = calibrator_path(taxonomy.version, config.model)
    if not path.is_file():
        raise ConfigError(f"no trained calibrator {path} for taxonomy {taxonomy.version} and "
                          f"model {config.model}: run `scanner evaluate assign --save`")
    return path


def assign_stage(config: Config, run_id: str, limit: int | None = None) -> dict[str, Any]:
    """Score embedded items against the taxonomy's fields (new or changed items only)."""
    from scanner.assign import Calibrator, Scorer, assign_items
    from scanner.taxonomy import load_taxonomy, taxonomy_key

    started = time.monotonic()
    progress.report("assign", 0)
    taxonomy = load_taxonomy(config.taxonomy_file)
    key = taxonomy_key(taxonomy)
    path = shipped_calibrator_file(config, taxonomy)
    with Store(config.db_path) as store:
        if store.count_items_needing_assignment(key, config.model) == 0:
            return {"stage": "assign", "status": "ok", "taxonomy": key, "assigned": 0,
                    "with_fields": 0, "seconds": round(time.monotonic() - started, 2)}
        embedder = configured_embedder(config)
        result = assign_items(store, Scorer(taxonomy, embedder), Calibrator.load(path), key,
                              limit=limit,
                              progress=lambda done, total: progress.report("assign", done, total))
    return {"stage": "assign", "status": "ok", "taxonomy": key, "assigned": result.assigned,
            "with_fields": result.with_fields, "verdict_fields": result.verdict_fields,
            "seconds": round(time.monotonic() - started, 2)}


def topics_stage(config: Config, run_id: str, run_date: str, full: bool = False
                 ) -> dict[str, Any]:
    """Update topics over the configured window: attach new items, or recluster."""
    from scanner.taxonomy import load_taxonomy, taxonomy_key
    from scanner.topics import update_topics

    started = time.monotonic()
    progress.report("topics", 0)
    taxonomy = load_taxonomy(config.taxonomy_file)
    key = taxonomy_key(taxonomy)
    vocabulary = [w for f in taxonomy.active_fields
                  for w in (f.zh, *f.keywords_zh, *f.aliases_zh)]
    with Store(config.db_path) as store:
        scopes = update_topics(store, config.topics, config.model, key, run_date, run_id, full,
                               vocabulary)
    events: dict[str, int] = {}
    for scope in scopes:
        for kind, n in scope["events"].items():
            events[kind] = events.get(kind, 0) + n
    return {"stage": "topics", "status": "ok", "model": config.model,
            "modes": {s["scope"]: s["mode"] for s in scopes},
            "items": sum(s["items"] for s in scopes), "topics": sum(s["topics"] for s in scopes),
            "unassigned": sum(s["unassigned"] for s in scopes),
            "outside_taxonomy": sum(s["outside_taxonomy"] for s in scopes), "events": events,
            "seconds": round(time.monotonic() - started, 2)}


def terms_stage(config: Config, run_id: str, run_date: str, rebuild: bool = False
                ) -> dict[str, Any]:
    """Count the new items' terms (all items when rebuilding) and rank emerging terms."""
    from scanner.taxonomy import load_taxonomy, taxonomy_key
    from scanner.term_run import terms_run

    progress.report("terms", 0)
    taxonomy = load_taxonomy(config.taxonomy_file)
    vocabulary = [w for f in taxonomy.active_fields for w in (f.zh, *f.keywords_zh, *f.aliases_zh)]
    with Store(config.db_path) as store:
        result = terms_run(store, config.terms, run_date, taxonomy_key(taxonomy), config.model,
                           vocabulary, rebuild)
    return {"stage": "terms", "status": "ok", **result}


def signals_stage(config: Config, run_id: str, run_date: str) -> dict[str, Any]:
    """Compute indicators and the ranked lists for the run date; store them."""
    from scanner.signals import compute_signals
    from scanner.taxonomy import load_taxonomy, taxonomy_key

    started = time.monotonic()
    progress.report("signals", 0)
    taxonomy = load_taxonomy(config.taxonomy_file)
    with Store(config.db_path) as store:
        lists = compute_signals(store, taxonomy, taxonomy_key(taxonomy), config.model,
                                config.signals, run_date, config.topics.window_days)
    top = {name: [r["entity_id"] for r in rows[:3]] for name, rows in lists.items()}
    return {"stage": "signals", "status": "ok", "ranked": {k: len(v) for k, v in lists.items()},
            "top": top, "seconds": round(time.monotonic() - started, 2)}


def report_stage(config: Config, run_id: str, run_date: str | None, lang: str = "both"
                 ) -> dict[str, Any]:
    """Write the night's report in every format under the report folder."""
    from scanner.report import build_report, write_report
    from scanner.taxonomy import load_taxonomy

    started = time.monotonic()
    progress.report("report", 0)
    with Store(config.db_path) as store:
        data = build_report(store, load_taxonomy(config.taxonomy_file), run_date)
    folder = write_report(data, config.report_dir, lang)
    return {"stage": "report", "status": "ok", "folder": str(folder),
            "fields": len(data["lists"]["fields"]),
            "watchlist": len(data["lists"]["watchlist"]),
            "seconds": round(time.monotonic() - started, 2)}


def backfill_range_stage(config: Config, run_id: str, date_from: str, date_to: str,
                         source_ids: list[str] | None = None, page_size: int = 200,
                         max_pages: int = 100) -> dict[str, Any]:
    """Fetch the enabled (or the named) arXiv API sources' submissions of a date range."""
    from scanner.errors import ConfigError
    from scanner.ingest import pull_date_range

    first, last = run_date_or_today(date_from), run_date_or_today(date_to)
    if first > last:
        raise ConfigError(f"backfill range: --from {first} is after --to {last}")
    started = time.monotonic()
    sources = [s for s in select_sources(load_sources(config.sources_file,
                                                      config.taxonomy_file), source_ids)
               if s.kind == "arxiv_api"]
    if not sources:
        raise ConfigError("a date-range backfill pages through arXiv API sources, and none "
                          "is enabled or named; see `scanner sources list --all`")
    with Store(config.db_path) as store:
        summary = pull_date_range(store, sources, config.fetch, first, last, run_id=run_id,
                                  page_size=page_size, max_pages=max_pages)
    totals = summary.totals()
    return {"stage": "backfill", "status": "ok", "from": first, "to": last,
            "sources": len(sources), "pages": totals["sources"],
            "pages_failed": totals["sources_failed"], "entries": totals["entries"],
            "new": totals["items_new"], "failures": totals["failures"],
            "seconds": round(time.monotonic() - started, 2)}


def import_chunk(config: Config, path: str, chunk_rows: int) -> dict[str, Any]:
    """Import the dump's next chunk (its checkpoint says where); rows so far, new, done."""
    from scanner.dumps import import_dump

    with Store(config.db_path) as store:
        result = import_dump(store, path, max_rows=chunk_rows)
    rows = result.rows_read + result.rows_skipped_resume
    done = (result.rows_total is not None and rows >= result.rows_total) or \
        result.rows_read < chunk_rows
    return {"rows": rows, "total": result.rows_total, "new": result.counts.new, "done": done}


def backfill_stage(config: Config, run_id: str, path: str, chunk_rows: int = 20_000,
                   embed_chunk: Callable[[], int] | None = None) -> dict[str, Any]:
    """Import a dump chunk by chunk, embedding each chunk before the next.

    The import's checkpoint is committed with every batch and embeddings are stored
    per content hash, so a crashed backfill resumes where it stopped. `embed_chunk`
    embeds what is missing and returns how many texts it did (default: in-process).
    """
    from scanner.embed import embed_new_items

    embedder = None

    def in_process() -> int:
        nonlocal embedder
        with Store(config.db_path) as store:
            if not store.count_missing_embeddings(config.model):
                return 0
            embedder = embedder or configured_embedder(config)
            return embed_new_items(store, embedder, progress=lambda done, total:
                                   progress.report("embed", done, total)).embedded

    started = time.monotonic()
    embedded = new = 0
    while True:
        chunk = import_chunk(config, path, chunk_rows)
        new += chunk["new"]
        progress.report("import", chunk["rows"], chunk.get("total"))
        embedded += (embed_chunk or in_process)()
        if chunk["done"]:
            break
    return {"stage": "backfill", "status": "ok", "path": path, "rows": chunk["rows"],
            "new": new, "embedded": embedded, "seconds": round(time.monotonic() - started, 2)}


# -- evaluation (the `evaluate` flow and `scanner evaluate`) -------------------------------


def assignment_evaluation(config: Config, labels: str, folds: int = 5, seed: int = 0
                          ) -> tuple[Any, Any, Any]:
    """(report with cross-lingual figures, calibrator fitted on all labels, taxonomy)."""
    from pathlib import Path

    from scanner.assign import Scorer
    from scanner.errors import ConfigError
    from scanner.evaluate import crosslingual_matching, evaluate_assignment, load_labels
    from scanner.taxonomy import load_taxonomy

    if not Path(labels).is_file():
        raise ConfigError(f"labels file {labels} not found; pass --labels")
    taxonomy = load_taxonomy(config.taxonomy_file)
    embedder = configured_embedder(config)
    labelled = load_labels(Path(labels), [f.id for f in taxonomy.active_fields])
    vectors = embedder.embed(labelled.texts)
    report, calibrator = evaluate_assignment(Scorer(taxonomy, embedder), labelled, vectors,
                                             folds=folds, seed=seed)
    report.details["crosslingual"] = crosslingual_matching(embedder, taxonomy, labelled,
                                                           vectors)
    return report, calibrator, taxonomy


def evaluate_assignment_stage(config: Config, run_id: str, labels: str, folds: int = 5,
                              seed: int = 0) -> dict[str, Any]:
    """Out-of-fold assignment figures as a run stage (nothing is saved)."""
    started = time.monotonic()
    report, _, taxonomy = assignment_evaluation(config, labels, folds, seed)
    return {"stage": "evaluate-assign", "status": "ok", "labels": labels,
            "model": config.model, "taxonomy": taxonomy.version, "items": report.items,
            "micro_f1": {k: round(v, 4) for k, v in report.micro_f1.items()},
            "macro_f1": {k: round(v, 4) for k, v in report.macro_f1.items()},
            "crosslingual": report.details["crosslingual"],
            "seconds": round(time.monotonic() - started, 2)}


def backtest_run(config: Config, store: Store, corpus_name: str, shared: str, sample: int,
                 cutoffs: str | None = None, periods: int = 8, seed: int = 20100101,
                 say: Callable[[str], None] | None = None) -> tuple[list[dict], str]:
    """The emergence backtest of one protocol (scanner.backtest.PROTOCOLS); (results per
    cut-off, the table with its header)."""
    from pathlib import Path

    from scanner.assign import Calibrator, Scorer
    from scanner.backtest import (
        PROTOCOLS,
        backtest_cutoff,
        format_field_table,
        format_table,
        load_corpus,
    )
    from scanner.errors import ConfigError
    from scanner.taxonomy import load_taxonomy

    preset, relative, default_cutoffs, horizon, months = PROTOCOLS[corpus_name]
    path = Path(shared) / relative
    if not path.is_file():
        raise ConfigError(f"{path} is missing: the backtest reads the shared corpus")

    @lru_cache(maxsize=1)
    def embedder() -> Any:  # loaded once, for the corpus's vectors and the field scorer
        return configured_embedder(config)

    taxonomy = load_taxonomy(config.taxonomy_file)
    try:
        calibrator: Any = Calibrator.load(shipped_calibrator_file(config, taxonomy))
    except ConfigError:
        calibrator = None
        if say:
            say(f"no trained calibrator for {config.model}: fields are not ranked, topics only")
    corpus = load_corpus(
        store, path, preset, config.model, sample, seed, embedder,
        progress=(lambda done, total: say(f"embedded {done}/{total}")
                  if done % 5120 == 0 or done == total else None) if say else None,
        assign=(lambda titles, bodies, vectors: assign_fields(
            Scorer(taxonomy, embedder()), calibrator, titles, bodies, vectors))
        if calibrator else None)
    results = []
    for cutoff in (cutoffs or default_cutoffs).split(","):
        result = backtest_cutoff(corpus, cutoff.strip(), horizon, months, periods,
                                 config.topics, config.signals)
        results.append(result)
        if say:
            say(f"{cutoff}: {result['items_before']} items before, "
                f"{result['items_after']} in the {horizon}-day horizon "
                f"({result['future_unattached']:.1%} unattached), "
                f"{result['topics']} topics, {result['grew_2x']} grew 2x")
    header = (f"Backtest on {relative} ({len(corpus.dates)} items, sample seed {seed}), "
              f"model {config.model}, periods of {months} months x {periods}, "
              f"horizon {horizon} d.")
    fields = format_field_table(results)
    with_fields = int(corpus.fields.any(axis=1).sum()) if corpus.fields is not None else 0
    field_part = (f"\n\nFields ({with_fields} of the {len(corpus.dates)} items have one or "
                  f"more, assigned by the shipped calibrator):\n\n{fields}" if fields else "")
    return results, f"{header}\n\nTopics:\n\n{format_table(results)}{field_part}"


def assign_fields(scorer: Any, calibrator: Any, titles: Sequence[str], bodies: Sequence[str],
                  vectors: Any, chunk: int = 5000) -> tuple[list[str], Any]:
    """(field ids, [items x fields] bool): the fields a calibrator assigns to texts whose
    vectors are given, chunk by chunk (nothing stored; the backtest's corpus)."""
    import numpy as np

    out = np.zeros((len(titles), len(scorer.field_ids)), dtype=bool)
    for start in range(0, len(titles), chunk):
        end = start + chunk
        evidence = scorer.evidence(titles[start:end], bodies[start:end], vectors[start:end])
        out[start:end] = calibrator.predict_proba(evidence) >= calibrator.threshold
    return scorer.field_ids, out


def backtest_stage(config: Config, run_id: str, corpus_name: str, shared: str, sample: int,
                   db: str | None = None) -> dict[str, Any]:
    """The backtest of one protocol as a run stage, in a store of its own (default
    backtest-<corpus>.db beside the configured one): the corpus never mixes with the
    items the nightly runs rank."""
    from pathlib import Path

    started = time.monotonic()
    db = db or str(Path(config.db_path).with_name(f"backtest-{corpus_name}.db"))
    with Store(db) as store:
        results, table = backtest_run(config, store, corpus_name, shared, sample)
    return {"stage": "evaluate-backtest", "status": "ok", "corpus": corpus_name,
            "sample": sample, "store": db, "cutoffs": len(results), "table": table,
            "seconds": round(time.monotonic() - started, 2)}
