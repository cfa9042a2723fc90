"""SIGKILL inside every stage of a nightly run, then rerun: is the store as if never killed?

Run: .venv/bin/python bench/stage_kills.py [--kills 20] [--items 150] (also part of
`make reliability`).

The night: the stages of flows/nightly.py (pull -> embed -> assign -> topics -> terms ->
signals -> report) through scanner.run.run_steps, in a child process, on a store that
holds a slice of the shared Chinese news corpus; pull fetches the five recorded Chinese
feeds of ../shared/data/feeds/zh_real_feeds from a local HTTP server. Model:
multilingual-e5-small-fast (its calibrator is committed).

1. Reference: one uninterrupted night on a copy of the base store; the child reports when
   each stage starts, which gives each stage's time window.
2. Each kill: a fresh copy of the base store, a night started and SIGKILLed at a random
   moment inside a stage: once the child says the stage started, after a random part of
   that stage's reference length (the stages are taken in turn, so every stage is hit);
   then the same night rerun to the end (it must take over the dead run's lock).
3. The store after the rerun is compared with the reference: items, embeddings (vectors
   within 1e-5), assignments, topics and members, the night's lineage events and ranked
   lists, the report's files; plus duplicates and orphans.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
MODEL = "multilingual-e5-small-fast"
NIGHT = "2024-12-31"

CHILD = """
import sys, time
sys.path.insert(0, sys.argv[3])
from scanner import run
from scanner.config import load_config
config = load_config(sys.argv[1])
day = sys.argv[2]
def stage(name, work):
    def step(ctx):
        print("stage", name, flush=True)
        return work(ctx)
    return step
run.run_steps(run.RunContext(config, day), "nightly", {}, [
    stage("pull", run.pull_stage), stage("embed", run.embed_stage),
    stage("assign", run.assign_stage), stage("topics", run.topics_stage),
    stage("terms", run.terms_stage), stage("signals", run.signals_stage),
    stage("report", run.report_stage),
])
print("stage done", flush=True)
"""

STAGES = ("pull", "embed", "assign", "topics", "terms", "signals", "report")

#: What must be equal after a killed night and its rerun (the runs table is not: it
#: keeps the killed run's row, marked as failed by the take-over).
FINGERPRINTS = {
    "items": "SELECT id, record_hash FROM items ORDER BY id",
    "assignments": "SELECT item_id, taxonomy, model, fields, pathways FROM assignments "
                   "ORDER BY item_id, taxonomy, model",
    "item_fields": "SELECT item_id, field_id, pathway_id FROM item_fields "
                   "ORDER BY item_id, field_id",
    "topics": "SELECT id, scope, status, size, label FROM topics ORDER BY id",
    "members": "SELECT topic_id, item_id FROM topic_members ORDER BY topic_id, item_id",
    "events": "SELECT run_date, kind, topic_id, other_id FROM topic_events "
              "ORDER BY run_date, kind, topic_id, other_id",
    "signals": "SELECT list, entity_id, rank FROM signals ORDER BY list, rank, entity_id",
    "term counts": "SELECT term, month, stream, venue, df FROM term_counts "
                   "ORDER BY term, month, stream, venue",
    "counted items": "SELECT item_id, month, stream FROM term_items ORDER BY item_id",
    "term rankings": "SELECT run_date, stream, rank, term FROM term_rankings "
                     "ORDER BY run_date, stream, rank",
}
ORPHANS = {
    "members of a missing topic": "SELECT count(*) FROM topic_members m LEFT JOIN topics t "
                                  "ON t.id = m.topic_id WHERE m.topic_id IS NOT NULL "
                                  "AND t.id IS NULL",  # NULL: held unassigned, by design
    "item_fields without an assignment": "SELECT count(*) FROM item_fields f LEFT JOIN "
                                         "assignments a ON a.item_id = f.item_id AND "
                                         "a.taxonomy = f.taxonomy AND a.model = f.model "
                                         "WHERE a.item_id IS NULL",
    "embeddings of no item": "SELECT count(*) FROM embeddings e WHERE NOT EXISTS (SELECT 1 "
                             "FROM items i WHERE i.content_hash = e.content_hash)",
    "duplicate events": "SELECT count(*) - count(DISTINCT run_date || kind || topic_id || "
                        "coalesce(other_id, '')) FROM topic_events",
}


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _vectors(db: Path) -> dict[str, np.ndarray]:
    return {h: np.frombuffer(v, dtype=np.float32) for h, v in _rows(
        db, f"SELECT content_hash, vector FROM embeddings WHERE model = '{MODEL}'")}


def compare(reference: Path, db: Path, report_ref: Path, report_db: Path) -> list[str]:
    """What differs between the reference store (and report) and a rerun's."""
    problems = [f"{name} differ" for name, sql in FINGERPRINTS.items()
                if _rows(reference, sql) != _rows(db, sql)]
    a, b = _vectors(reference), _vectors(db)
    if a.keys() != b.keys():
        problems.append(f"embedded texts differ ({len(a)} vs {len(b)})")
    elif any(np.abs(a[h] - b[h]).max() > 1e-5 for h in a):
        problems.append("vectors differ beyond 1e-5")
    problems += [f"{n} {name}" for name, sql in ORPHANS.items()
                 if (n := _rows(db, sql)[0][0])]
    for name in ("report.json", "fields.csv", "watchlist.csv"):
        ref = json.loads((report_ref / name).read_text()) if name.endswith(".json") else \
            (report_ref / name).read_text()
        got = json.loads((report_db / name).read_text()) if name.endswith(".json") else \
            (report_db / name).read_text()
        if name == "report.json":  # the run it names is a different run by design
            ref["coverage"].pop("run", None)
            got["coverage"].pop("run", None)
        if ref != got:
            where = sorted(k for k in set(ref) | set(got) if ref.get(k) != got.get(k)) \
                if isinstance(ref, dict) else []
            problems.append(f"{name} differs" + (f" ({', '.join(where)})" if where else ""))
    return problems


