"""Reading a dump file: its format, its text encoding, its columns and its rows (pure).

A text dump is read as UTF-8 (a BOM allowed) or, when it is not UTF-8 but reads as
GB18030, as GB18030 (`text_encoding`); CSV cells up to MAX_CSV_CELL are read (Python's
default is 128 KB); a JSON line that cannot be decoded, however it fails, is a bad row
(None), so that row numbers stay exact.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from scanner.errors import DumpError


def detect_format(path: Path) -> str:
    """'parquet', 'csv' or 'jsonl' from the file name."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise DumpError(f"{path}: cannot tell the format from the name; use --format")


#: Bytes read from the start of a text dump to tell its encoding.
SNIFF_BYTES = 1 << 20
#: Longest CSV cell read (a 200 KB article body passed Python's 128 KB default and the
#: import stopped there on every rerun); longer text is cut when the item is made.
MAX_CSV_CELL = 64 << 20


def _raw(path: Path) -> Any:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def text_encoding(path: Path) -> str:
    """"utf-8-sig" (UTF-8, a BOM allowed: Excel's "CSV UTF-8" has one) when the start of
    the dump is UTF-8, "gb18030" when it is not but reads as GB18030 (GBK dumps and
    Excel's Chinese CSVs: their titles were stored as U+FFFD), else "utf-8-sig" with
    undecodable bytes replaced, as before."""
    chunks: list[bytes] = []
    with _raw(path) as handle, contextlib.suppress(EOFError):  # a truncated .gz: its start
        while sum(map(len, chunks)) < SNIFF_BYTES and (chunk := handle.read(1 << 16)):
            chunks.append(chunk)
    head = b"".join(chunks)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut by the sniff's end
                return encoding
    return "utf-8-sig"


def _open_text(path: Path, encoding: str | None = None) -> io.TextIOBase:
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_CELL))
    return io.TextIOWrapper(_raw(path), encoding=encoding or text_encoding(path),
                            errors="replace", newline="")


def _dialect(path: Path) -> str:
    """The csv dialect of a CSV or TSV dump (by its name)."""
    return "excel-tab" if path.name.lower().removesuffix(".gz").endswith(".tsv") else "excel"


def dump_columns(path: Path, fmt: str, encoding: str | None = None) -> list[str]:
    """The column names of a dump (`encoding`: text_encoding's answer, when known)."""
    if fmt == "parquet":
        return list(pq.ParquetFile(path).schema_arrow.names)
    with _open_text(path, encoding) as handle:
        if fmt == "csv":
            return next(csv.reader(handle, dialect=_dialect(path)), [])
        for line in handle:
            if line.strip():
                try:
                    row = json.loads(line)
                except (json.JSONDecodeError, RecursionError) as exc:
                    raise DumpError(f"{path}: first line is not JSON: {exc}") from exc
                return list(row) if isinstance(row, dict) else []
    return []


def dump_rows(path: Path, fmt: str, batch_size: int, encoding: str | None = None
              ) -> Iterator[list[dict[str, Any] | None]]:
    """Batches of rows; an unreadable row is None so that row numbers stay exact."""
    if fmt == "parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
            yield batch.to_pylist()
        return
    with _open_text(path, encoding) as handle:
        if fmt == "csv":
            rows: Iterator[dict[str, Any] | None] = iter(
                csv.DictReader(handle, dialect=_dialect(path)))
        else:
            rows = (_json_line(line) for line in handle if line.strip())
        batch: list[dict[str, Any] | None] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


def _json_line(line: str) -> dict[str, Any] | None:
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, RecursionError):  # 200,000 nested arrays: a bad line
        return None
    return row if isinstance(row, dict) else None
