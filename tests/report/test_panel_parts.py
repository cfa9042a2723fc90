"""The panel's parts of a report: executive summary, plain reasons, suggestions with their
triggers, key players, topic labels and charts (issue 19)."""

from __future__ import annotations

import copy

import pytest

from scanner.config import load_config
from scanner.report import build_report
from scanner.report.adjust import coverage_gap, suggestions
from scanner.report.charts import share_chart, wilson
from scanner.report.enrich import topic_label_zh
from scanner.report.players import aggregate, period_start
from scanner.report.reasons import reason
from scanner.report.summary import executive_summary
from scanner.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)


@pytest.fixture(scope="module")
def data(report_store, tmp_path_factory: pytest.TempPathFactory) -> dict:
    store = report_store(tmp_path_factory.mktemp("parts") / "s.db")
    out = build_report(store, TAXONOMY)
    store.close()
    return out


def test_summary_lines_link_to_sections_and_say_a_night_with_nothing_new(data: dict) -> None:
    lines = data["executive"]
    assert 1 <= len(lines) <= 10 and lines[0]["key"] == "rose"
    assert all(line["href"].startswith("#") and line["zh"] and line["en"] for line in lines)
    rose = lines[0]["entities"]
    assert rose[0]["id"] == "6g" and rose[0]["href"] == "#fields-6g"
    assert any(line["key"] == "coverage" for line in lines)  # fields without evidence
    quiet = copy.deepcopy(data)
    quiet["coverage"]["new_items"] = 0
    assert executive_summary(quiet)[0]["key"] == "nothing_new"


def test_summary_names_no_field_rising_or_falling_on_a_handful_of_items(data: dict) -> None:
    from scanner.report.summary import MIN_SUMMARY_ITEMS, items_judged

    thin = copy.deepcopy(data)
    six_g = thin["lists"]["fields"][0]
    assert items_judged(six_g) >= MIN_SUMMARY_ITEMS
    # the same 6G row, now falling on 3 papers (1 in the active window), as on a real store
    for stream in six_g["indicators"]["streams"].values():
        stream["items"] = 0
    six_g["indicators"]["streams"][six_g["indicators"]["streams_used"][0]]["items"] = 3
    six_g["indicators"].update(growth=0.16, growth_low=0.02, growth_high=0.9,
                               stage_vs_tier="behind")
    named = {e["id"] for line in executive_summary(thin) for e in line["entities"]}
    assert "6g" not in named
    rising_thin = copy.deepcopy(thin)  # a thin riser: the no-riser line says why
    for row in rising_thin["lists"]["fields"]:
        row["indicators"]["growth_low"] = 0.5
    rising_thin["lists"]["fields"][0]["indicators"]["growth_low"] = 1.2
    rose = next(line for line in executive_summary(rising_thin) if line["key"] == "rose")
    assert f"at least {MIN_SUMMARY_ITEMS} items" in rose["en"] and not rose["entities"]
    six_g["indicators"]["streams"][six_g["indicators"]["streams_used"][0]]["items"] = 40
    fell = [line for line in executive_summary(thin) if line["key"] == "fell"]
    assert fell and fell[0]["entities"][0]["id"] == "6g"  # with enough items it is named


def test_reasons_are_plain_and_name_only_what_the_data_has(data: dict) -> None:
    six_g = data["lists"]["fields"][0]
    en, zh = six_g["reason"]["en"], six_g["reason"]["zh"]
    assert en.startswith("combined share up 2.8x (90%: 2.03–3.74), 2024-Q3–2025-Q4 against "
                         "2024-Q1–2024-Q2 (news 2.3x, papers 3.0x)")
    assert "authors" not in en and "venues" not in en  # none known in this store
    assert "Evidence suggests" not in en and "EScore" not in en
    assert zh.startswith("综合占比上升至 2.8 倍") and "作者" not in zh
    thin = copy.deepcopy(six_g)
    thin["indicators"]["items_active"] = 12
    assert "still early-stage evidence" in reason(thin, data, "en")


