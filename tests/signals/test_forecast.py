"""The share forecast: a Poisson trend of the share, shrunk toward its neighbours' or the
list's, projected."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scanner.config import SignalSettings
from scanner.signals import Entity, rank_entities
from scanner.signals.forecast import (
    forecast,
    nearest_neighbours,
    share_trend,
    shrink_slopes,
)

TOTALS = np.full(8, 2000.0)


def test_the_trend_recovers_a_known_share_growth_rate() -> None:
    counts = 40 * 1.25 ** np.arange(8)  # the share grows 25% a period
    trend = share_trend(counts, TOTALS)
    assert trend.slope == pytest.approx(math.log(1.25), abs=0.01)
    assert trend.horizon == 4 and trend.periods == 8
    # a share that only moves with the totals has no trend
    flat = share_trend(np.full(8, 50.0) * np.linspace(1, 3, 8), TOTALS * np.linspace(1, 3, 8))
    assert abs(flat.slope) < 1e-3
    # few items: the same shape with a wider standard error
    few = share_trend(counts / 20, TOTALS)
    assert few.slope_se > 3 * trend.slope_se


def test_slopes_measured_on_few_items_are_shrunk_most() -> None:
    slopes = np.array([0.3, -0.2, 0.05, 0.0, 0.1, -0.1])
    ses = np.array([0.02, 0.02, 0.02, 0.02, 0.02, 0.5])
    shrunk, post_se, tau = shrink_slopes(slopes, ses)
    assert 0 < tau < 1
    # the precise slopes barely move; the imprecise one goes most of the way to the mean
    assert shrunk[0] == pytest.approx(0.3, abs=0.01)
    assert abs(shrunk[5]) < abs(slopes[5]) / 3
    assert np.all(post_se <= ses)
    # two entities are too few to learn a spread from: nothing is shrunk
    same, _, _ = shrink_slopes(slopes[:2], ses[:2])
    assert np.allclose(same, slopes[:2])


def test_a_slope_measured_on_few_items_is_shrunk_toward_its_neighbours() -> None:
    # two regions of the map: five precise rising slopes, five precise flat ones, and
    # one imprecise slope of 0 in each region
    slopes = np.array([0.3, 0.32, 0.28, 0.31, 0.29, 0.0, 0.01, -0.01, 0.0, 0.02, 0.0, 0.0])
    ses = np.array([0.02] * 10 + [0.4, 0.4])
    rising, flat = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]
    neighbours = [np.array(rising[:i] + rising[i + 1:] + [10]) for i in range(5)] \
        + [np.array(flat[:i] + flat[i + 1:] + [11]) for i in range(5)] \
        + [np.array(rising), np.array(flat)]
    near, _, _ = shrink_slopes(slopes, ses, neighbours)
    assert near[10] == pytest.approx(0.3, abs=0.03)  # the rising region's trend
    assert abs(near[11]) < 0.03  # the flat region's
    # toward the list's mean, both imprecise slopes end up the same
    pooled, _, _ = shrink_slopes(slopes, ses)
    assert pooled[10] == pytest.approx(pooled[11])


def test_nearest_neighbours_are_the_most_similar_other_positions() -> None:
    positions = np.array([[1.0, 0.0], [0.9, 0.1], [0.8, 0.3], [0.0, 1.0], [0.1, 0.9],
                          [0.2, 0.8], [-1.0, 0.1], [0.5, 0.5], [0.95, -0.05]])
    near = nearest_neighbours(positions)  # k = sqrt(9) = 3
    assert [len(n) for n in near] == [3] * 9
    assert all(i not in n for i, n in enumerate(near))
    assert set(near[0]) == {1, 8, 2}
    assert set(near[3]) == {4, 5, 7}
    assert len(nearest_neighbours(positions[:3])[0]) == 2  # never more than the others


def test_a_small_topic_in_a_rising_region_is_forecast_above_its_twin_in_a_flat_one() -> None:
    rng = np.random.default_rng(5)
    up, flat = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    entities = []
    for i in range(8):  # large topics: a rising region and a flat one
        entities.append(Entity("topics", f"up{i}", counts={"paper": rng.poisson(
            80 * 1.2 ** np.arange(8)).astype(float)}, position=up + rng.normal(0, .05, 3)))
        entities.append(Entity("topics", f"flat{i}", counts={"paper": rng.poisson(
            np.full(8, 80.0)).astype(float)}, position=flat + rng.normal(0, .05, 3)))
    small = np.array([1, 0, 1, 1, 0, 1, 1, 1.0])  # the same few items in both regions
    entities += [Entity("topics", "small-up", counts={"paper": small}, position=up),
                 Entity("topics", "small-flat", counts={"paper": small}, position=flat)]
    totals = {"paper": np.full(8, 4000.0)}
    rows = {r["entity_id"]: r["indicators"]
            for r in rank_entities(entities, totals, SignalSettings())}
    assert rows["small-up"]["forecast"] > 1.2 * rows["small-flat"]["forecast"]
    assert rows["small-up"]["forecast_prior"] == "neighbours"
    # without positions both get the list's trend: the same forecast
    for e in entities:
        e.position = None
    plain = {r["entity_id"]: r["indicators"]
             for r in rank_entities(entities, totals, SignalSettings())}
    assert plain["small-up"]["forecast"] == plain["small-flat"]["forecast"]
    assert plain["small-up"]["forecast_prior"] == "list"
    # one topic without a position does not take the map from the others
    for e in entities:
        e.position = {"small-up": up, "small-flat": flat}.get(e.id, rng.normal(0, .05, 3) + (
            up if e.id.startswith("up") else flat))
    entities[0].position = None
    some = {r["entity_id"]: r["indicators"]
            for r in rank_entities(entities, totals, SignalSettings())}
    assert some["small-up"]["forecast"] > 1.2 * some["small-flat"]["forecast"]


def test_regions_that_differ_only_by_noise_leave_the_list_s_prior() -> None:
    rng = np.random.default_rng(0)
    ses = rng.uniform(0.02, 0.3, 200)
    slopes = rng.normal(0, ses)  # every true slope 0, positions random
    near = nearest_neighbours(rng.normal(size=(200, 16)))
    local, _, tau_local = shrink_slopes(slopes, ses, near)
    pooled, _, tau_list = shrink_slopes(slopes, ses)
    assert tau_local == pytest.approx(tau_list, rel=0.5)
    assert np.abs(local).mean() < 1.5 * np.abs(pooled).mean()


def test_a_burst_is_forecast_to_fall_back_and_a_steady_rise_to_go_on() -> None:
    rising = np.array([6, 8, 10, 12, 14, 16, 18, 20.0])  # 104 items
    burst = np.array([8, 8, 8, 8, 8, 8, 8, 48.0])  # the same 104, in one last period
    r, b = share_trend(rising, TOTALS), share_trend(burst, TOTALS)
    r_change, _ = forecast(r, r.slope, r.slope_se)
    b_change, _ = forecast(b, b.slope, b.slope_se)
    assert r_change > 0.2 and r_change > b_change
    # the burst's last four periods sit above its own trend line: it regresses
    assert b.recent_log_share > b.level + b.slope * (5.5 - b.centre)


def _background(n: int = 10) -> list[Entity]:
    """An ordinary list: shares drifting up or down a little, with counting noise."""
    rng = np.random.default_rng(3)
    return [Entity("topics", f"bg{i}", counts={"paper": rng.poisson(
        60 * np.exp(rng.normal(0, 0.08) * np.arange(8))).astype(float)}) for i in range(n)]


def test_a_steady_rise_ranks_above_a_one_period_burst_of_the_same_total() -> None:
    rising = Entity("topics", "rising", counts={"paper": np.array(
        [6, 8, 10, 12, 14, 16, 18, 20.0])})
    burst = Entity("topics", "burst", counts={"paper": np.array(
        [6, 6, 6, 6, 6, 6, 6, 62.0])})  # 104 items: active/base share ratio as high
    rows = rank_entities([burst, rising, *_background()], {"paper": TOTALS},
                         SignalSettings())
    order = [r["entity_id"] for r in rows]
    assert order.index("rising") < 3 and order.index("burst") > len(order) / 2
    by_id = {r["entity_id"]: r for r in rows}
    assert by_id["rising"]["indicators"]["forecast"] > 1.1
    # the burst's active/base ratio is above the riser's; its forecast is below 1
    assert by_id["burst"]["indicators"]["growth"] > by_id["rising"]["indicators"]["growth"]
    assert by_id["burst"]["indicators"]["forecast"] < 1
    assert "its trend projects x" in by_id["rising"]["explanation"]


def test_a_falling_entity_is_never_ranked_as_emerging() -> None:
    falling = Entity("topics", "falling", counts={"paper": np.array(
        [90, 80, 70, 60, 50, 40, 30, 20.0])})
    # a late upturn does not rescue a share that has fallen over the series
    rebound = Entity("topics", "rebound", counts={"paper": np.array(
        [120, 110, 100, 80, 60, 40, 30, 45.0])})
    rows = rank_entities([falling, rebound, *_background()], {"paper": TOTALS},
                         SignalSettings())
    by_id = {r["entity_id"]: r for r in rows}
    for name in ("falling", "rebound"):
        assert not by_id[name]["indicators"]["emerging"]
        assert by_id[name]["indicators"]["forecast"] < 1
        assert by_id[name]["rank"] > max(r["rank"] for r in rows if r["indicators"]["emerging"])
    assert sum(r["indicators"]["emerging"] for r in rows) >= 5


def test_each_stream_gets_its_own_forecast_and_the_list_is_not_changed_for_another() -> None:
    totals = {"paper": TOTALS, "news": np.full(8, 500.0)}
    entities = [Entity("fields", f"f{i}", counts={
        "paper": np.array([10, 12, 14, 16, 18, 20, 22, 24.0]) * (1 + i % 2),
        "news": np.array([20, 18, 16, 14, 12, 10, 8, 6.0]) * (1 + i % 3)}) for i in range(5)]
    rows = rank_entities(entities, totals, SignalSettings())
    streams = rows[0]["indicators"]["streams"]
    assert streams["paper"]["forecast"] > 1 > streams["news"]["forecast"]
    known = {r["entity_id"]: r["indicators"] for r in rows}
    before = {k: v["streams"]["paper"]["forecast"] for k, v in known.items()}
    rank_entities(entities[:2], totals, SignalSettings(), known=known)
    assert {k: v["streams"]["paper"]["forecast"] for k, v in known.items()} == before


def test_forecast_periods_sets_the_horizon_and_known_facts_follow_it() -> None:
    entities = _background(5)
    totals = {"paper": TOTALS}
    settings = SignalSettings(forecast_periods=2)
    rows = rank_entities(entities, totals, settings)
    assert {r["indicators"]["forecast_periods"] for r in rows} == {2}
    assert rank_entities(entities, totals, SignalSettings())[0]["indicators"][
        "forecast_periods"] == 4  # half of the 8 periods


def test_a_well_measured_outlier_keeps_most_of_its_trend() -> None:
    # eleven flat topics and one doubling each year, measured well: the normal prior
    # alone pulled it from 0.35 to 0.07 a period, below what its items show
    slopes = np.array([-0.015] * 11 + [0.351])
    ses = np.array([0.053] * 11 + [0.08])
    shrunk, _, _ = shrink_slopes(slopes, ses)
    assert shrunk[-1] >= 0.351 - 0.08 - 1e-9  # at most one standard error
    assert abs(shrunk[0] - slopes[0]) <= 0.053 + 1e-9


def test_a_rise_that_turned_down_is_not_projected_to_rise() -> None:
    # up for five periods, then down for three: one line over the whole series still
    # slopes up (and projected a rise); the discounted trend follows the turn
    turned = np.array([20, 30, 40, 55, 70, 55, 40, 30.0])
    flat_line = share_trend(turned, TOTALS)
    assert flat_line.slope > 0
    assert forecast(flat_line, flat_line.slope, flat_line.slope_se)[0] > 0
    recent = share_trend(turned, TOTALS, half_life=0)  # 0: the horizon, 4 periods
    assert recent.slope < flat_line.slope
    assert forecast(recent, recent.slope, recent.slope_se)[0] < 0
    # older periods weigh half per half-life; the newest weighs most
    weights = np.asarray(recent.weights)
    assert weights[-1] > weights[3] > weights[0] > 0
    # the setting reaches the ranking: the default discounts, 1000 periods does not
    entity = Entity("topics", "turned", counts={"paper": turned})
    rows = {r["entity_id"]: r for r in rank_entities(
        [entity, *_background()], {"paper": TOTALS}, SignalSettings())}
    undiscounted = {r["entity_id"]: r for r in rank_entities(
        [entity, *_background()], {"paper": TOTALS}, SignalSettings(trend_half_life=1000))}
    assert rows["turned"]["indicators"]["forecast"] < 1 < \
        undiscounted["turned"]["indicators"]["forecast"]
