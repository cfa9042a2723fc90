"""Emerging terms: extraction, counting, scoring, the store's increments, CLI, backtest."""

from __future__ import annotations

import csv
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from scanner.cli import cli
from scanner.config import TermSettings
from scanner.evaluation.terms import crossing_month, months_between, parse_cutoffs
from scanner.store import Store
from scanner.terms.counts import count_corpus, count_items, from_counter, item_totals, month_range
from scanner.terms.emergence import rank_terms
from scanner.terms.extract import ChineseSegmenter, english_terms, fold_plural, item_terms
from scanner.terms.service import count_new_items, stored_counts
from scanner.terms.stats import escore, poisson_trend, rate_ratio_interval
from tests.support.terms import import_corpus, write_corpus

# -- extraction ---------------------------------------------------------------------------


def test_phrases_stop_at_stopwords_and_punctuation() -> None:
    terms = english_terms("Training of deep networks, with quantum error correction.")
    assert {"training", "deep network", "quantum error correction", "error correction"} <= terms
    assert "training deep" not in terms  # "of" bounds the phrase
    assert "network quantum" not in terms and "deep network quantum" not in terms  # comma
    assert all(len(t.split()) <= 3 for t in terms)


def test_a_version_number_stays_with_its_name() -> None:
    terms = english_terms("GPT-5.1 and Qwen2.5-VL beat DeepSeek-V3.2 on 2.5 million samples.")
    assert {"GPT-5.1", "qwen2.5-VL", "DeepSeek-v3.2", "million sample"} <= terms
    assert "GPT-5" not in terms and "2.5" not in terms  # the period cut the name before
    terms = english_terms("Gemini 3 Pro and Claude Sonnet 4.5 beat Llama 4 (Figure 3, Table 2)")
    assert {"gemini 3", "gemini 3 pro", "claude sonnet 4.5", "llama 4"} <= terms
    assert {"gemini", "llama", "claude sonnet"} <= terms  # the family is counted as well
    assert not {"figure 3", "table 2"} & terms and "figure" in terms
    assert "stable diffusion" in english_terms("We fine-tune Stable Diffusion 3 on it")
    assert not any(t.endswith(" 2025") for t in english_terms("In SemEval 2025 we rank"))
    assert not any(t[-1].isdigit() for t in english_terms(
        "Figures 3 and Experiments 2 show it. Solving 10 Problems With Big Models"))
    assert "0.5-1.0" not in english_terms("ratios of 0.5-1.0 hold")
    assert {"naïve baseline", "schrödinger equation"} <= english_terms(
        "A naïve baseline of the Schrödinger equation, 3×3 grids")  # once "na ve baseline"
    assert "naïve baseline" in item_terms("A nai\u0308ve baseline", None)  # decomposed (NFD)


def test_a_possessive_folds_into_its_word() -> None:
    terms = english_terms("The policy's reward shapes the agents' memory and the model's")
    assert {"policy reward", "policy", "agent", "model"} <= terms
    assert not any("'" in t for t in terms)  # once "policy'" and "model'"


def test_plurals_fold_on_the_head_word_only() -> None:
    assert fold_plural("networks") == "network" and fold_plural("studies") == "study"
    assert fold_plural("approaches") == "approach" and fold_plural("GANs") == "GAN"
    for kept in ("physics", "analysis", "loss", "status", "series", "gas"):
        assert fold_plural(kept) == kept
    terms = english_terms("Neural networks and neural network")
    assert "neural network" in terms and "neural networks" not in terms
    assert "networks neural" not in terms


def test_acronyms_keep_their_case_and_short_codes_are_upper_cased() -> None:
    terms = english_terms("GANs for 5g LiDAR and mmWave sensing")
    assert {"GAN", "5G", "LiDAR", "mmWave", "mmWave sensing"} <= terms
    assert "lidar" not in terms and "gans" not in terms
    shouting = english_terms("DEEP LEARNING FOR IMAGE SEGMENTATION")
    assert "deep learning" in shouting and "DEEP" not in shouting


def test_math_and_numbers_bound_phrases() -> None:
    terms = english_terms("phase $x^2 + y$ transition at 300 kelvin")
    assert "phase" in terms and "transition" in terms and "phase transition" not in terms
    assert "300" not in terms and "kelvin" in terms