def test_suggestions_state_their_trigger_and_gaps_name_missing_kinds(data: dict) -> None:
    by_entity = {s["entity"]: s for s in data["suggestions"]}
    assert by_entity["6g"]["suggestion"] == "promote"
    assert "above the promote threshold 1.5" in by_entity["6g"]["why"]
    assert by_entity["6g"]["trigger"]["growth_low"] > 1.5
    gap = by_entity["quantum-technology"]
    assert gap["suggestion"] == "coverage gap" and "policy" in gap["why"]
    assert coverage_gap("x", {"paper": 5})["trigger"]["missing_kinds"] == ["news", "policy"]
    falling = copy.deepcopy(data["lists"]["watchlist"][0])
    falling["indicators"].update(growth=0.8, growth_low=0.6, growth_high=0.95, emerging=False)
    falling["support"] = 200
    assert not [s for s in suggestions([], [falling]) if s["suggestion"] == "propose new field"]
    rising = copy.deepcopy(falling)
    rising["indicators"].update(growth=1.8, growth_low=1.2, growth_high=2.5, emerging=True,
                                size=200)
    carrying = {rising["entity_id"]}  # the topic carries one of the run's emerging terms
    assert suggestions([], [rising], topic_items=2000, carrying_terms=carrying)[0][
        "suggestion"] == "propose new field"
    # a big rising cluster without an emerging term is never proposed (issue 18)
    assert not suggestions([], [rising], topic_items=2000, carrying_terms=set())
    assert not suggestions([], [rising], topic_items=400, carrying_terms=carrying)  # generic


def test_key_players_count_and_trend() -> None:
    facts = [{"entity_id": "f", "item_id": str(i), "kind": "paper", "source_id": "arxiv",
              "primary_category": "cs.RO" if i < 6 else "cs.CV", "authors": '["A. Li"]',
              "language": "en", "published": "2025-02-01" if i < 4 else "2025-08-01",
              "title": "t"} for i in range(10)]
    players = aggregate(facts, {"f": "2025-06-01"}, {})["f"]
    venues = {v["name"]: v for v in players["venues"]}
    assert venues["cs.RO"]["items"] == 6 and venues["cs.CV"]["trend"] == "new"
    assert venues["cs.RO"]["trend"] == "down" and players["authors"][0]["items"] == 10
    assert "orgs" not in players  # no Chinese items: no organisations, never a zero
    assert period_start("2024-Q3") == "2024-07-01" and period_start("2024-H2") == "2024-07-01"
    assert period_start("2024-05") == "2024-05-01" and period_start("2024") == "2024-01-01"


def test_topic_labels_in_chinese_from_keywords_or_terms_or_none() -> None:
    assert topic_label_zh({"keywords": {"zh": ["量子", "芯片"]}}, TAXONOMY) == \
        ("量子、芯片", "keywords")
    label, basis = topic_label_zh({"keywords": {"en": ["terahertz", "6G", "link"]}}, TAXONOMY)
    assert basis == "taxonomy" and label
    assert topic_label_zh({"keywords": {"en": ["alert", "bold"]}}, TAXONOMY) == (None, "none")


def test_topics_sharing_a_taxonomy_label_are_told_apart_by_their_own_keyword() -> None:
    from scanner.report.enrich import distinct_labels

    indicators = {"T1": {"keywords": {"en": ["terahertz", "6G", "antenna"]}},
                  "T2": {"keywords": {"en": ["terahertz", "6G", "channel"]}},
                  "T3": {"keywords": {"zh": ["量子", "芯片"]}}}
    labels = {t: topic_label_zh(ind, TAXONOMY) for t, ind in indicators.items()}
    assert labels["T1"] == labels["T2"] and labels["T1"][1] == "taxonomy"
    out = distinct_labels(labels, indicators)
    assert out["T1"][0] != out["T2"][0]
    assert out["T1"][0].startswith(labels["T1"][0]) and out["T3"] == labels["T3"]
    alone = distinct_labels({"T1": labels["T1"]}, indicators)
    assert alone["T1"] == labels["T1"]  # a label no other topic shares is left as it is


def test_chart_has_dated_axes_values_and_bands(data: dict) -> None:
    svg = share_chart(data["lists"]["fields"][0], "en")
    assert "2024-Q1" in svg and "2025-Q4" in svg and 'class="axis-y' in svg
    assert svg.count('class="band"') == 2 and "%</text>" in svg
    low, high = wilson(10, 100)
    assert 0.05 < low < 0.1 < high < 0.17


