"""Corpora for term backtests: read a dump's columns through its preset, chunk by month.

The shared corpora are named by protocol ("arxiv", "arxiv-cs", "news"); any other
Parquet, CSV or JSONL file is read through scanner.ingest.dumps' presets or an explicit
mapping (title, summary, published, primary_category or categories, and a venue
column when there is one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scanner.errors import DumpError
from scanner.ingest.dumps import choose_preset, detect_format
from scanner.terms.counts import Chunk

#: Shared corpora by name: file under the shared data folder, and default cut-offs.
CORPORA: dict[str, tuple[str, str]] = {
    "arxiv": ("corpus/arxiv_2010_2019.parquet", "2013-01-01..2017-10-01"),
    "arxiv-cs": ("corpus/arxiv_cs_2025_2026.parquet", ""),  # every quarter a window fits
    "news": ("corpus/news_zh_2022_2024.parquet", "2024-10-01..2025-01-01"),
}


@dataclass
class TermCorpus:
    """Rows sorted by month: month (YYYY-MM), venue, title and text columns."""

    name: str
    stream: str
    table: pa.Table  # as read
    order: pa.Array | None = None  # row order by month, when the file is not sorted

    def __len__(self) -> int:
        return self.table.num_rows

    def chunks(self, rows: int = 20_000) -> Iterator[Chunk]:
        """Chunks of whole months (a month longer than `rows` is cut)."""
        months = self._months()
        bounds = np.flatnonzero(months[1:] != months[:-1]) + 1
        starts = [0, *bounds.tolist()]
        ends = [*bounds.tolist(), len(months)]
        for start, end in zip(starts, ends, strict=True):
            for a in range(start, end, rows):
                piece = self.table.slice(a, min(end, a + rows) - a) if self.order is None \
                    else self.table.take(self.order[a:min(end, a + rows)])
                yield list(zip(*(piece.column(c).to_pylist() for c in
                                 ("month", "venue", "title", "text")), strict=True))

    def _months(self) -> np.ndarray:
        months = self.table.column("month")
        if self.order is not None:
            months = months.take(self.order)
        return months.to_numpy(zero_copy_only=False)

    def texts(self) -> tuple[np.ndarray, list[str]]:
        """(months, lower-cased title + text) of every row (file order), for regex series."""
        months = self.table.column("month").to_numpy(zero_copy_only=False)
        joined = pc.binary_join_element_wise(pc.fill_null(self.table.column("title"), ""),
                                             pc.fill_null(self.table.column("text"), ""), " ")
        return months, pc.utf8_lower(joined).to_pylist()


def _columns(path: Path, fmt: str) -> list[str]:
    if fmt == "parquet":
        return list(pq.ParquetFile(path).schema_arrow.names)
    return list(_read(path, fmt, None).column_names)


def _read(path: Path, fmt: str, columns: list[str] | None) -> pa.Table:
    if fmt == "parquet":
        return pq.read_table(path, columns=columns)
    if fmt == "csv":
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(path)
    else:
        import pyarrow.json as pajson

        table = pajson.read_json(path)
    return table.select(columns) if columns else table


def read_corpus(path: Path | str, mapping: Mapping[str, str] | None = None,
                kind: str | None = None, name: str | None = None) -> TermCorpus:
    """Read a dump into a month-sorted TermCorpus (rows without a title or date dropped)."""
    path = Path(path)
    if not path.is_file():
        raise DumpError(f"{path}: no such file")
    fmt = detect_format(path)
    columns = _columns(path, fmt)
    preset = choose_preset(columns, mapping, kind)
    get = preset.mapping.get
    if not get("published"):
        raise DumpError(f"{path}: a term backtest needs dates; map published=COLUMN")
    venue_column = get("primary_category") or (
        "source" if "source" in columns else get("categories"))
    wanted = [c for c in (get("published"), get("title"), get("summary"), venue_column) if c]
    parts = [_project(batch, get, venue_column, preset.category_separator, path.stem)
             for batch in _batches(path, fmt, sorted(set(wanted)))]
    out = pa.Table.from_batches(parts) if parts else pa.table(
        {c: pa.array([], pa.string()) for c in ("month", "venue", "title", "text")})
    if out.column("month").null_count or out.column("title").null_count:
        out = out.filter(pc.and_(pc.is_valid(out.column("month")),
                                 pc.is_valid(out.column("title"))))
    if not _is_sorted(out.column("month")):
        out = _sorted_by_month(out)
    return TermCorpus(name or path.stem, preset.kind, out)


def _sorted_by_month(table: pa.Table) -> pa.Table:
    """The table in month order, sorted once, a column at a time (each original column is
    freed once taken, so the peak is one column above the table). Taking rows per chunk
    instead cost about half a second a chunk: a take on a chunked column concatenates it."""
    order = pc.array_sort_indices(table.column("month"), order="ascending")
    names = table.column_names
    columns = {}
    for name in names:
        columns[name] = table.column(name).take(order)
        table = table.drop_columns([name])
    return pa.table({name: columns[name] for name in names})


def _is_sorted(column: pa.ChunkedArray) -> bool:
    values = column.to_numpy(zero_copy_only=False)
    return bool((values[1:] >= values[:-1]).all()) if len(values) > 1 else True


def _project(batch: pa.RecordBatch, get: Any, venue_column: str | None, separator: str,
             default_venue: str) -> pa.RecordBatch:
    """A batch of the dump as (month, venue, title, text)."""
    published = batch.column(get("published"))
    if not pa.types.is_string(published.type):
        published = pc.cast(published, pa.string())
    months = pc.utf8_slice_codeunits(published, 0, 7)
    months = pc.if_else(pc.match_substring_regex(months, r"^\d{4}-\d{2}$"), months, None)
    if venue_column:
        raw = pc.cast(batch.column(venue_column), pa.string())
        first = pc.utf8_trim_whitespace(pc.list_element(
            pc.split_pattern(pc.fill_null(raw, "?"), separator), 0))
        venues = pc.if_else(pc.equal(first, ""), "?", first)
    else:
        venues = pa.array([default_venue] * batch.num_rows, pa.string())
    text = pc.cast(batch.column(get("summary")), pa.string()) if get("summary") \
        else pa.nulls(batch.num_rows, pa.string())
    return pa.RecordBatch.from_arrays(
        [months, venues, pc.cast(batch.column(get("title")), pa.string()), text],
        names=["month", "venue", "title", "text"])


def _batches(path: Path, fmt: str, columns: list[str]) -> Iterator[pa.RecordBatch]:
    if fmt == "parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=20_000, columns=columns)
    else:
        yield from _read(path, fmt, columns).to_batches(max_chunksize=20_000)


def regex_series(corpus: TermCorpus, patterns: Mapping[str, str]
                 ) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    """(months, items per month matching each pattern, items per month), case-insensitive."""
    from scanner.terms.counts import month_range

    months_col, texts = corpus.texts()
    months = month_range(str(min(months_col)), str(max(months_col)))
    index = {m: i for i, m in enumerate(months)}
    month_ids = np.array([index[m] for m in months_col])
    totals = np.bincount(month_ids, minlength=len(months)).astype(float)
    out = {}
    for key, pattern in patterns.items():
        compiled = re.compile(pattern, re.IGNORECASE)
        hits = np.fromiter((compiled.search(t) is not None for t in texts), dtype=bool,
                           count=len(texts))
        out[key] = np.bincount(month_ids[hits], minlength=len(months)).astype(float)
    return months, out, totals


def resolve_corpus(spec: str, shared: Path | str) -> tuple[Path, str | None]:
    """(file, default cut-offs) of a shared corpus name or a path."""
    if spec in CORPORA:
        relative, cutoffs = CORPORA[spec]
        path = Path(shared) / relative
        if not path.is_file():
            raise DumpError(f"{path} is missing: `--corpus {spec}` reads the shared corpus "
                            f"from --shared (default ../shared/data)")
        return path, cutoffs
    return Path(spec), None


def backtest_terms(spec: str, shared: Path | str, settings: Any, cutoffs: str | None,
                   top: int, known_text: str | None = None,
                   mapping: Mapping[str, str] | None = None, workers: int = 2,
                   say: Any = None, vocabulary: Sequence[str] = ()) -> dict[str, Any]:
    """Read a corpus, count its terms and run the term backtest at every cut-off, each
    on the window the nightly run would rank the stream on at that date (configured, or
    fitted to a short history; a cut-off it would not rank is skipped with the reason).

    Chinese text is segmented by jieba with `vocabulary` (the taxonomy's Chinese terms)
    kept whole.

    Returns the per-cut-off results, known-term figures, summary, CSV and Markdown.
    """
    import time

    from scanner.evaluation.terms import (
        backtest_cutoffs,
        cutoff_windows,
        evaluate_cutoff,
        known_term_figures,
        markdown,
        ranked_csv,
        read_known,
        summary,
    )
    from scanner.terms.counts import count_corpus
    from scanner.terms.extract import ChineseSegmenter

    started = time.monotonic()
    # arrow's default allocator keeps freed pages; the system one gives them back
    pa.set_memory_pool(pa.system_memory_pool())
    path, default_cutoffs = resolve_corpus(spec, shared)
    corpus = read_corpus(path, mapping, name=spec)
    if not len(corpus):
        raise DumpError(f"{path}: no row with a title and a date")
    counts = count_corpus(corpus.chunks(), corpus.stream, workers=workers,
                          segmenter=ChineseSegmenter(vocabulary))
    if say:
        say(f"{len(corpus)} items, {len(counts.terms)} terms counted in "
            f"{time.monotonic() - started:.0f} s")
    windows = cutoff_windows(counts, backtest_cutoffs(cutoffs, default_cutoffs, counts.months),
                             settings)
    ranked = {m: fitted for m, (fitted, _) in windows.items() if fitted is not None}
    skipped = {m: why for m, (fitted, why) in windows.items() if fitted is None}
    if not ranked:
        reasons = "; ".join(f"{m}: {why}" for m, why in skipped.items())
        raise DumpError(f"no cut-off of {path.name} ({counts.months[0]} to "
                        f"{counts.months[-1]}) can be ranked: {reasons}")
    results = [evaluate_cutoff(counts, m, fitted.settings, top, note=fitted.note)
               for m, fitted in ranked.items()]
    known_rows: list[dict[str, Any]] = []
    if known_text:
        known = read_known(known_text)
        series_months, series, totals = regex_series(corpus, {k["term"]: k["regex"]
                                                               for k in known})
        known_rows = known_term_figures(results, known, series, totals, series_months)
    return {"corpus": str(path), "items": len(corpus), "terms": len(counts.terms),
            "cutoffs": list(ranked), "skipped": skipped, "results": results, "known": known_rows,
            "summary": summary(results, known_rows), "csv": ranked_csv(results),
            "markdown": markdown(results, known_rows, top, skipped),
            "seconds": round(time.monotonic() - started, 1)}
