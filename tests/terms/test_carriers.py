"""Which stored items carry the run's emerging terms (the signals' terms sub-score)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from scanner.cli import cli
from scanner.store import Store
from scanner.terms.service import term_carriers
from tests.support.terms import import_corpus, write_corpus


def test_carriers_are_the_window_s_items_holding_a_ranked_term(tmp_path: Path) -> None:
    corpus, db = tmp_path / "tiny.csv", tmp_path / "s.db"
    write_corpus(corpus)
    runner = CliRunner()
    assert import_corpus(runner, db, corpus).exit_code == 0
    result = runner.invoke(cli, ["--db", str(db), "terms", "update", "--date", "2017-06-30"])
    assert result.exit_code == 0, result.output
    with Store(str(db)) as store:
        ranked = {r["term"] for r in store.term_ranking("2017-06-30")}
        assert "quantum sprocket" in ranked
        found = term_carriers(store, "2017-06-30", "2017-01-01", None)
        assert found is not None
        carriers, streams = found
        assert streams == {"paper"}
        window = [dict(r) for r in store.db.query(
            "SELECT id, title, summary, published FROM items WHERE published >= '2017-01-01' "
            "AND published < '2017-07-01'")]
        sprockets = {r["id"] for r in window if "quantum sprocket" in r["summary"]}
        assert sprockets and sprockets <= set(carriers)  # every holder of the rising term
        assert all("quantum sprocket" in carriers[i] for i in sprockets)
        by_id = {r["id"]: r for r in window}
        assert set(carriers) <= set(by_id)  # nothing outside the window
        # each item's terms are exactly the ranked ones it holds, in rank order
        from scanner.terms.extract import item_terms

        order = [r["term"] for r in store.term_ranking("2017-06-30")]
        for i, terms in carriers.items():
            held = item_terms(by_id[i]["title"], by_id[i]["summary"]) & ranked
            assert terms == [t for t in order if t in held]
        # the backtest's marks follow the same rule on the same items
        import numpy as np

        from scanner.evaluation.corpus import Corpus
        from scanner.evaluation.topicterms import CARRIES, term_marks

        corpus = Corpus(np.zeros((len(window), 1)), np.array([r["published"][:10] for r in window]),
                        [None] * len(window), titles=[r["title"] for r in window],
                        summaries=[r["summary"] for r in window])
        marks = term_marks(corpus, {"paper": ranked}, np.arange(len(window)))
        assert {window[i]["id"] for i in np.flatnonzero(marks == CARRIES)} == set(carriers)
        # a run date whose terms were not ranked: nothing to judge by
        assert term_carriers(store, "2016-06-30", "2016-01-01", None) is None


class _FakeStore:
    """What term_carriers reads: a ranking and the window's items."""

    def __init__(self, items: list[dict]) -> None:
        self.items = items

    def term_ranking(self, run_date: str) -> list[dict]:
        return [{"term": "reward policy", "stream": "paper", "rank": 1},
                {"term": "GAN", "stream": "paper", "rank": 2},
                {"term": "deep learning", "stream": "paper", "rank": 3}]

    def window_items(self, since: str, until: str, kinds: list[str]) -> list[dict]:
        assert (since, until, kinds) == ("2025-01-01", "2025-06-30", ["paper"])
        return self.items


def test_plural_and_line_broken_forms_carry_the_term_and_a_substring_does_not() -> None:
    items = [{"id": "a", "kind": "paper", "title": "Reward policies", "summary": "GANs"},
             {"id": "b", "kind": "paper", "title": "On reward", "summary": "policy shaping"},
             {"id": "c", "kind": "paper", "title": "Reward\npolicy shaping", "summary": ""},
             {"id": "d", "kind": "paper", "title": "Organ transplants", "summary": "ORGANs"}]
    found = term_carriers(_FakeStore(items), "2025-06-30", "2025-01-01", None)  # type: ignore[arg-type]
    assert found is not None
    carriers, streams = found
    assert carriers["a"] == ["reward policy", "GAN"]  # folded plurals, in rank order
    assert carriers["c"] == ["reward policy"]  # a line break inside the phrase
    assert "b" not in carriers and "d" not in carriers  # across fields; inside a word
    assert streams == {"paper"}
    # whatever the extraction joins into a phrase, the prefilter lets through
    from scanner.terms.extract import item_terms

    parted = ["deep-\nlearning", "deep_learning", "deep\u2013learning", "`deep` learning"]
    items = [{"id": str(i), "kind": "paper", "title": "On " + text, "summary": ""}
             for i, text in enumerate(parted)]
    found = term_carriers(_FakeStore(items), "2025-06-30", "2025-01-01", None)  # type: ignore[arg-type]
    assert found is not None
    for i, text in enumerate(parted):
        held = "deep learning" in item_terms("On " + text, "")
        assert (found[0].get(str(i)) == ["deep learning"]) == held, text
