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
        # a run date whose terms were not ranked: nothing to judge by
        assert term_carriers(store, "2016-06-30", "2016-01-01", None) is None