def test_chinese_taxonomy_terms_stay_whole() -> None:
    text = "科学家展示了量子点激光器的新进展"
    plain = ChineseSegmenter().terms(text)
    assert "量子点激光器" not in plain  # jieba alone cuts it
    kept = ChineseSegmenter(["量子点激光器"]).terms(text)
    assert "量子点激光器" in kept
    both = item_terms("Quantum dot lasers", text, ChineseSegmenter(["量子点激光器"]))
    assert "quantum dot laser" in both and "量子点激光器" in both


# -- counting -----------------------------------------------------------------------------


def _rows(seed: int = 3, months: int = 6, per_month: int = 40) -> list[tuple]:
    rng = random.Random(seed)
    words = ["photonic", "lattice", "spin", "qubit", "solver", "graph", "kernel", "sensor"]
    rows = []
    for m in month_range("2020-01", "2020-12")[:months]:
        for _ in range(per_month):
            text = ". ".join(" ".join(rng.sample(words, 2)) for _ in range(3))
            rows.append((m, "paper", rng.choice(["cs.LG", "cs.CV", "quant-ph"]),
                         rng.choice(words).title(), text))
    return rows


def test_count_corpus_in_workers_equals_the_plain_count() -> None:
    from scanner.terms.counts import venue_totals

    rows = _rows()
    plain = from_counter(count_items(rows), item_totals((r[0], r[1]) for r in rows), "paper",
                         venue_totals((r[0], r[2]) for r in rows))
    chunks = [[(m, v, t, x) for m, _, v, t, x in rows[i:i + 40]] for i in range(0, len(rows), 40)]
    for workers in (1, 2):
        parallel = count_corpus(chunks, "paper", workers=workers)
        assert np.array_equal(parallel.totals, plain.totals)
        assert parallel.venues == plain.venues
        assert np.array_equal(parallel.venue_totals, plain.venue_totals)
        for term in plain.terms:
            # every term here recurs within a month, so all are named
            assert np.array_equal(parallel.series(term), plain.series(term)), term


def test_store_increments_equal_a_rebuild(store: Store) -> None:
    from datetime import UTC, datetime

    from scanner.ingest.normalize import make_item

    now = datetime(2021, 1, 1, tzinfo=UTC)
    items = [make_item(source_id="s", kind="paper", title=t, summary=x, fetched_at=now,
                       published=datetime.fromisoformat(f"{m}-15T00:00:00+00:00"),
                       categories=[v], primary_category=v, guid=f"g{i}")
             for i, (m, _, v, t, x) in enumerate(_rows())]
    store.upsert_items(items[:100])
    assert count_new_items(store, None) == 100
    store.upsert_items(items[100:])
    assert count_new_items(store, None) == len(items) - 100
    assert count_new_items(store, None) == 0  # nothing is counted twice
    nightly = sorted(store.term_count_rows("paper"))
    store.clear_term_counts()
    assert count_new_items(store, None) == len(items)
    assert sorted(store.term_count_rows("paper")) == nightly
    stored = stored_counts(store, "paper")
    assert stored.totals.sum() == len(items)
    assert stored.venue_totals is not None and stored.venue_totals.sum() == len(items)


# -- scoring ------------------------------------------------------------------------------


