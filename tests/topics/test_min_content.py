"""Near-empty items are stored but never clustered (issue 17, problem 8)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from scanner.config import TopicSettings
from scanner.ingest import make_item
from scanner.topics import update_topics


def test_near_empty_items_are_not_clustered(store) -> None:
    when = datetime(2026, 1, 10, tzinfo=UTC)
    rng = np.random.default_rng(0)
    centre = rng.normal(size=8)
    items, vectors = [], []
    for k in range(30):
        junk = k % 3 == 0
        items.append(make_item(
            source_id="s", kind="news", fetched_at=when, published=when, guid=f"g{k}",
            title="" if junk else f"Solid-state battery pilot line {k}",
            summary=["foo", "clickme", "<a"][k % 3] if junk else
            "A pilot line for solid-state batteries opened with a capacity of two gigawatt"))
        v = centre + 0.05 * rng.normal(size=8)
        vectors.append(v / np.linalg.norm(v))
    store.upsert_items(items)
    store.save_embeddings("m", [i["content_hash"] for i in items],
                          np.array(vectors, dtype=np.float32))
    (scope,) = update_topics(store, TopicSettings(window_days=30, n_components=4,
                                                  n_clusters=1, min_topic_size=5),
                             "m", "tax@1", "2026-01-20")
    assert scope["items"] == 20  # the ten near-empty items never entered the window
    members = store.topic_memberships("m", "all")
    junk_ids = {i["id"] for k, i in enumerate(items) if k % 3 == 0}
    assert junk_ids and not junk_ids & set(members)
