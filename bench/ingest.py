"""Ingestion figures: every shared feed parsed, and the import rate of the shared corpora.

Run: .venv/bin/python bench/ingest.py [--corpus NAME ...] [--db PATH]
Prints one table; needs ../shared/data beside the repo root.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scanner.ingest.dumps import import_dump  # noqa: E402
from scanner.ingest.parse import parse_feed  # noqa: E402
from scanner.store import Store  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def feed_figures() -> None:
    """Parse every recorded feed; count files, bozo files and entries salvaged."""
    root = SHARED / "feeds"
    per_folder: dict[str, Counter] = {}
    started = time.monotonic()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        folder = path.relative_to(root).parts[0]
        raw = path.read_bytes()
        if folder == "arxiv_api_responses" and path.suffix == ".json":
            raw = json.loads(raw)["body"].encode()
        parsed = parse_feed(raw, {"Content-Type": "application/xml"}, source_id="bench",
                            item_kind="news", fetched_at=datetime.now(UTC))
        counts = per_folder.setdefault(folder, Counter())
        counts["files"] += 1
        counts["bozo"] += parsed.bozo
        counts["bozo_with_entries"] += parsed.bozo and bool(parsed.items)
        counts["entries"] += len(parsed.items)
        counts["bozo_entries"] += len(parsed.items) if parsed.bozo else 0
        counts["not_a_feed"] += parsed.not_a_feed is not None
    print(f"\nShared feeds parsed in {time.monotonic() - started:.1f} s (no crash = every file "
          "returned a result)")
    print(f"{'folder':24} {'files':>6} {'bozo':>6} {'bozo+entries':>13} {'entries':>8} "
          f"{'salvaged':>9} {'no feed':>8}")
    total: Counter = Counter()
    for folder, c in per_folder.items():
        total.update(c)
        print(f"{folder:24} {c['files']:6} {c['bozo']:6} {c['bozo_with_entries']:13} "
              f"{c['entries']:8} {c['bozo_entries']:9} {c['not_a_feed']:8}")
    print(f"{'total':24} {total['files']:6} {total['bozo']:6} {total['bozo_with_entries']:13} "
          f"{total['entries']:8} {total['bozo_entries']:9} {total['not_a_feed']:8}")
    print("(salvaged = entries kept from documents flagged bozo)")


def import_figures(names: list[str], db_path: Path) -> None:
    """Import each corpus into a fresh store; print rows/s and peak memory."""
    print(f"\nImport into {db_path}")
    print(f"{'corpus':32} {'rows':>8} {'new':>8} {'seconds':>8} {'rows/s':>8} {'peak RSS MB':>12}")
    store = Store(db_path)
    for name in names:
        path = SHARED / "corpus" / name
        result = import_dump(store, path, restart=True)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{name:32} {result.rows_read:8} {result.counts.new:8} {result.seconds:8.1f} "
              f"{result.rate:8.0f} {peak:12.0f}")
    started = time.monotonic()
    again = import_dump(store, SHARED / "corpus" / names[0], restart=True)
    print(f"re-import of {names[0]}: {again.counts.new} new, {again.counts.unchanged} unchanged "
          f"in {time.monotonic() - started:.1f} s")
    print(f"store: {store.db['items'].count} items, {db_path.stat().st_size / 2**20:.0f} MiB")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", action="append",
                        default=None, help="corpus file names under shared/data/corpus")
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    if not SHARED.exists():
        sys.exit(f"{SHARED} is missing: put ../shared beside the repo root")
    feed_figures()
    names = args.corpus or ["arxiv_2010_2019.parquet", "arxiv_cs_2025_2026.parquet",
                            "news_zh_2022_2024.parquet"]
    with tempfile.TemporaryDirectory() as tmp:
        import_figures(names, args.db or Path(tmp) / "bench.db")


if __name__ == "__main__":
    main()
