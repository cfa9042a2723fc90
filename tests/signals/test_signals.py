"""Emergence indicators and the ranked lists built from a store."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from scanner.config import SignalSettings
from scanner.signals import Entity, fold_period, period_sequence, rank_entities
from scanner.signals.indicators import (
    emergence_score,
    kleinberg_bursts,
    maturity_cues,
    pooled_share,
    share_growth,
    stage_estimate,
    stage_versus_tier,
)
from scanner.taxonomy import taxonomy_key
from tests.support.signals import TAXONOMY, store_with_history


def test_share_growth_uses_shares_and_gives_a_wider_interval_for_few_items() -> None:
    totals = np.array([100, 100, 100, 1000, 1000, 1000, 1000, 1000, 1000, 1000])
    counts = totals * 0.05  # the same 5% share while coverage grows tenfold
    flat = share_growth(counts, totals, slice(0, 3), slice(3, 10))
    assert flat.ratio == pytest.approx(1.0, abs=0.05) and flat.low < 1 < flat.high
    few = share_growth(np.array([1, 0, 1, 2, 3, 2, 4, 3, 4, 5]), totals, slice(0, 3),
                       slice(3, 10))
    many = share_growth(np.array([10, 10, 10, 200, 300, 200, 400, 300, 400, 500]), totals,
                        slice(0, 3), slice(3, 10))
    assert math.log(few.high / few.low) > math.log(many.high / many.low)
    assert many.low > 1  # a clear rise is clear


def test_pooled_share_is_not_moved_by_a_source_kind_joining() -> None:
    # papers steady at 10%; a news source joins half-way, with the entity at 2% of it
    totals = {"paper": np.array([100.0, 100, 100, 100]), "news": np.array([0.0, 0, 500, 500])}
    counts = {"paper": np.array([10.0, 10, 10, 10]), "news": np.array([0.0, 0, 10, 10])}
    effective, total = pooled_share(counts, totals)
    assert np.allclose(effective / total, 0.1)  # a naive pooled share falls to 0.033
    # when both kinds cover every period, both count, weighted by their size
    totals["news"] = np.array([500.0, 500, 500, 500])
    effective, total = pooled_share(counts, totals)
    expected = (400 / 2400) * 0.1 + (2000 / 2400) * np.array([0, 0, 0.02, 0.02])
    assert np.allclose(effective / total, expected)


def test_emergence_score_rises_for_a_growing_share_and_not_for_a_flat_one() -> None:
    totals = np.full(10, 1000.0)
    rising = emergence_score(np.array([2, 2, 3, 4, 6, 9, 14, 20, 30, 45.0]), totals)
    flat = emergence_score(np.full(10, 20.0), totals)
    assert rising.escore > 10 and rising.candidate
    assert abs(flat.escore) < 1e-9 and not flat.candidate
    assert rising.escore == pytest.approx(2 * rising.active_trend + rising.recent_trend
                                          + rising.slope)


def test_kleinberg_marks_the_burst_periods() -> None:
    totals = np.full(12, 1000.0)
    counts = np.array([10, 12, 9, 11, 10, 60, 70, 65, 11, 10, 9, 12.0])
    states = kleinberg_bursts(counts, totals)
    assert states.tolist() == [0] * 5 + [1, 1, 1] + [0] * 4
    assert kleinberg_bursts(np.full(12, 10.0), totals).sum() == 0


def test_maturity_cues_and_stage_against_the_tier() -> None:
    texts = ["Pilot line for GaN wafers enters mass production", "公司完成B轮融资，量产在即",
             "A theory of qubits", "Clinical trial of a CAR-T therapy"]
    cues = maturity_cues(texts)
    assert cues == {"industrialization": 2, "product-prototyping": 2}
    stage = stage_estimate(cues, 4, {"news": 3, "paper": 1})
    assert stage == "industrialization"
    assert stage_versus_tier(stage, "frontier-exploration") == "ahead"
    assert stage_estimate(maturity_cues(["A theory of qubits"]), 1, {"paper": 1}) == \
        "frontier-exploration"


def test_periods_fold_and_sequence() -> None:
    assert fold_period("2025-05", "quarter") == "2025-Q2"
    assert fold_period("2025-07", "half") == "2025-H2"
    assert period_sequence("2025-05", "quarter", 3) == ["2024-Q4", "2025-Q1", "2025-Q2"]
    assert period_sequence("2025-02", "month", 3) == ["2024-12", "2025-01", "2025-02"]


def test_a_handful_of_items_never_tops_the_ranking() -> None:
    periods = 10
    totals = {"paper": np.full(periods, 1000.0)}
    tiny = Entity("fields", "tiny", counts={"paper": np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 3.0])})
    solid = Entity("fields", "solid",
                   counts={"paper": np.array([10, 10, 12, 15, 20, 26, 33, 40, 50, 60.0])})
    flat = Entity("fields", "flat", counts={"paper": np.full(periods, 30.0)})
    rows = rank_entities([tiny, solid, flat], totals, SignalSettings())
    assert rows[0]["entity_id"] == "solid"
    tiny_row = next(r for r in rows if r["entity_id"] == "tiny")
    assert tiny_row["subscores"]["confidence"] < 0.5
    assert "items in the active window" in tiny_row["explanation"]


def test_signals_rank_fields_topics_and_store_rank_changes(tmp_path) -> None:
    from scanner.signals import compute_signals

    store = store_with_history(str(tmp_path / "s.db"))
    key = taxonomy_key(TAXONOMY)
    settings = SignalSettings(period="quarter", periods=8)
    lists = compute_signals(store, TAXONOMY, key, "m", settings, "2025-12-31", 400)
    fields = lists["fields"]
    assert fields[0]["entity_id"] == "6g"
    six_g = fields[0]["indicators"]
    assert six_g["growth_low"] > 1.2 and six_g["support"] > 100
    assert six_g["tier"] == TAXONOMY.fields["6g"].tier
    assert six_g["top_evidence"] and six_g["stage"] == "product-prototyping"
    deep = next(r for r in fields if r["entity_id"] == "deep-sea")["indicators"]
    # a steady count in a growing whole is a falling share
    assert deep["growth_high"] < 1 and deep["escore"] < 0
    assert {r["entity_id"] for r in lists["pathways"] if r["rank"] == 1} >= {
        TAXONOMY.fields["6g"].pathways[0].id}
    topics = lists["topics"]
    assert len(topics) == 3 and topics[0]["indicators"]["best_field"] == "6g"
    assert [r["entity_id"] for r in lists["watchlist"]] == [
        t["entity_id"] for t in topics if t["indicators"]["outside_taxonomy"] == 1]
    stored = store.ranked("fields", "2025-12-31")
    assert stored[0]["entity_id"] == "6g" and stored[0]["previous_rank"] is None
    compute_signals(store, TAXONOMY, key, "m", settings, "2026-01-01", 400)
    again = store.ranked("fields", "2026-01-01")
    assert again[0]["previous_rank"] == 1
    assert store.signal_run_dates() == ["2026-01-01", "2025-12-31"]
    store.close()


def test_rank_and_signals_commands_show_reasons(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import cli
    from scanner.signals import compute_signals

    db = tmp_path / "s.db"
    store = store_with_history(str(db))
    compute_signals(store, TAXONOMY, taxonomy_key(TAXONOMY), "m",
                    SignalSettings(period="quarter", periods=8), "2025-12-31", 400)
    store.close()
    runner, env = CliRunner(), {"SCANNER_MODEL": "m"}
    ranked = runner.invoke(cli, ["--db", str(db), "rank", "--list", "fields"], env=env)
    assert ranked.exit_code == 0, ranked.output
    assert "6g" in ranked.output and "new" in ranked.output
    field = runner.invoke(cli, ["--db", str(db), "signals", "--field", "6g"], env=env)
    assert field.exit_code == 0, field.output
    assert "#1 6g" in field.output and "Share x" in field.output and "pathways of 6g" in \
        field.output
    missing = runner.invoke(cli, ["--db", str(db), "signals", "--field", "nope"], env=env)
    assert missing.exit_code == 1 and "unknown field 'nope'" in missing.output
    topics = runner.invoke(cli, ["--db", str(db), "rank", "--list", "topics", "--json"], env=env)
    assert len(json.loads(topics.output)) == 3




def test_general_news_is_not_technology_but_papers_and_tech_news_are() -> None:
    from scanner.signals.indicators import technology_share

    news = ["以军袭击黎巴嫩南部", "主席致电祝贺当选总统", "我国科研团队研制出新型芯片",
            "Central bank holds rates"]
    assert technology_share(news, ["news"] * 4) == 0.25
    assert technology_share(["A note on sets"], ["paper"]) == 1.0
    assert technology_share([], []) == 0.0


