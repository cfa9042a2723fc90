"""Bulk import of dumps (JSONL, CSV, Parquet) for backfill, resumable after a crash.

Columns are mapped onto item fields by a preset recognised from the column names
(the arXiv metadata snapshot and the shared corpora) or by an explicit mapping.
Every batch is committed together with the import's checkpoint, so a killed import
resumes where the last committed batch ended and never stores a row twice.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from scanner.errors import DumpError
from scanner.ingest.datecheck import parse_date_text
from scanner.ingest.dumpfiles import detect_format, dump_columns, dump_rows, text_encoding
from scanner.ingest.normalize import ITEM_KINDS, make_item, restore_arxiv_zeros
from scanner.store import Store, UpsertCounts

#: Item fields a dump column can be mapped onto.
TARGETS = ("id", "arxiv_id", "doi", "url", "title", "summary", "published", "authors",
           "categories", "primary_category", "language", "version", "summary_zh")

#: Cell texts that mean "no value" in the shared corpora (the CS corpus writes 'None').
_EMPTY_TEXTS = frozenset({"", "none", "null", "nan", "n/a"})


@dataclass(frozen=True)
class Preset:
    """A known dump layout: how its columns map onto item fields."""

    name: str
    kind: str
    mapping: Mapping[str, str]
    signature: frozenset[str]
    category_separator: str = " "


PRESETS: tuple[Preset, ...] = (
    Preset(  # the arXiv metadata snapshot (one JSON object a line)
        "arxiv-snapshot", "paper",
        {"arxiv_id": "id", "title": "title", "summary": "abstract", "doi": "doi",
         "authors": "authors", "categories": "categories", "published": "versions"},
        frozenset({"id", "abstract", "versions", "authors_parsed"}),
    ),
    Preset(
        "arxiv-2010-2019", "paper",
        {"arxiv_id": "arxiv_id", "title": "title", "summary": "abstract",
         "published": "created", "primary_category": "primary_cat",
         "categories": "categories"},
        frozenset({"arxiv_id", "created", "primary_cat", "abstract"}),
        category_separator=",",
    ),
    Preset(
        "arxiv-cs-daily", "paper",
        {"arxiv_id": "id", "title": "title", "summary": "summary_en", "published": "date",
         "categories": "categories",
         # its machine-written Chinese summary, kept beside the item (item_summaries):
         # the topics stage labels English topics in Chinese from it
         "summary_zh": "tldr_zh+motivation_zh+method_zh+result_zh+conclusion_zh"},
        frozenset({"id", "summary_en", "date", "tldr_zh"}),
    ),
    Preset(
        "news-zh", "news",
        {"url": "url", "title": "title", "summary": "text", "published": "date",
         "language": "language"},
        frozenset({"url", "title", "text", "date", "source"}),
    ),
)


@dataclass
class ImportResult:
    """What one import did."""

    key: str
    preset: str
    rows_total: int | None
    rows_read: int
    rows_skipped_resume: int
    rows_invalid: int
    counts: UpsertCounts
    seconds: float
    rows_filtered: int = 0  # left out by --since/--until or the sample
    encoding: str = ""  # how a text dump was read: utf-8 (a BOM allowed) or gb18030

    @property
    def rate(self) -> float:
        """Rows read per second."""
        return self.rows_read / self.seconds if self.seconds else 0.0


def read_dump_items(path: Path | str, mapping: Mapping[str, str] | None = None,
                    kind: str | None = None, source_id: str | None = None
                    ) -> tuple[Preset, list[dict[str, Any]]]:
    """Every valid item of a dump, as `scanner import` would build them (no store)."""
    path = Path(path)
    fmt = detect_format(path)
    preset = choose_preset(dump_columns(path, fmt), mapping, kind)
    now = datetime.now(UTC)
    items = [item for batch in dump_rows(path, fmt, 5000) for row in batch if row
             for item in [row_to_item(row, preset, source_id or preset.name, now)] if item]
    return preset, items


def choose_preset(columns: list[str], mapping: Mapping[str, str] | None,
                  kind: str | None) -> Preset:
    """The preset matching the columns, refined by an explicit mapping and kind."""
    found = next((p for p in PRESETS if p.signature <= set(columns)), None)
    if mapping:
        bad = [t for t in mapping if t not in TARGETS]
        if bad:
            raise DumpError(f"unknown target field(s) {bad}; targets: {', '.join(TARGETS)}")
        missing = [c for v in mapping.values() for c in v.split("+") if c not in columns]
        if missing:
            raise DumpError(f"column(s) {missing} not in the dump; columns: {columns}")
        base = dict(found.mapping) if found else {}
        base.update(mapping)
        found = Preset(found.name + "+map" if found else "custom", kind or
                       (found.kind if found else "paper"), base, frozenset(),
                       found.category_separator if found else " ")
    if found is None:
        raise DumpError(
            f"no known layout for columns {columns}; map them, e.g. "
            "--map title=headline --map summary=body --map published=date"
        )
    if kind:
        if kind not in ITEM_KINDS:
            raise DumpError(f"kind must be one of {ITEM_KINDS}")
        found = Preset(found.name, kind, found.mapping, found.signature, found.category_separator)
    if "title" not in found.mapping:
        raise DumpError("the mapping needs at least a title column")
    return found


def _to_datetime(value: Any) -> datetime | None:
    if isinstance(value, list):  # arXiv snapshot "versions": the first one is v1
        if not value:
            return None
        first = value[0]
        return parse_date_text(first.get("created") if isinstance(first, dict) else first)
    return parse_date_text(value)


def _split_list(value: Any, separator: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value)
    if separator == " " and ", " in text and " and " in text:  # snapshot author strings
        return [a.strip() for a in text.replace(" and ", ", ").split(",") if a.strip()]
    return [part.strip() for part in text.split(separator) if part.strip()]


def _joined_text(row: Mapping[str, Any], columns: str) -> str | None:
    """The non-empty texts of '+'-joined columns, one a line; None when all are empty."""
    parts = [str(row.get(c)).strip() for c in columns.split("+") if row.get(c) is not None]
    parts = [p for p in parts if p.lower() not in _EMPTY_TEXTS]
    return "\n".join(parts) or None


def row_to_item(row: Mapping[str, Any], preset: Preset, source_id: str,
                imported_at: datetime) -> dict[str, Any] | None:
    """Map one dump row onto an item; None when it has no title.

    A `summary_zh` column (or '+'-joined columns) becomes the item's `summaries["zh"]`,
    stored beside it, when the item itself is not Chinese.
    """
    def get(target: str) -> Any:
        column = preset.mapping.get(target)
        return row.get(column) if column else None

    title = get("title")
    if not title or isinstance(title, bool) or not isinstance(title, str | int | float) \
            or not str(title).strip():
        return None  # no title, or one that is an object or a flag (stored as "" before)
    published = get("published")
    categories = _split_list(get("categories"), preset.category_separator)
    # a dump may have held ids as numbers: 1801.0485 is 1801.04850 (its link would be dead)
    arxiv = restore_arxiv_zeros(str(get("arxiv_id")).strip()) if get("arxiv_id") else None
    item = make_item(
        source_id=source_id, kind=preset.kind, title=title, summary=get("summary"),
        fetched_at=imported_at, url=get("url") or None,
        guid=str(get("id")) if get("id") else None,
        published=_to_datetime(published),
        published_raw=None if published is None else str(published)[:100],
        authors=_split_list(get("authors"), " "), categories=categories,
        language=get("language"), arxiv=arxiv,
        primary_category=get("primary_category") or (categories[0] if arxiv and categories
                                                      else None),
        doi=get("doi"), origin=f"import:{preset.name}", html=False,
    )
    columns_zh = preset.mapping.get("summary_zh")
    summary_zh = _joined_text(row, columns_zh) if columns_zh else None
    if summary_zh and item.get("language") != "zh":
        item["summaries"] = {"zh": summary_zh}
    return item


def import_key(path: Path, preset: Preset, source_id: str) -> str:
    """Checkpoint key: the file (path, size, mtime), its mapping and source."""
    stat = path.stat()
    material = json.dumps([str(path.resolve()), stat.st_size, int(stat.st_mtime),
                           dict(preset.mapping), preset.kind, source_id], sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def import_dump(
    store: Store,
    path: Path | str,
    *,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    kind: str | None = None,
    source_id: str | None = None,
    batch_size: int = 2000,
    limit: int | None = None,
    restart: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    max_rows: int | None = None,
    since: str | None = None,
    until: str | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> ImportResult:
    """Import a dump into the store, resuming from its checkpoint.

    Args:
        store: the target store.
        path: a .jsonl/.json/.csv/.tsv (optionally .gz) or .parquet file.
        fmt: the format when the name does not tell.
        mapping: item field -> column, on top of (or instead of) a known preset.
        kind: paper, news or policy, overriding the preset's.
        source_id: the source id written on items (default: import:<preset>).
        batch_size: rows per committed batch.
        limit: import only the first rows (for slices and tests).
        restart: ignore the checkpoint and read from the first row again.
        progress: called with (rows done, rows total) after each batch.
        max_rows: read at most this many rows past the checkpoint in this call, then stop
            unfinished (a backfill's chunk); the next call resumes after them.
        since, until: keep only items published in this date range (YYYY-MM-DD, both
            included); an item without a date is left out when either is given.
        sample: keep N rows drawn at random (with `seed`) from those in the range; a first
            pass over the file finds them.
    """
    import time

    path = Path(path)
    if not path.is_file():
        raise DumpError(f"{path}: no such file")
    fmt = fmt or detect_format(path)
    try:  # the encoding is told once, from the file's start, for every read below
        encoding = None if fmt == "parquet" else text_encoding(path)
        columns = dump_columns(path, fmt, encoding)
        preset = choose_preset(columns, mapping, kind)
        total = pq.ParquetFile(path).metadata.num_rows if fmt == "parquet" else None
    except (OSError, UnicodeDecodeError, ValueError, EOFError, csv.Error) as exc:
        raise DumpError(f"{path}: cannot read as {fmt}: {_short(exc)}") from exc
    if total is not None and limit is not None:
        total = min(total, limit)
    source = source_id or f"import:{preset.name}"
    key = import_key(path, preset, source) + (f"-first{limit}" if limit else "") + \
        (f"-since{since}" if since else "") + (f"-until{until}" if until else "") + \
        (f"-sample{sample}-seed{seed}" if sample else "")
    checkpoint = None if restart else store.import_progress(key)
    skip = int(checkpoint["rows_done"]) if checkpoint else 0
    started = time.monotonic()
    if checkpoint and checkpoint["finished"]:
        return ImportResult(key, preset.name, total, 0, skip, 0, UpsertCounts(), 0.0)
    imported_at = datetime.now(UTC)

    def in_range(item: dict[str, Any]) -> bool:
        if not since and not until:
            return True
        day = (item.get("published") or "")[:10]
        return bool(day) and (not since or day >= since) and (not until or day <= until)

    chosen = _sample_rows(path, fmt, batch_size, limit, sample, seed,
                          lambda row: row_to_item(row, preset, source, imported_at), in_range,
                          encoding) if sample else None
    counts = UpsertCounts()
    done = invalid = read_now = filtered = 0
    stopped = False
    try:
        for batch in dump_rows(path, fmt, batch_size, encoding):
            if limit is not None and done >= limit:
                break
            if limit is not None:
                batch = batch[: limit - done]
            if done + len(batch) <= skip:
                done += len(batch)
                continue
            offset = max(0, skip - done)
            rows = batch[offset:]
            if max_rows is not None:
                rows = rows[: max_rows - read_now]
            items = []
            for index, row in enumerate(rows, start=done + offset):
                if chosen is not None and index not in chosen:
                    filtered += 1
                    continue
                item = row_to_item(row, preset, source, imported_at) if row else None
                if item is None:
                    invalid += 1
                elif not in_range(item):
                    filtered += 1
                else:
                    items.append(item)
            done += offset + len(rows)
            read_now += len(rows)
            counts.add(store.import_batch(key, str(path), fmt, items, done, total))
            if progress:
                progress(done, total)
            if max_rows is not None and read_now >= max_rows:
                stopped = True
                break
        if not stopped:
            store.import_batch(key, str(path), fmt, [], done, total if total else done, True)
    except (OSError, ValueError, EOFError, csv.Error) as exc:
        # EOFError: a truncated .gz (click printed only "Aborted!")
        raise DumpError(f"{path}: read failed after {done} rows: {_short(exc)}; what was read "
                        "before is stored; rerun to resume") from exc
    return ImportResult(
        key=key, preset=preset.name, rows_total=total, rows_read=done - skip,
        rows_skipped_resume=skip, rows_invalid=invalid, counts=counts,
        seconds=round(time.monotonic() - started, 3), rows_filtered=filtered,
        encoding=(encoding or "").removesuffix("-sig"),
    )


def _short(exc: BaseException) -> str:
    """An error's text, without the binary a misnamed file puts into it."""
    text = f"{type(exc).__name__}: {exc}" if isinstance(exc, EOFError) else str(exc)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 300 else text[:300] + "..."


def _sample_rows(path: Path, fmt: str, batch_size: int, limit: int | None, sample: int,
                 seed: int, to_item: Callable[[Mapping[str, Any]], dict[str, Any] | None],
                 in_range: Callable[[dict[str, Any]], bool], encoding: str | None
                 ) -> set[int]:
    """Row numbers of a random sample of `sample` rows among those with an item in range."""
    import random

    candidates: list[int] = []
    index = 0
    for batch in dump_rows(path, fmt, batch_size, encoding):
        for row in batch:
            if limit is not None and index >= limit:
                break
            item = to_item(row) if row else None
            if item is not None and in_range(item):
                candidates.append(index)
            index += 1
    if len(candidates) <= sample:
        return set(candidates)
    return set(random.Random(seed).sample(candidates, sample))
