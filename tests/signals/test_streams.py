"""Per-stream signals and periods chosen from the data (issue 17, problems 1, 2 and 5)."""

from __future__ import annotations

import numpy as np

from scanner.config import SignalSettings
from scanner.signals import Entity, rank_entities
from scanner.signals.periods import choose_period
from scanner.signals.streams import combine_streams, stream_coverage


def _months(first: tuple[int, int], n: int) -> list[str]:
    year, mon = first
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{mon:02d}")
        mon += 1
        if mon == 13:
            year, mon = year + 1, 1
    return out


def test_a_stream_covering_fewer_periods_is_not_dropped() -> None:
    # news covers all 10 periods, papers only the last 6: the old pooled share kept
    # only the kind covering the most periods, so every paper was ignored
    totals = {"news": np.full(10, 300.0), "paper": np.array([0, 0, 0, 0] + [600.0] * 6)}
    field = {"paper": np.array([0, 0, 0, 0, 5, 8, 12, 20, 30, 45.0])}
    combined = combine_streams(field, totals, stream_coverage(totals))
    assert "paper" in combined["streams_used"]
    paper = combined["streams"]["paper"]
    assert paper["entered"] and paper["items"] == 120 and paper["first_period"] == 4
    assert combined["items_active"] == paper["items_active"] > 0  # one count everywhere
    assert combined["growth_low"] > 1  # a field rising inside its stream's span


def test_a_thin_stream_is_shown_but_left_out_with_the_reason() -> None:
    totals = {"news": np.full(10, 300.0), "paper": np.array([0] * 8 + [500.0, 500.0])}
    field = {"news": np.full(10, 3.0), "paper": np.array([0] * 8 + [40.0, 60.0])}
    combined = combine_streams(field, totals, stream_coverage(totals))
    assert combined["streams_used"] == ["news"]
    assert "covers 2 of 10 periods" in combined["streams"]["paper"]["left_out"]
    assert combined["items_active"] == combined["streams"]["news"]["items_active"]


def test_a_stream_that_stopped_before_the_active_window_gives_no_ratio() -> None:
    # news ends after the fourth of 13 months (a 2024 dump beside 2025 papers): its share
    # in the active window is 0 items of 0, which once read "news x327 (18.96-5640.52)"
    totals = {"news": np.array([400.0] * 4 + [0] * 9), "paper": np.array([0] * 6 + [600.0] * 7)}
    topic = {"news": np.array([3.0, 2, 4, 3] + [0] * 9), "paper": np.array([0] * 6 + [9.0] * 7)}
    coverage = stream_coverage(totals)
    assert not coverage["news"].usable and "no items in its active window" in \
        coverage["news"].reason and "period 4" in coverage["news"].reason
    combined = combine_streams(topic, totals, coverage)
    assert combined["streams_used"] == ["paper"]
    news = combined["streams"]["news"]
    assert not news["entered"] and "no items in its active window" in news["left_out"]
    assert combined["items_active"] == combined["streams"]["paper"]["items_active"]
    # a trickle after the stop (one story in the active window) is no better evidence
    totals["news"][10] = 1.0
    topic["news"][10] = 1.0
    trickle = stream_coverage(totals)["news"]
    assert not trickle.usable and "nearly stopped" in trickle.reason
    steady = stream_coverage({"news": np.full(13, 400.0)})["news"]  # an ordinary stream
    assert steady.usable


def test_inverse_variance_keeps_a_tiny_stream_from_outvoting_a_large_one() -> None:
    totals = {"news": np.full(10, 50.0), "paper": np.full(10, 5000.0)}
    field = {"news": np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0.0]),  # 1 item, "falling"
             "paper": np.array([20, 22, 25, 30, 40, 50, 65, 80, 100, 120.0])}
    combined = combine_streams(field, totals, stream_coverage(totals),
                               {"news": 1.0, "paper": 1.0})
    assert combined["growth"] > 2.0 and combined["growth_low"] > 1.5


def test_periods_come_from_the_data_when_not_set() -> None:
    rows = [(m, "news", 100) for m in _months((2022, 9), 28)]
    rows += [(m, "paper", 700) for m in _months((2025, 3), 7)]
    choice = choose_period(rows, "2025-09-30")
    assert choice.period == "month" and choice.chosen == "auto"
    assert 6 <= choice.periods <= 12 and "paper" in choice.reason
    sparse = [(m, "news", 12) for m in _months((2016, 1), 96)]
    assert choose_period(sparse, "2023-12-31").period in ("quarter", "half", "year")


def test_a_configured_period_the_data_cannot_fill_is_warned_about() -> None:
    rows = [(m, "paper", 700) for m in _months((2025, 3), 7)]
    choice = choose_period(rows, "2025-09-30", "quarter", 10)
    assert choice.period == "quarter" and choice.chosen == "config"
    assert choice.warnings and "reaches back further than the data" in choice.warnings[0]


def test_a_falling_entity_is_not_ranked_as_emerging_and_constant_subscores_are_left_out(
        ) -> None:
    totals = {"paper": np.full(10, 1000.0)}
    rising = Entity("fields", "rising", counts={"paper": np.array(
        [5, 5, 6, 8, 10, 14, 18, 24, 30, 40.0])}, novelty=0.1)
    falling = Entity("fields", "falling", counts={"paper": np.array(
        [80, 80, 75, 60, 50, 40, 30, 25, 20, 15.0])}, novelty=0.9)
    rows = rank_entities([falling, rising], totals, SignalSettings())
    assert [r["entity_id"] for r in rows] == ["rising", "falling"]
    assert rows[0]["indicators"]["emerging"] and not rows[1]["indicators"]["emerging"]
    # both are present in every active period: coherence separates nothing
    assert "coherence" in rows[0]["subscores"]["left_out"]
    # and the explanation a panel reads says so beside the figure, for every entry
    for row in rows:
        assert "[coherence 1.00, left out: the same for every entry]" in row["explanation"]
        assert "[growth " in row["explanation"] and "[growth 1.00, left out" not in \
            row["explanation"]


def test_one_streams_composite_keeps_that_streams_ratio_and_interval() -> None:
    # the composite once took the log of the stream's ratio rounded to 3 decimals: a fall
    # to x0.0526 became x0.053 and its bound 0.667 read 0.68 beside a 0.67 threshold
    totals = {"paper": np.full(10, 2000.0)}
    field = {"paper": np.array([40, 38, 41, 2, 2, 3, 2, 1, 2, 2.0])}
    combined = combine_streams(field, totals, stream_coverage(totals))
    paper = combined["streams"]["paper"]
    for key in ("growth", "growth_low", "growth_high"):
        assert abs(combined[key] / paper[key] - 1) < 1e-4, key