def test_a_report_inside_its_run_shows_that_run_and_its_stages(report_store,
                                                                tmp_path_factory) -> None:
    from scanner.report.render import render_html

    store = report_store(tmp_path_factory.mktemp("own") / "s.db")
    run_id = store.start_run("nightly", "2025-12-31", {})
    stages = [{"stage": "pull", "status": "ok", "items_new": 0},
              {"stage": "signals", "status": "ok", "period": "quarter",
               "periods": ["2025-Q3", "2025-Q4"], "period_reason": "test", "streams": {},
               "warnings": []}]
    out = build_report(store, TAXONOMY, "2025-12-31", {"id": run_id, "stages": stages})
    store.close()
    assert out["coverage"]["run"]["own"] and out["coverage"]["run"]["status"] == "running"
    assert out["coverage"]["period"] == "quarter" and out["coverage"]["new_items"] == 0
    html = render_html(out, "en")
    assert "this run; the report is its last stage" in html and "(running)" not in html
    assert "Nothing new came in this night" in html


def test_a_later_ad_hoc_command_of_the_same_date_keeps_the_nights_coverage(
        report_store, tmp_path_factory) -> None:
    """`scanner terms update --date D` after the night made the terms run the newest of D,
    and the report of D lost the signals stage's stream coverage and warnings ("news
    stays out of the composites"): each part now comes from the newest run holding it."""
    import time

    store = report_store(tmp_path_factory.mktemp("adhoc") / "s.db")
    night = store.start_run("nightly", "2025-12-31", {})
    warning = "news stays out of the composites: no items in the run's periods"
    store.finish_run(night, "ok", {"stages": [
        {"stage": "pull", "status": "ok", "sources_ok": 3, "sources_failed": 1},
        {"stage": "signals", "status": "ok", "period": "quarter", "periods": [],
         "period_reason": "test", "streams": {}, "warnings": [warning]},
        {"stage": "terms", "status": "ok", "skipped": {"news": "old reason"}}]})
    time.sleep(1.1)  # started_at has whole seconds
    later = store.start_run("terms", "2025-12-31", {})
    store.finish_run(later, "ok", {"stages": [
        {"stage": "terms", "status": "ok", "skipped": {"news": "new reason"}}]})
    out = build_report(store, TAXONOMY, "2025-12-31")
    store.close()
    assert out["coverage"]["run"]["id"] == night and out["coverage"]["warnings"] == [warning]
    assert (out["coverage"]["sources_ok"], out["coverage"]["sources_failed"]) == (3, 1)
    assert out["terms_skipped"] == {"news": "new reason"}  # the newest terms ranking's


def test_topics_carrying_emerging_terms() -> None:
    from scanner.report.build import topics_with_terms

    terms = {"paper": [{"term": "diffusion policy", "evidence_items": 12, "topics": [
        {"topic": "T1", "items": 7}, {"topic": "T2", "items": 1}]},
        # a phrase spread thin over the store: 3 of its 40 items is not where it lives
        {"term": "practical path", "evidence_items": 40, "topics": [
            {"topic": "T4", "items": 3}, {"topic": "T5", "items": 3}]}],
        "news": [{"term": "低空经济", "topics": [{"topic": "T3", "items": 3}]}]}
    assert topics_with_terms(terms) == {"T1", "T3"}
    assert topics_with_terms({}) == set()


def test_the_reason_states_the_trend_forecast_the_rank_uses(data: dict) -> None:
    six_g = data["lists"]["fields"][0]
    ind = six_g["indicators"]
    assert ind["forecast_periods"] >= 1
    en, zh = reason(six_g, data, "en"), reason(six_g, data, "zh")
    assert (f"projects the share over the next {ind['forecast_periods']} periods at "
            f"{ind['forecast']:.2f}x the last {ind['forecast_periods']}") in en
    assert f"{ind['forecast']:.2f} 倍" in zh and "left out of it" not in en
    # a stream whose trend left a period out says so
    burst = copy.deepcopy(six_g)
    kind = burst["indicators"]["streams_used"][0]
    burst["indicators"]["streams"][kind]["trend"]["weights"][-1] = 0
    assert "a period far off the trend line (a one-off burst or drop)" in reason(
        burst, data, "en")