def _synthetic_counts(months: int = 48, per_month: int = 400):
    """Background items plus a rising, a flat, a falling and a one-venue rising term."""
    rng = random.Random(7)
    venues = [f"v{i}" for i in range(6)]
    rows = []
    for k, m in enumerate(month_range("2016-01", "2021-12")[:months]):
        rising = max(0, k - 24)  # from nothing, from the third year on
        for j in range(per_month):
            words = [f"filler{rng.randrange(300)}" for _ in range(3)]
            text = ". ".join(words)
            if j < rising:
                text += ". quantum sprocket"
            if j < 2:
                text += ". steady widget"
            if j < max(0, 3 - k // 12):
                text += ". fading gizmo"
            venue = rng.choice(venues)
            if per_month - j <= rising:
                text += ". solitary gadget"
                venue = "v0"
            rows.append((m, "paper", venue, None, text))
    return from_counter(count_items(rows), item_totals((r[0], r[1]) for r in rows), "paper")


def test_a_term_growing_from_nothing_ranks_above_flat_and_falling_ones() -> None:
    counts = _synthetic_counts()
    settings = TermSettings()
    ranked = [r["term"] for r in rank_terms(counts, "2020-01", settings)]
    assert "quantum sprocket" in ranked
    for flat in ("steady widget", "fading gizmo"):
        assert flat not in ranked or ranked.index(flat) > ranked.index("quantum sprocket")
    # the scores themselves order the three, before any criterion filters
    rows = [counts.index[t] for t in ("quantum sprocket", "steady widget", "fading gizmo")]
    monthly = np.stack([counts.series(counts.terms[r]) for r in rows])[:, :48]
    quarters = monthly.reshape(3, 16, 3).sum(axis=2)
    totals = counts.totals[:48].reshape(16, 3).sum(axis=1)
    scores = escore(1e4 * quarters[:, 8:] / totals[8:])[0]
    slopes = poisson_trend(quarters, totals, np.arange(16) / 4)[0]
    assert scores[0] > scores[1] > scores[2] and slopes[0] > slopes[1] > slopes[2]


def _new_venue_counts(by_venue: bool = True):
    """Four years of 400 items a month in six venues; from the third year a seventh venue
    ("new") adds 100 items a month, a fifth of them naming "venue jargon" (as steady in
    that venue as any word): and "quantum sprocket" rises inside the old venues."""
    from scanner.terms.counts import venue_totals

    rng = random.Random(3)
    rows = []
    for k, m in enumerate(month_range("2016-01", "2019-12")):
        rising = max(0, k - 24)
        for j in range(400):
            text = ". ".join(f"filler{rng.randrange(300)}" for _ in range(3))
            if j < rising:
                text += ". quantum sprocket"
            rows.append((m, "paper", f"v{rng.randrange(6)}", None, text))
        for j in range(100 if k >= 24 else 0):
            text = ". ".join(f"filler{rng.randrange(300)}" for _ in range(3))
            rows.append((m, "paper", "new", None, text + (". venue jargon" if j < 20 else "")))
    totals = item_totals((r[0], r[1]) for r in rows)
    return from_counter(count_items(rows), totals, "paper",
                        venue_totals((r[0], r[2]) for r in rows) if by_venue else None)


def test_a_venue_that_starts_mid_window_does_not_make_its_words_emerge() -> None:
    """A category a dump starts to harvest, or a feed added to the sources, brings its
    everyday words with it: against the stream's totals they rise from nothing; against
    their own venue's items (venue_mix) they are flat. A term rising inside the old
    venues ranks either way."""
    counts = _new_venue_counts()
    loose = replace(TermSettings(), min_venues=1, venue_mix=False)
    plain = [r["term"] for r in rank_terms(counts, "2020-01", loose)]
    assert "venue jargon" in plain and "quantum sprocket" in plain  # the confound
    mixed = [r["term"] for r in rank_terms(counts, "2020-01", replace(loose, venue_mix=True))]
    assert "venue jargon" not in mixed and "quantum sprocket" in mixed
    # without venue totals (a store counted before they were kept) the stream's are used
    unknown = _new_venue_counts(by_venue=False)
    assert "venue jargon" in [r["term"] for r in rank_terms(
        unknown, "2020-01", replace(loose, venue_mix=True))]
    # a run months after the newest item (the stale rule still ranks the stream) works
    assert "venue jargon" not in [r["term"] for r in rank_terms(
        counts, "2020-03", replace(loose, venue_mix=True))]


def test_the_venue_rule_leaves_a_term_that_follows_a_growing_stream_flat() -> None:
    """The offsets replace the stream's totals at their scale: a rare term that keeps its
    share of a stream growing fourfold shows the same trend with and without the rule
    (on the term's own scale the one-item floor read the stream's growth as its own)."""
    from scanner.terms.counts import venue_totals
    from scanner.terms.emergence import build_window

    rng = random.Random(5)
    rows = []
    for k, m in enumerate(month_range("2016-01", "2019-12")):
        for _ in range(200 + 12 * k):  # 200 items a month growing to 764
            text = ". ".join(f"filler{rng.randrange(300)}" for _ in range(3))
            text += ". faithful follower" if rng.random() < 0.004 else ""
            rows.append((m, "paper", f"v{rng.randrange(4)}", None, text))
        for _ in range(60 if k >= 30 else 0):  # a venue harvested from mid-2018 on
            rows.append((m, "paper", "new", None, f"filler{rng.randrange(300)}"))
    counts = from_counter(count_items(rows), item_totals((r[0], r[1]) for r in rows),
                          "paper", venue_totals((r[0], r[2]) for r in rows))
    settings = TermSettings()
    window = build_window(counts, counts.month_index("2020-01"), settings)
    assert window.expected is not None  # the new venue shifted: the rule is on
    i = int(np.searchsorted(window.terms, counts.index["faithful follower"]))
    series = window.counts[i:i + 1]
    years = np.arange(series.shape[1]) * 0.25
    with_rule = poisson_trend(series, window.expected[i:i + 1], years)[0][0]
    without = poisson_trend(series, window.totals, years)[0][0]
    assert abs(with_rule - without) < 0.1 and abs(with_rule) < 0.3
    assert window.expected[i].sum() == pytest.approx(window.totals.sum())


def test_community_rejects_a_term_carried_by_one_venue() -> None:
    counts = _synthetic_counts()
    settings = TermSettings()
    assert "solitary gadget" not in [r["term"] for r in rank_terms(counts, "2020-01", settings)]
    loose = replace(settings, min_venues=1, max_venue_share=1.0)
    assert "solitary gadget" in [r["term"] for r in rank_terms(counts, "2020-01", loose)]


def test_every_figure_carries_its_support_and_interval() -> None:
    row = next(r for r in rank_terms(_synthetic_counts(), "2020-01", TermSettings())
               if r["term"] == "quantum sprocket")
    assert row["base_items"] == 0 and row["active_items"] == sum(row["series"])
    assert row["late_items"] + row["early_items"] == sum(row["series"])
    assert 1.0 < row["ratio_low"] < row["share_ratio"] < row["ratio_high"]
    assert row["trend_low"] < row["trend"] < row["trend_high"]
    ratio, low, high = rate_ratio_interval(np.array([40.0]), 1000.0, np.array([10.0]),
                                           1000.0, 0.9)
    assert low[0] < ratio[0] == 4.0 < high[0]


# -- backtest and CLI ---------------------------------------------------------------------


def test_crossing_month_needs_the_share_to_stay() -> None:
    months = month_range("2010-01", "2012-12")
    totals = np.full(len(months), 1000.0)
    series = np.zeros(len(months))
    series[5] = 20  # one burst: crosses, then falls back
    series[24:] = 3  # from 2012-01 on: 12 items (0.1% of 12,000) by 2012-04
    assert crossing_month(series, totals, months) == "2012-04"
    assert months_between("2011-03", "2012-01") == 10
    assert parse_cutoffs("2013-01-01..2013-12-01") == ["2013-01", "2013-04", "2013-07",
                                                        "2013-10"]
    with pytest.raises(ValueError):
        parse_cutoffs("2013-01-15")


def test_backtest_on_a_tiny_corpus_through_the_cli(tmp_path: Path) -> None:
    corpus, known = tmp_path / "tiny.csv", tmp_path / "known.csv"
    write_corpus(corpus)
    known.write_text("term,regex,role\nsprocket,quantum sprocket,emerging\n"
                     "widget,steady widget,control\n", encoding="utf-8")
    config = tmp_path / "scanner.toml"
    config.write_text("[terms]\nmin_active_df = 4\n", encoding="utf-8")
    out = tmp_path / "ranked.csv"
    result = CliRunner().invoke(cli, [
        "--config", str(config), "evaluate", "terms", "--corpus", str(corpus),
        "--map", "title=headline", "--map", "summary=body", "--map", "published=date",
        "--map", "primary_category=cat", "--cutoffs", "2016-04..2017-10", "--top", "10",
        "--known", str(known), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0])[:4] == ["cutoff", "rank", "term", "score"]
    assert {r["cutoff"] for r in rows} <= {"2016-04", "2016-07", "2016-10", "2017-01",
                                           "2017-04", "2017-07", "2017-10"}
    assert "| sprocket | emerging |" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("| sprocket"))
    cells = [c.strip() for c in line.split("|")[1:-1]]
    crossing, flagged, lead = cells[2], cells[3], cells[5]
    assert flagged != "never" and int(lead) == months_between(flagged, crossing)
    control = next(x for x in result.output.splitlines() if x.startswith("| widget"))
    assert [c.strip() for c in control.split("|")[1:-1]][3] == "never"  # never in a top 10
    assert '"controls_flagged": 0' in result.output


