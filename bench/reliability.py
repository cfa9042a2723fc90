"""Reliability figures: bad inputs, killed imports, concurrent runs (`make reliability`).

Run: .venv/bin/python bench/reliability.py [--kills 20] [--races 10]

1. Bad inputs: every file under ../shared/data/feeds plus the generated hostile set of
   tests/test_hostile.py, each through parse -> store; crashes, slowest input and the
   largest Python allocation peak (tracemalloc) are printed.
2. Kills: `scanner import` of a 10,000-row arXiv slice is SIGKILLed at random points;
   after each kill the import is rerun and the store compared (item ids and record
   hashes) with an uninterrupted import: mismatches and duplicates are counted.
3. Races: two processes try to start a run on the same store at the same moment; the
   outcomes (one runs, one is refused) are counted, and any time both ran is a failure.

4. Kills inside every stage of a nightly run (bench/stage_kills.py).
5. Disk faults (root only): `scanner import` onto a 3 MB tmpfs until the disk is full,
   then the store's mount made read-only; the messages, `scanner db check`, the rerun
   after room is made and the unchanged store are checked.
6. Feed hardening (bench/feed_hardening.py, issue #20): generated hostile feeds pulled
   from a local server, and the inputs of 1. each as its own source through the ingest
   path: items lost, entries not accounted for, unsafe links, hangs (target 0 each).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
SHARED = REPO.parent / "shared" / "data"


def bad_inputs() -> dict:
    from scanner.ingest.parse import parse_feed
    from scanner.store import Store
    from scanner.testing.hostile import HOSTILE, feed_inputs

    inputs = feed_inputs(SHARED)
    crashes, slowest, peak = [], ("", 0.0), ("", 0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s.db")
        for name, body in inputs:
            tracemalloc.start()
            started = time.monotonic()
            try:
                parsed = parse_feed(body, {"Content-Type": "application/xml"}, source_id="r",
                                    item_kind="news", fetched_at=datetime.now(UTC))
                store.upsert_items(parsed.items)
            except Exception as exc:
                crashes.append(f"{name}: {type(exc).__name__}: {exc}")
            elapsed = time.monotonic() - started
            _, top = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            if elapsed > slowest[1]:
                slowest = (name, elapsed)
            if top > peak[1]:
                peak = (name, top)
        store.close()
    return {"tried": len(inputs), "hostile": len(HOSTILE), "crashes": crashes,
            "slowest": slowest, "peak": peak}


def _count(db: Path, sql: str) -> int:
    try:
        conn = sqlite3.connect(db, timeout=30)
        try:
            row = conn.execute(sql).fetchone()
            return int(row[0]) if row and row[0] is not None else 0
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def kills(n: int, seed: int = 7) -> dict:
    import pyarrow.parquet as pq

    from scanner.ingest.dumps import import_dump
    from scanner.store import Store

    rng = random.Random(seed)
    tried = mismatches = duplicates = killed_before_end = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        slice_path = tmp_path / "slice.parquet"
        pq.write_table(pq.read_table(SHARED / "corpus" / "arxiv_2010_2019.parquet")
                       .slice(0, 10_000), slice_path)
        reference = Store(tmp_path / "reference.db")
        import_dump(reference, slice_path)
        expected = reference.item_fingerprint()
        reference.close()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        for attempt in range(n):
            db = tmp_path / f"k{attempt}.db"
            target = rng.randrange(250, 9_750)
            process = subprocess.Popen(
                [sys.executable, "-m", "scanner.cli", "--db", str(db), "import",
                 str(slice_path), "--batch-size", "250"], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                if _count(db, "SELECT max(rows_done) FROM imports") >= target:
                    break
                time.sleep(0.01)
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                killed_before_end += 1
            process.wait()
            tried += 1
            subprocess.run([sys.executable, "-m", "scanner.cli", "--db", str(db), "import",
                            str(slice_path)], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            store = Store(db)
            mismatches += store.item_fingerprint() != expected
            duplicates += store.db["items"].count - len({r["id"] for r in
                                                         store.db["items"].rows})
            store.close()
            db.unlink()
    return {"tried": tried, "killed_mid_import": killed_before_end, "mismatches": mismatches,
            "duplicates": duplicates}


RACER = """
import sys, time
sys.path.insert(0, sys.argv[3])
from scanner.config import load_config
from scanner.errors import RunLockError
from scanner.run import begin_run, end_run
from scanner.store import Store
config = load_config(None, {"db_path": sys.argv[1]}, environ={})
while time.time() < float(sys.argv[2]):
    time.sleep(0.001)
try:
    store = Store(config.db_path)
    run_id = begin_run(store, "race", "2026-01-01", {})
except RunLockError:
    print("refused")
else:
    time.sleep(1.0)
    end_run(store, run_id, "ok", {})
    print("ran")
