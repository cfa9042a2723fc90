"""Verdicts that count (issue 17, problem 6): an irrelevant item leaves the field's counts
and evidence, a field-priority verdict shows beside its field with who and when, an
accepted topic is marked, and the review sheet never asks again about what was answered."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from scanner.config import SignalSettings, load_config
from scanner.report import build_report
from scanner.report.render import render_html, review_sheet
from scanner.report.review import VERDICTS, add_verdict
from scanner.signals import compute_signals
from scanner.taxonomy import load_taxonomy, taxonomy_key

TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)
DAY = "2025-12-31"


def _recompute(store) -> dict:
    compute_signals(store, TAXONOMY, taxonomy_key(TAXONOMY), "m",
                    SignalSettings(period="quarter", periods=8), DAY, 400)
    return build_report(store, TAXONOMY, DAY)


def _field(data: dict, field_id: str) -> dict:
    return next(r for r in data["lists"]["fields"] if r["entity_id"] == field_id)


def test_verdicts_change_the_next_report(report_store, tmp_path: Path) -> None:
    store = report_store(tmp_path / "s.db")
    before = build_report(store, TAXONOMY, DAY)
    six_g = _field(before, "6g")
    rejected = six_g["indicators"]["top_evidence"][0]
    topic = before["lists"]["topics"][0]["entity_id"]
    for row in (
        {"kind": "item-field", "entity_id": "6g", "item_id": rejected["id"],
         "verdict": "irrelevant", "reviewer": "Dr Wang"},
        {"kind": "field-priority", "entity_id": "6g", "item_id": "", "verdict": "promote",
         "reviewer": "Dr Wang", "note": "strategic"},
        {"kind": "topic-new-field", "entity_id": topic, "item_id": "", "verdict": "accept",
         "reviewer": "Dr Li"},
    ):
        add_verdict(store, row, DAY)
    after = _recompute(store)
    six_g_after = _field(after, "6g")
    ids = [i["id"] for i in six_g_after["indicators"]["top_evidence"]]
    assert rejected["id"] not in ids  # out of the evidence ...
    assert six_g_after["indicators"]["items_active"] == six_g["indicators"]["items_active"] - 1
    verdict = six_g_after["panel_verdict"]  # ... and the priority shows, with who and when
    assert verdict["verdict"] == "promote" and verdict["reviewer"] == "Dr Wang" and verdict["date"]
    html = render_html(after, "en")
    assert "panel verdict: promote (Dr Wang" in html and "panel verdict: accept" in html
    rows = list(csv.DictReader(io.StringIO(review_sheet(after))))
    assert not any(r["item_id"] == rejected["id"] and r["entity_id"] == "6g" for r in rows)
    assert not any(r["kind"] == "topic-new-field" and r["entity_id"] == topic for r in rows)
    topic_rows = [r["entity_id"] for r in rows if r["kind"] == "topic-new-field"]
    assert len(topic_rows) == len(set(topic_rows))  # no topic asked twice
    assert all(r["allowed"] == " | ".join(VERDICTS[r["kind"]]) for r in rows)