def test_a_young_corpus_is_backtested_on_the_windows_a_nightly_run_would_use(
        tmp_path: Path) -> None:
    """A corpus shorter than the configured windows (27 months and more) is ranked, as the
    nightly run ranks a young store, on monthly windows fitted to the history before each
    cut-off; before, the backtest stopped with "no cut-off has 27 months"."""
    import json

    from scanner.terms.corpus import backtest_terms

    corpus, config = tmp_path / "young.csv", tmp_path / "scanner.toml"
    write_corpus(corpus, months=("2019-01", "2019-12"), rise_from=2)
    # a 1% emerged level: a base of 200 items can judge novelty (the thin-base rule)
    config.write_text("[terms]\nemerged_share = 0.01\nmin_active_df = 4\n", encoding="utf-8")
    known = "term,regex,role\nsprocket,quantum sprocket,emerging\n"
    settings = replace(TermSettings(), emerged_share=0.01, min_active_df=4)
    mapping = dict(pair.split("=") for pair in ("title=headline", "summary=body",
                                                 "published=date", "primary_category=cat"))
    result = backtest_terms(str(corpus), tmp_path, settings, None, 10, known, mapping,
                            workers=1)
    # default cut-offs: every third month back from the last; those under 6 months skipped
    assert result["cutoffs"] == ["2019-09", "2019-12"]
    assert set(result["skipped"]) == {"2019-03", "2019-06"}
    assert "months of history" in result["skipped"]["2019-06"]
    last = result["results"][-1]
    assert last.window.startswith("monthly windows") and last.window in result["markdown"]
    assert "quantum sprocket" in [r["term"] for r in last.ranked]
    sprocket = result["known"][0]
    assert sprocket["flagged"] == "2019-09" and sprocket["crossing"] is not None
    # the nightly run on the same items, run the day before that cut-off, lists the same
    db, runner = tmp_path / "s.db", CliRunner()
    assert import_corpus(runner, db, corpus).exit_code == 0
    update = runner.invoke(cli, ["--db", str(db), "--config", str(config), "terms", "update",
                                 "--date", "2019-11-30"])
    assert update.exit_code == 0, update.output
    listed = runner.invoke(cli, ["--db", str(db), "--config", str(config), "terms", "--json",
                                 "--limit", "10"])
    assert listed.exit_code == 0, listed.output
    nightly = [r["term"] for r in json.loads(listed.output)]
    assert nightly == [r["term"] for r in last.ranked] and "quantum sprocket" in nightly


