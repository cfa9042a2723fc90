"""Helpers of the signals tests: a store with two years of items, fields and topics."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from scanner.config import TopicSettings, load_config
from scanner.ingest.normalize import make_item
from scanner.store import Store
from scanner.taxonomy import load_taxonomy, taxonomy_key
from scanner.topics import update_topics

TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)


def store_with_history(path: str) -> Store:
    """Two years of monthly items: 6g grows, deep-sea stays flat, with topics built."""
    store = Store(path)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    rows, hashes, vectors = [], [], []
    items = []
    for month in range(24):
        year, mon = 2024 + month // 12, month % 12 + 1
        when = datetime(year, mon, 15, tzinfo=UTC)
        plan = {"6g": 2 + month, "deep-sea": 8, None: 30}
        for fid, n in plan.items():
            for k in range(n):
                text = {"6g": "terahertz 6G network", "deep-sea": "deep-sea submersible",
                        None: "general computing"}[fid]
                item = make_item(source_id="s", kind="paper", title=f"{text} {month}-{k}",
                                 summary=(f"{text} prototype" if k % 3 == 0 else text)
                                 + " with results measured in a new study",
                                 fetched_at=when, guid=f"{fid}-{month}-{k}", published=when,
                                 language="en")
                items.append(item)
                centre = centres[{"6g": 0, "deep-sea": 1, None: 2}[fid]]
                vector = centre + 0.1 * rng.normal(size=16)
                hashes.append(item["content_hash"])
                vectors.append(vector / np.linalg.norm(vector))
                rows.append((item, fid))
    store.upsert_items(items)
    store.save_embeddings("m", hashes, np.array(vectors, dtype=np.float32))
    key = taxonomy_key(TAXONOMY)
    field_ids = [f.id for f in TAXONOMY.active_fields]
    store.save_assignments([
        {"item_id": item["id"], "taxonomy": key, "model": "m",
         "content_hash": item["content_hash"],
         "scores": {f: (0.9 if f == fid else 0.01) for f in field_ids},
         "fields": [fid] if fid else [], "evidence": {},
         "pathways": {fid: {TAXONOMY.fields[fid].pathways[0].id: 0.8}} if fid else {},
         "method": "zero-shot"} for item, fid in rows])
    update_topics(store, TopicSettings(window_days=400, n_components=8, n_clusters=3,
                                       min_topic_size=5), "m", key, "2025-12-31")
    return store
