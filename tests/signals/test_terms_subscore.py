"""The terms sub-score: topics whose items carry the run's emerging terms rank higher."""

from __future__ import annotations

import numpy as np

from scanner.config import SignalSettings
from scanner.signals import Entity, rank_entities

TOTALS = {"paper": np.full(8, 4000.0)}


def _topics(term_items: list[tuple[int, int] | None]) -> list[Entity]:
    """Twin topics (the same series and evidence), differing only in their term items."""
    evidence = [{"kind": "paper", "source_id": "s", "authors": "[]",
                 "primary_category": "cs.LG", "title": "", "summary": ""}] * 40
    return [Entity("topics", f"t{i}", counts={"paper": np.full(8, 40.0)}, evidence=evidence,
                   term_items=t) for i, t in enumerate(term_items)]


def test_a_topic_carrying_more_emerging_terms_ranks_higher() -> None:
    rows = rank_entities(_topics([(2, 40), (30, 40), (10, 40), (5, 40)]), TOTALS,
                         SignalSettings())
    assert [r["entity_id"] for r in rows] == ["t1", "t2", "t3", "t0"]
    top = rows[0]
    assert top["subscores"]["terms"] == 1.0 and "terms" not in top["subscores"]["left_out"]
    assert top["indicators"]["term_items"] == 30 and top["indicators"]["term_judged"] == 40
    assert "30 of 40 items carry an emerging term" in top["explanation"]
    # weight 0 leaves it out of the score: the twins tie again
    flat = rank_entities(_topics([(2, 40), (30, 40)]), TOTALS, SignalSettings(weight_terms=0))
    assert flat[0]["score"] == flat[1]["score"]


def test_an_unjudged_topic_is_neutral_and_a_run_without_terms_leaves_the_sub_score_out() -> None:
    rows = {r["entity_id"]: r for r in rank_entities(
        _topics([(2, 40), (30, 40), None, (0, 0)]), TOTALS, SignalSettings())}
    # no judged item: the list's median share, between the two judged ones
    assert rows["t0"]["subscores"]["terms"] < rows["t2"]["subscores"]["terms"] \
        < rows["t1"]["subscores"]["terms"]
    assert rows["t2"]["subscores"]["terms"] == rows["t3"]["subscores"]["terms"]
    assert "term_items" not in rows["t2"]["indicators"]
    none = rank_entities(_topics([None, None, None]), TOTALS, SignalSettings())
    assert all("terms" not in r["subscores"] for r in none)  # not a list terms can judge
    # judged, but nothing carries a term anywhere: a constant share, left out
    plain = rank_entities(_topics([(0, 40), (0, 10), (0, 3)]), TOTALS, SignalSettings())
    assert all("terms" in r["subscores"]["left_out"] for r in plain)
    assert "emerging term" not in none[0]["explanation"]


def test_the_nightly_lists_give_topics_the_items_carrying_the_run_s_terms(tmp_path) -> None:
    from scanner.signals import compute_signals
    from scanner.taxonomy import taxonomy_key
    from scanner.terms.service import count_new_items
    from tests.support.signals import TAXONOMY, store_with_history

    store = store_with_history(str(tmp_path / "s.db"))
    key, settings = taxonomy_key(TAXONOMY), SignalSettings(period="quarter", periods=8)
    count_new_items(store, None)
    # the run ranked no term: no terms sub-score, nothing claims a term
    lists = compute_signals(store, TAXONOMY, key, "m", settings, "2025-12-31", 400)
    assert all("terms" not in r["subscores"] for r in lists["topics"])
    assert all("term_items" not in r["indicators"] for r in lists["topics"])
    store.save_term_ranking("2025-12-31", "paper", [{"term": "terahertz", "score": 1.0}])
    lists = compute_signals(store, TAXONOMY, key, "m", settings, "2025-12-31", 400)
    carrying = [r for r in lists["topics"] if r["indicators"]["term_items"]]
    assert len(carrying) == 1  # the 6G topic: every one of its items says terahertz
    six_g = carrying[0]
    assert six_g["indicators"]["term_items"] == six_g["indicators"]["term_judged"] > 0
    assert six_g["indicators"]["best_field"] == "6g" and six_g["subscores"]["terms"] == 1.0
    assert six_g["indicators"]["carried_terms"] == ["terahertz"]
    from scanner.report.reasons import reason

    assert "carry one of the run's emerging terms (terahertz)" in reason(six_g, {}, "en")
    assert "terms" not in six_g["subscores"]["left_out"]
    others = [r for r in lists["topics"] if r is not six_g]
    assert all(r["indicators"]["term_items"] == 0 < r["indicators"]["term_judged"]
               for r in others)
    # a watchlist entry shows its topic's figures, not ones recomputed among the few
    topics = {r["entity_id"]: r["indicators"] for r in lists["topics"]}
    assert lists["watchlist"]
    for row in lists["watchlist"]:
        mine, theirs = row["indicators"], topics[row["entity_id"]]
        assert (mine["forecast"], mine["term_share"], mine["forecast_prior"]) == \
            (theirs["forecast"], theirs["term_share"], theirs["forecast_prior"])
    # fields and pathways are not judged by it
    assert all("terms" not in r["subscores"] for r in lists["fields"] + lists["pathways"])
    store.close()


def test_a_topic_with_one_item_and_no_term_does_not_top_the_sub_score() -> None:
    rows = {r["entity_id"]: r for r in rank_entities(
        _topics([(0, 1), (9, 40), (2, 40), (0, 100)]), TOTALS, SignalSettings())}
    terms = {k: r["subscores"]["terms"] for k, r in rows.items()}
    assert max(terms, key=terms.get) == "t1"  # 9 of 40, not 0 of 1
    assert terms["t0"] < terms["t2"] and terms["t3"] == min(terms.values())