def test_a_share_above_the_level_from_the_start_crosses_at_the_start() -> None:
    months = month_range("2025-03", "2026-06")
    totals = np.full(len(months), 1000.0)
    series = np.full(len(months), 5.0)  # 0.5% from the first month on
    assert crossing_month(series, totals, months) == "2025-03"  # was "2026-02", month 12
    from scanner.evaluation.terms import quarters_back

    assert quarters_back(month_range("2025-03", "2026-07")) == [
        "2025-04", "2025-07", "2025-10", "2026-01", "2026-04", "2026-07"]


def test_terms_cli_on_a_small_store(tmp_path: Path) -> None:
    corpus = tmp_path / "tiny.csv"
    write_corpus(corpus)
    db = tmp_path / "s.db"
    runner = CliRunner()
    result = import_corpus(runner, db, corpus)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--db", str(db), "terms", "update", "--date", "2017-06-30"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--db", str(db), "terms", "--json"])
    assert result.exit_code == 0, result.output
    import json

    rows = json.loads(result.output)
    top = next(r for r in rows if r["term"] == "quantum sprocket")
    assert top["stream"] == "paper" and top["evidence"] and top["monthly"]
    assert top["outside_taxonomy"] is True  # no item of the store has fields
    outside = runner.invoke(cli, ["--db", str(db), "terms", "--outside", "--csv"])
    assert "quantum sprocket" in outside.output
    assert Counter(r["run_date"] for r in rows) == {"2017-06-30": len(rows)}


def test_nested_terms_fold_into_the_most_specific_one() -> None:
    from scanner.terms.emergence import fold_nested

    ranked = [{"term": "adversarial network", "active_items": 20},
              {"term": "generative adversarial", "active_items": 20},
              {"term": "generative adversarial network", "active_items": 19},
              {"term": "network", "active_items": 500}]
    folded = fold_nested(ranked, 0.5)
    assert [r["term"] for r in folded] == ["generative adversarial network", "network"]
    assert set(folded[0]["folded"]) == {"adversarial network", "generative adversarial"}


