"""The specificity check: a term stays when its items are closer to its embedding than
the window's other items are; phrasing that rises with a style of writing is left out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from scanner.config import TermSettings
from scanner.store import Store
from scanner.terms.service import terms_run
from scanner.terms.specificity import auc_interval, specificities
from tests.support.terms import import_corpus, write_corpus

DIM = 16


def test_the_auc_is_the_chance_a_carrier_is_closer_and_its_bound_widens_with_few() -> None:
    others = np.linspace(0, 1, 101)
    auc, low = auc_interval(np.array([2.0, 3.0, 4.0] * 10), others, 1.645)
    assert auc == 1.0 and low > 0.9
    auc, _ = auc_interval(np.array([0.5]), others, 1.645)
    assert abs(auc - 0.5) < 1e-9  # the median: closer than half, ties counted half
    rng = np.random.default_rng(0)
    background = rng.normal(size=3000)
    strong_many = auc_interval(rng.normal(1.5, 1, 200), background, 1.645)
    strong_few = auc_interval(rng.normal(1.5, 1, 4), background, 1.645)
    assert strong_many[1] > strong_few[1] and strong_few[0] - strong_few[1] > 0.1
    # a phrase whose carriers are drawn like every other item: no better than chance
    chance = auc_interval(rng.normal(0, 1, 300), background, 1.645)
    assert abs(chance[0] - 0.5) < 0.05 and chance[1] < 0.5


def test_specificities_judge_only_terms_with_enough_carriers() -> None:
    rng = np.random.default_rng(1)
    window = rng.normal(size=(500, DIM))
    subject = np.eye(DIM)[0]
    carriers = [rng.normal(size=(40, DIM)) + 4 * subject, rng.normal(size=(40, DIM)),
                rng.normal(size=(2, DIM)) + 4 * subject]
    judged = specificities(np.stack([subject, np.eye(DIM)[1], subject]), carriers,
                           [window] * 3, 1.645)
    assert judged[0] is not None and judged[0].low > 0.9 and judged[0].carriers == 40
    assert judged[1] is not None and judged[1].low < 0.5
    assert judged[2] is None  # two carriers: not judged, so kept


def _embed_items(store: Store, model: str) -> None:
    """Items about the sprocket point along axis 0; every other item anywhere."""
    rng = np.random.default_rng(2)
    rows = list(store.db.query("SELECT content_hash, summary FROM items"))
    vectors = rng.normal(size=(len(rows), DIM)).astype(np.float32)
    for i, row in enumerate(rows):
        if "quantum sprocket" in row["summary"]:
            vectors[i, 0] += 5.0
    store.save_embeddings(model, [r["content_hash"] for r in rows], vectors)


def _encode(texts: list[str]) -> np.ndarray:
    """The sprocket's terms along axis 0; any other term a direction of its own."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        if "sprocket" in text or "quantum" in text:
            out[i, 0] = 1.0
        else:
            out[i, 1 + sum(map(ord, text)) % (DIM - 1)] = 1.0
    return out


def test_a_night_leaves_out_phrasing_and_names_it(tmp_path: Path) -> None:
    corpus, db = tmp_path / "two.csv", tmp_path / "s.db"
    # from 2016 two phrases rise alike in separate items: "quantum sprocket" (a subject:
    # its items are about it) and "clear path" (phrasing)
    write_corpus(corpus, alike="clear path")
    assert import_corpus(CliRunner(), db, corpus).exit_code == 0
    settings = TermSettings()
    with Store(str(db)) as store:
        plain = terms_run(store, settings, "2017-06-30", "t", "m")
        assert plain["not_judged"] == {"paper": "no model to embed the terms"}
        unjudged = [r["term"] for r in store.term_ranking("2017-06-30")]
        assert "quantum sprocket" in unjudged and "clear path" in unjudged  # counts alike
        _embed_items(store, "m")
        judged = terms_run(store, settings, "2017-06-30", "t", "m", encode=_encode)
        kept = {r["term"]: r for r in store.term_ranking("2017-06-30")}
        assert "quantum sprocket" in kept and "clear path" not in kept
        assert kept["quantum sprocket"]["specificity"]["low"] > 0.9
        assert "clear path" in judged["phrasing"]["paper"] and not judged["not_judged"]
        # the order of what stays is the counts' order
        assert [t for t in unjudged if t in kept] == list(kept)
        # off: nothing left out
        terms_run(store, TermSettings(min_specificity=0.0), "2017-06-30", "t", "m",
                  encode=_encode)
        assert [r["term"] for r in store.term_ranking("2017-06-30")] == unjudged

        # a model that cannot embed keeps the counts' list and says why
        def broken(texts: list[str]) -> np.ndarray:
            raise RuntimeError("no weights")

        failed = terms_run(store, settings, "2017-06-30", "t", "m", encode=broken)
        assert "no weights" in failed["not_judged"]["paper"]
        assert [r["term"] for r in store.term_ranking("2017-06-30")] == unjudged
