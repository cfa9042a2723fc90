"""Fixtures of the report tests: a seeded store with hostile titles, topics and signals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from scanner.config import SignalSettings, TopicSettings, load_config
from scanner.ingest.normalize import make_item
from scanner.signals import compute_signals
from scanner.store import Store
from scanner.taxonomy import load_taxonomy, taxonomy_key
from scanner.topics import update_topics

TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)
HOSTILE = ['<script>alert("x")</script>6G terahertz link',
           '<img src=x onerror="alert(1)"> deep-sea probe',
           '=HYPERLINK("http://evil.example","click") general computing',
           "[link](javascript:alert(1)) **bold** | pipe"]




def build_store(path: Path) -> Store:
    """Two years of items with hostile titles (stored raw: no HTML stripping), topics and
    signals for two run dates."""
    store = Store(path)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    key = taxonomy_key(TAXONOMY)
    field_ids = [f.id for f in TAXONOMY.active_fields]
    items, vectors, plan = [], [], []
    for month in range(24):
        when = datetime(2024 + month // 12, month % 12 + 1, 15, tzinfo=UTC)
        for slot, (fid, n) in enumerate({"6g": 2 + month, "deep-sea": 8, None: 30}.items()):
            for k in range(n):
                title = f"{HOSTILE[(k + slot) % len(HOSTILE)]} {month}-{k}"
                item = make_item(source_id="s<b>", kind="paper" if k % 4 else "news",
                                 title=title, summary="prototype " + title, fetched_at=when,
                                 guid=f"{fid}-{month}-{k}", published=when, language="en",
                                 url=f"https://example.org/{fid}/{month}/{k}?a=<x>",
                                 html=False)
                items.append(item)
                v = centres[slot] + 0.1 * rng.normal(size=16)
                vectors.append(v / np.linalg.norm(v))
                plan.append(fid)
    store.upsert_items(items)
    store.save_embeddings("m", [i["content_hash"] for i in items], np.array(vectors, np.float32))
    store.save_assignments([
        {"item_id": i["id"], "taxonomy": key, "model": "m", "content_hash": i["content_hash"],
         "scores": {f: (0.9 if f == fid else 0.01) for f in field_ids},
         "fields": [fid] if fid else [], "evidence": {},
         "pathways": {fid: {TAXONOMY.fields[fid].pathways[0].id: 0.8}} if fid else {},
         "method": "zero-shot"} for i, fid in zip(items, plan, strict=True)])
    settings = TopicSettings(window_days=400, n_components=8, n_clusters=3, min_topic_size=5)
    for day in ("2025-12-30", "2025-12-31"):
        update_topics(store, settings, "m", key, day)
        compute_signals(store, TAXONOMY, key, "m", SignalSettings(period="quarter", periods=8),
                        day, 400)
    return store



@pytest.fixture(scope="session")
def report_store() -> Callable[[Path], Store]:
    """Builds the seeded store at a path (two years of items, topics, signals)."""
    return build_store