"""


def races(n: int) -> dict:
    from scanner.store import Store

    outcomes = {"one ran, one refused": 0, "both ran": 0, "other": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(n):
            db = Path(tmp) / f"r{attempt}.db"
            Store(db).close()
            start_at = time.time() + 2.0
            procs = [subprocess.Popen([sys.executable, "-c", RACER, str(db), str(start_at),
                                       str(REPO)], stdout=subprocess.PIPE, text=True)
                     for _ in range(2)]
            results = sorted(p.communicate()[0].strip() for p in procs)
            if results == ["ran", "refused"]:
                outcomes["one ran, one refused"] += 1
            elif results == ["ran", "ran"]:
                outcomes["both ran"] += 1
            else:
                outcomes["other"] += 1
    return outcomes


def _fingerprint(db: Path) -> tuple[int, str]:
    from scanner.store import Store

    with Store(db) as store:
        return store.item_fingerprint()


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:300] if lines else ""


def disk_faults() -> dict:
    """`scanner import` onto a 3 MB tmpfs (disk full), then the same store read-only.

    Needs root (mount); the unit tests cover the same errors without it.
    """
    import pyarrow.parquet as pq

    from scanner.store import Store

    if os.geteuid() != 0:
        return {"skipped": "needs root to mount a small tmpfs"}
    out: dict = {}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path, mnt = Path(tmp), Path(tmp) / "mnt"
        mnt.mkdir()
        table = pq.read_table(SHARED / "corpus" / "news_zh_2022_2024.parquet")
        small, big = tmp_path / "small.parquet", tmp_path / "big.parquet"
        pq.write_table(table.slice(0, 200), small)
        pq.write_table(table.slice(200, 6000), big)
        reference = Store(tmp_path / "reference.db")
        from scanner.ingest.dumps import import_dump

        import_dump(reference, small)
        import_dump(reference, big)
        expected = reference.item_fingerprint()
        reference.close()

        def scanner(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "scanner.cli", "--db",
                                   str(mnt / "s.db"), *args], env=env, capture_output=True,
                                  text=True)

        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], check=True)
        try:
            scanner("import", str(small))
            before = _fingerprint(mnt / "s.db")
            full = scanner("import", str(big), "--batch-size", "500")
            out["full_exit"] = full.returncode
            out["full_message"] = _last_line(full.stderr)
            check = scanner("db", "check")
            out["full_check_ok"] = check.returncode == 0
            out["full_check_said"] = _last_line(check.stdout + check.stderr)
            subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], check=True)
            rerun = scanner("import", str(big))
            out["full_rerun_equal"] = rerun.returncode == 0 and \
                _fingerprint(mnt / "s.db") == expected
            out["full_before_kept"] = before[0] <= expected[0]
            subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
            readonly = scanner("import", str(small), "--restart")
            out["ro_exit"] = readonly.returncode
            out["ro_message"] = _last_line(readonly.stderr)
            subprocess.run(["mount", "-o", "remount,rw", str(mnt)], check=True)
            out["ro_unchanged"] = _fingerprint(mnt / "s.db") == expected
        finally:
            subprocess.run(["umount", str(mnt)], check=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--races", type=int, default=10)
    parser.add_argument("--stage-kills", type=int, default=20)
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"missing {SHARED}: the reliability checks read the shared data")
    bad = bad_inputs()
    from feed_hardening import corpus, corpus_inputs, print_tables, pulled_feeds

    hardening = (pulled_feeds(), corpus(corpus_inputs()))
    killed = kills(args.kills)
    raced = races(args.races)
    disk = disk_faults()
    from stage_kills import stage_kills

    staged = stage_kills(args.stage_kills, 150)
    print("\n| check | tried | handled / survived | failures |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| bad inputs (shared feeds + {bad['hostile']} hostile) | {bad['tried']} | "
          f"{bad['tried'] - len(bad['crashes'])} | {len(bad['crashes'])} crashes |")
    print(f"| SIGKILL during import, then rerun | {killed['tried']} | "
          f"{killed['tried'] - killed['mismatches']} equal to uninterrupted | "
          f"{killed['mismatches']} mismatches, {killed['duplicates']} duplicates |")
    print(f"| two runs started at once | {args.races} | "
          f"{raced['one ran, one refused']} one ran, one refused | "
          f"{raced['both ran']} both ran, {raced['other']} other |")
    print(f"| SIGKILL inside a nightly stage, then rerun | {staged['tried']} | "
          f"{staged['equal']} equal to uninterrupted | "
          f"{staged['tried'] - staged['equal']} mismatches |")
    if "skipped" in disk:
        print(f"| disk full / read-only store | - | - | skipped: {disk['skipped']} |")
    else:
        full_ok = disk["full_exit"] == 1 and disk["full_check_ok"] and disk["full_rerun_equal"]
        print(f"| disk full during import (3 MB tmpfs) | 1 | {int(full_ok)}"
              f" clear error, store intact, rerun equal | "
              f"{int(not disk['full_rerun_equal'])} lost |")
        print(f"| read-only store (remounted ro) | 1 | "
              f"{int(disk['ro_exit'] == 1 and disk['ro_unchanged'])} clear error, nothing "
              f"written | {int(not disk['ro_unchanged'])} changed |")
        print(f"\ndisk full said: {disk['full_message']}\nread-only said: {disk['ro_message']}")
    print(f"kills by stage: {staged['by_stage']}; reference stage seconds: "
          f"{staged['reference_stages']}")
    for problem in staged["problems"]:
        print("stage kill:", problem)
    print(f"\nslowest input: {bad['slowest'][0]} {bad['slowest'][1]:.2f} s; largest allocation "
          f"peak: {bad['peak'][0]} {bad['peak'][1] / 2**20:.1f} MiB; kills that landed "
          f"mid-import: {killed['killed_mid_import']} of {killed['tried']}")
    for crash in bad["crashes"][:10]:
        print("crash:", crash)
    print_tables(*hardening)


if __name__ == "__main__":
    main()
