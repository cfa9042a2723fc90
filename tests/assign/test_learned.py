"""Learned features (field probes, centroids) without leakage; passing mentions; the
minimum-content rule in the assign stage."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from scanner import PROJECT_ROOT
from scanner.assign import Calibrator, Scorer, assign_items
from scanner.assign.features import FEATURES, build_features, field_statistics
from scanner.assign.learned import LEARNED, FieldProbes, out_of_fold
from scanner.embed import embed_new_items, load_embedder
from scanner.ingest.normalize import make_item
from scanner.store import Store
from scanner.taxonomy import load_taxonomy, taxonomy_key

TAXONOMY = load_taxonomy(PROJECT_ROOT / "data" / "taxonomy" / "taxonomy-2025.1.toml")
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _data(n: int = 60, fields: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.zeros((n, fields), dtype=int)
    labels[np.arange(n), np.arange(n) % fields] = 1
    labels[::5] = 0  # some items have no field
    vectors = rng.normal(size=(n, 16)) + 2 * labels @ rng.normal(size=(fields, 16))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), labels


def test_an_items_learned_features_are_computed_without_it() -> None:
    vectors, labels = _data()
    before = out_of_fold(vectors, labels, folds=5, seed=3)
    for i in (0, 7, 31):
        flipped = labels.copy()
        flipped[i] = 1 - flipped[i]  # its own label changes: its features must not
        after = out_of_fold(vectors, flipped, folds=5, seed=3)
        assert np.array_equal(before[i], after[i])
        assert not np.array_equal(before, after)  # other items' features do change
    assert before.shape == (60, 3, len(LEARNED))


def test_probes_separate_fields_and_round_trip() -> None:
    vectors, labels = _data()
    probes = FieldProbes(alpha=0.3).fit(vectors, labels)
    scores = probes.scores(vectors)
    positive = scores[:, :, 0][labels == 1].mean()
    assert positive > scores[:, :, 0][labels == 0].mean()
    none = labels.sum(axis=1) == 0  # the no-field probe is highest on no-field items
    assert scores[none, 0, 2].mean() > scores[~none, 0, 2].mean()
    again = FieldProbes.from_dict(probes.to_dict())
    assert np.allclose(again.scores(vectors), scores, atol=1e-4)


def test_a_keyword_named_once_in_a_long_body_is_a_passing_mention() -> None:
    embedder = load_embedder("hashing-test")
    scorer = Scorer(TAXONOMY, embedder)
    filler = "The provincial economy grew steadily with new roads and schools. " * 12
    titles = ["Provincial economy report", "Tokamak plasma confinement record"]
    bodies = [filler + "A tokamak was mentioned once. " + filler, "The tokamak held plasma."]
    evidence = scorer.evidence(titles, bodies, embedder.embed(titles))
    mean, std = field_statistics(evidence)
    x = build_features(evidence, scorer.field_ids, mean, std)
    j = scorer.field_ids.index("controlled-nuclear-fusion")
    passing = FEATURES.index("kw_passing")
    assert x[0, j, passing] == 1.0  # once, deep in a long body, not in the title or lead
    assert x[1, j, passing] == 0.0  # in the title: the item is about it


def test_an_item_without_minimum_content_gets_no_field(store: Store) -> None:
    embedder = load_embedder("hashing-test")
    scorer = Scorer(TAXONOMY, embedder)
    fields = TAXONOMY.active_fields
    titles = [f"{f.en}: {f.keywords_en[0]} advances reported in study {i} of this new series"
              for i, f in enumerate(fields * 4)]
    labels = np.zeros((len(titles), len(fields)), dtype=int)
    labels[np.arange(len(titles)), np.arange(len(titles)) % len(fields)] = 1
    calibrator = Calibrator(threshold=0.5).fit(
        scorer.evidence(titles, [""] * len(titles), embedder.embed(titles)), labels,
        scorer.field_ids)
    full = make_item(source_id="s", kind="paper", title=titles[0], summary="", fetched_at=NOW,
                     url="https://example.org/full", published=NOW)
    bare = make_item(source_id="s", kind="news", title=f"6G {fields[0].keywords_en[0]}",
                     summary="", fetched_at=NOW, url="https://example.org/bare", published=NOW)
    store.upsert_items([full, bare])
    embed_new_items(store, embedder)
    key = taxonomy_key(TAXONOMY)
    result = assign_items(store, scorer, calibrator, key)
    assert result.assigned == 2 and result.with_fields == 1
    kept = store.assignment(full["id"], key, "hashing-test")
    assert kept and kept["fields"] == [fields[0].id]
    row = store.assignment(bare["id"], key, "hashing-test")
    assert row and row["fields"] == [] and row["method"] == "minimum-content"
    assert max(row["scores"].values()) == 0.0