def test_a_run_long_after_the_newest_item_still_ranks(tmp_path: Path) -> None:
    from scanner.terms.service import add_months, next_month

    assert next_month("2026-12-05") == "2027-01" and add_months("2026-01", -24) == "2024-01"
    corpus = tmp_path / "tiny.csv"
    write_corpus(corpus)
    db = tmp_path / "s.db"
    runner = CliRunner()
    import_corpus(runner, db, corpus)
    # the corpus ends in 2019: a run in 2026 would rank 2019's words as emerging now; the
    # stream is skipped and the reason names its newest month
    result = runner.invoke(cli, ["--db", str(db), "terms", "update", "--date", "2026-11-23"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "ranked {}" in out and "skipped paper: no items since 2019-12" in out
    with Store(db) as store:
        assert store.term_ranking("2026-11-23") == []
    # a run inside the corpus's months still ranks it
    result = runner.invoke(cli, ["--db", str(db), "terms", "update", "--date", "2019-12-31"])
    assert result.exit_code == 0 and "skipped" not in result.output, result.output


# -- graded novelty, blended ranking, bounded nightly read --------------------------------


def _riser_counts(per_month: int = 400):
    """Background items plus two terms whose share grows sixfold in three years (one per
    quarter's worth of growth each month): one starting at 0.5% of the stream, one at 1.5%."""
    rng = random.Random(11)
    rows = []
    for k, m in enumerate(month_range("2016-01", "2019-12")):
        low_riser = round(2 * 6 ** (max(0, k - 12) / 36))
        high_riser = 3 * low_riser
        for j in range(per_month):
            text = ". ".join(f"filler{rng.randrange(300)}" for _ in range(3))
            if j < low_riser:
                text += ". steady riser"
            if per_month - j <= high_riser:
                text += ". established riser"
            rows.append((m, "paper", f"v{rng.randrange(6)}", None, text))
    return from_counter(count_items(rows), item_totals((r[0], r[1]) for r in rows), "paper")


def test_novelty_is_graded_by_the_base_share_not_absence() -> None:
    counts = _riser_counts()
    # emerged at 2% of the stream (8 of 400 items a month): novel below 1% in the base
    settings = TermSettings(emerged_share=0.02)
    ranked = [r["term"] for r in rank_terms(counts, "2020-01", settings)]
    assert "steady riser" in ranked  # in the base at 0.5%, and growing
    assert "established riser" not in ranked  # in the base at 1.5%: above half of 2%
    old = replace(settings, novelty_ratio=0.25, novelty_fraction=1000.0)
    assert "steady riser" not in [r["term"] for r in rank_terms(counts, "2020-01", old)]


def test_growth_gate_asks_the_lower_bound_to_double_within_the_horizon() -> None:
    counts = _riser_counts()
    settings = TermSettings(emerged_share=0.02)
    row = next(r for r in rank_terms(counts, "2020-01", settings) if r["term"] == "steady riser")
    assert row["trend_low"] * settings.horizon_years >= np.log(2)
    strict = replace(settings, min_doublings=row["trend_low"] * 2 / np.log(2) + 0.1)
    assert "steady riser" not in [r["term"] for r in rank_terms(counts, "2020-01", strict)]


def test_blend_takes_rising_and_nearing_terms_in_turn() -> None:
    from scanner.terms.emergence import _order

    lower = np.array([1.0, 0.9, 0.5, 0.4])
    projected = np.array([-2.0, -1.5, 1.0, 0.5])
    gap = np.array([2.0, 2.0, 0.5, -0.1])  # the last one has emerged already
    keep = np.ones(4, dtype=bool)
    z = escores = np.zeros(4)
    assert _order("low", keep, lower, projected, gap, z, escores)[0] == [0, 1, 2, 3]
    assert _order("projected", keep, lower, projected, gap, z, escores)[0] == [2, 1, 0]
    assert _order("blend", keep, lower, projected, gap, z, escores)[0] == [0, 2, 1, 3]
    keep[0] = False
    assert _order("blend", keep, lower, projected, gap, z, escores)[0] == [1, 2, 3]
    with pytest.raises(ValueError):
        _order("nonsense", keep, lower, projected, gap, z, escores)


def test_nightly_ranking_reads_only_the_window_of_candidate_terms(store: Store) -> None:
    from datetime import UTC, datetime

    from scanner.ingest.normalize import make_item

    now = datetime(2021, 1, 1, tzinfo=UTC)
    rng = random.Random(2)
    rows = [("2018-06", "paper", "cs.LG", "Rare oddity", "once only")]
    for k, m in enumerate(month_range("2019-01", "2020-12")):
        for j in range(60):
            text = ". ".join(f"filler{rng.randrange(100)}" for _ in range(3))
            rows.append((m, "paper", f"cs.{j % 4}", "Growing thing" if j < k // 2 else
                         "Plain note", text))
    items = [make_item(source_id="s", kind="paper", title=t, summary=x, fetched_at=now,
                       published=datetime.fromisoformat(f"{m}-15T00:00:00+00:00"),
                       categories=[v], primary_category=v, guid=f"g{i}")
             for i, (m, _, v, t, x) in enumerate(rows)]
    store.upsert_items(items)
    count_new_items(store, None)
    settings = TermSettings(active_periods=4, base_periods=2, emerged_share=0.5,
                            max_base_share=0.5)
    full = stored_counts(store, "paper")
    bounded = stored_counts(store, "paper", settings, "2021-01")
    assert len(bounded.df) < len(full.df)
    assert "rare oddity" in full.terms and "rare oddity" not in bounded.terms
    assert np.array_equal(bounded.totals, full.totals)
    ranked = rank_terms(full, "2021-01", settings)
    assert ranked and ranked[0]["term"] == "growing thing"
    assert rank_terms(bounded, "2021-01", settings) == ranked


def test_an_unsorted_dump_is_read_in_month_order(tmp_path: Path) -> None:
    from scanner.terms.corpus import read_corpus

    rng = random.Random(4)
    rows = [(f"2020-{1 + rng.randrange(12):02d}-03", f"Title {i}", f"text {i}", f"c{i % 3}")
            for i in range(300)]
    path = tmp_path / "unsorted.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "headline", "body", "cat"])
        writer.writerows(rows)
    corpus = read_corpus(path, {"title": "headline", "summary": "body", "published": "date",
                                "primary_category": "cat"})
    chunks = list(corpus.chunks(rows=7))
    months = [row[0] for chunk in chunks for row in chunk]
    assert months == sorted(months) and len(months) == len(rows)
    assert all(len({row[0] for row in chunk}) == 1 for chunk in chunks)  # whole months
    assert sorted((r[0], r[2]) for chunk in chunks for r in chunk) == \
        sorted((d[:7], t) for d, t, _, _ in rows)


def test_a_rows_escore_parts_are_the_escores_and_its_recent_share_the_last_years() -> None:
    counts = _synthetic_counts()
    row = next(r for r in rank_terms(counts, "2020-01", TermSettings())
               if r["term"] == "quantum sprocket")
    # the active quarters' shares per 10,000 items, as the window builds them
    quarters = counts.series("quantum sprocket")[:48].reshape(16, 3).sum(axis=1)
    totals = counts.totals[:48].reshape(16, 3).sum(axis=1)
    score, active, recent, slope = escore(1e4 * quarters[None, 8:] / totals[8:])
    assert row["escore"] == pytest.approx(float(score[0]), abs=1e-3)
    assert row["active_trend"] == pytest.approx(float(active[0]), abs=1e-3)
    assert row["recent_trend"] == pytest.approx(float(recent[0]), abs=1e-3)
    assert row["slope"] == pytest.approx(float(slope[0]), abs=1e-3)
    assert row["escore"] == pytest.approx(
        2 * row["active_trend"] + row["recent_trend"] + row["slope"], abs=2e-3)
    year = (quarters[-4:].sum() + 0.5) / totals[-4:].sum()
    assert row["recent_share"] == pytest.approx(year, rel=1e-3)


def test_a_stream_is_judged_stale_by_the_months_before_the_cut_off() -> None:
    """A past date rerun on a store holding later items: news stopped in 2022-06 and came
    back in 2024; at a 2023-12 cut-off it had stopped, whatever came later."""
    from scanner.terms.service import newest_months, stale_stream_reason

    item_totals = [("2022-05", "news", 40), ("2022-06", "news", 38), ("2024-03", "news", 50),
                   ("2023-11", "paper", 90)]  # store.term_item_totals(): month, stream, n
    newest = newest_months(item_totals, "2023-12")
    assert newest == {"news": "2022-06", "paper": "2023-11"}
    settings = TermSettings()
    assert "no items since 2022-06" in stale_stream_reason(newest["news"], "2023-12", settings)
    assert stale_stream_reason(newest["paper"], "2023-12", settings) == ""
    assert newest_months(item_totals, "2024-06")["news"] == "2024-03"