def _config(work: Path, name: str, sources: Path) -> Path:
    config = work / f"{name}.toml"
    config.write_text(f'db_path = "{work / name}.db"\nreport_dir = "{work / name}-reports"\n'
                      f'sources_file = "{sources}"\nmodel = "{MODEL}"\n'
                      "[fetch]\ndefault_host_delay_s = 0.0\nretries = 0\n"
                      "[topics]\nwindow_days = 120\nmin_topic_size = 4\n"
                      '[signals]\nperiod = "month"\nperiods = 6\n')
    return config


def _night(config: Path, kill_in: tuple[str, float] | None = None
           ) -> tuple[list[tuple[str, float]], bool]:
    """Run the night, SIGKILLed `kill_in` = (stage, seconds) after that stage starts when
    given; returns (stage, seconds since start) as reported, and whether it was killed."""
    import threading

    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(config), NIGHT, str(REPO)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    seen: list[tuple[str, float]] = []

    def read() -> None:
        for line in child.stdout:
            if line.startswith("stage "):
                seen.append((line.split()[1], time.monotonic() - started))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    killed = False
    while child.poll() is None:
        stage_start = next((t for name, t in seen if kill_in and name == kill_in[0]), None)
        if stage_start is not None and time.monotonic() - started >= stage_start + kill_in[1]:
            child.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.005)
    child.wait()
    reader.join(timeout=5)
    if not killed and child.returncode != 0:
        raise RuntimeError(f"the night failed with exit code {child.returncode}")
    return seen, killed


def stage_kills(n: int, items: int, seed: int = 11, stages: tuple[str, ...] = STAGES) -> dict:
    """Kill nights inside each stage in turn; count reruns that end equal to the reference."""
    import pyarrow.parquet as pq

    from scanner.config import load_config
    from scanner.run import RunContext
    from scanner.run.backfill import import_chunk
    from scanner.testing.feedserver import FeedServer, body

    rng = random.Random(seed)
    server = FeedServer()
    feeds = sorted((SHARED / "feeds" / "zh_real_feeds").glob("*.xml"))
    for path in feeds:
        server.route(f"/{path.name}", body(path.read_bytes(), "application/xml"))
    server.start()
    outcome = {"tried": 0, "equal": 0, "by_stage": {s: 0 for s in STAGES}, "problems": [],
               "reference_stages": {}}
    try:
        with tempfile.TemporaryDirectory(prefix="stage-kills-") as tmp:
            work = Path(tmp)
            sources = work / "sources.toml"
            sources.write_text("".join(
                f'[[source]]\nid = "zh-{p.stem}"\nname = "{p.stem}"\nkind = "feed"\n'
                f'url = "{server.url("/" + p.name)}"\nlanguage = "zh"\nitem_kind = "news"\n\n'
                for p in feeds))
            table = pq.read_table(SHARED / "corpus" / "news_zh_2022_2024.parquet")
            rows = [i for i, d in enumerate(table.column("date").to_pylist())
                    if str(d)[:7] in ("2024-10", "2024-11", "2024-12")][::5][:items]
            dump = work / "slice.parquet"
            pq.write_table(table.take(rows), dump)
            base_config = _config(work, "base", sources)
            with RunContext(load_config(base_config)) as ctx:  # closed: nothing left in -wal
                import_chunk(ctx, str(dump), 100_000)

            def fresh(name: str) -> Path:
                # through SQLite's backup, so a copy holds what a -wal file might still hold
                source, target = sqlite3.connect(work / "base.db"), sqlite3.connect(
                    work / f"{name}.db")
                with target:
                    source.backup(target)
                source.close()
                target.close()
                shutil.rmtree(work / f"{name}-reports", ignore_errors=True)
                return _config(work, name, sources)

            seen, _ = _night(fresh("reference"))
            starts = dict(seen)
            windows = {s: (starts[s], starts[STAGES[i + 1]] if i + 1 < len(STAGES)
                           else starts["done"]) for i, s in enumerate(STAGES)}
            outcome["reference_stages"] = {s: round(b - a, 2) for s, (a, b) in windows.items()}
            for attempt in range(n):
                target = stages[attempt % len(stages)]
                low, high = windows[target]
                config = fresh(f"k{attempt}")
                seen, killed = _night(config, (target, rng.uniform(0, high - low)))
                hit = seen[-1][0] if seen else "start"
                outcome["tried"] += 1
                if killed and hit in outcome["by_stage"]:
                    outcome["by_stage"][hit] += 1
                _night(config)  # the rerun must complete
                problems = compare(work / "reference.db", work / f"k{attempt}.db",
                                   work / "reference-reports" / NIGHT,
                                   work / f"k{attempt}-reports" / NIGHT)
                outcome["equal"] += not problems
                if problems:
                    outcome["problems"].append(f"kill {attempt} in {hit}: {'; '.join(problems)}")
                print(f"kill {attempt + 1}/{n} in {hit} ({'killed' if killed else 'ended first'}"
                      f"): {'equal' if not problems else '; '.join(problems)}", flush=True)
                (work / f"k{attempt}.db").unlink()
    finally:
        server.stop()
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--items", type=int, default=150)
    parser.add_argument("--stages", default=",".join(STAGES), help="Stages to aim at.")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"missing {SHARED}: this check reads the shared data")
    result = stage_kills(args.kills, args.items, stages=tuple(args.stages.split(",")))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
