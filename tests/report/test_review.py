"""The review loop: the sheet round trip, verdicts' effect on the next run, the draft taxonomy."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from scanner.config import SignalSettings, load_config
from scanner.report import build_report, write_report
from scanner.signals import compute_signals
from scanner.taxonomy import load_taxonomy, taxonomy_key
from tests.support.paths import REPO

TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)
HOSTILE = ['<script>alert("x")</script>6G terahertz link',
           '<img src=x onerror="alert(1)"> deep-sea probe',
           '=HYPERLINK("http://evil.example","click") general computing',
           "[link](javascript:alert(1)) **bold** | pipe"]



def test_review_sheet_round_trip_changes_the_next_run(report_store, tmp_path: Path) -> None:
    from scanner.report.review import export_sheet, import_sheet

    store = report_store(tmp_path / "s.db")
    data = build_report(store, TAXONOMY)
    # the seeded topics all sit inside a field: two of them stand in for the watchlist
    # (topics outside the taxonomy), the only ones the new-field question is asked of
    data["lists"]["watchlist"] = [{**r, "list": "watchlist"} for r in data["lists"]["topics"][:2]]
    folder = write_report(data, tmp_path / "reports")
    rows = list(csv.DictReader(io.StringIO((folder / "review.csv").read_text())))
    item_row = next(r for r in rows if r["kind"] == "item-field")
    topic_rows = [r for r in rows if r["kind"] == "topic-new-field"]
    item_row.update(verdict="irrelevant", reviewer="panel-a", note="a news roundup")
    topic_rows[0].update(verdict="reject", reviewer="panel-a")
    topic_rows[1].update(verdict="accept", reviewer="panel-a", note="a real new direction")
    sheet = tmp_path / "filled.csv"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = import_sheet(store, sheet, "2025-12-31")
    assert (result.added, result.changed, result.duplicates) == (3, 0, 0)
    assert result.blank == len(rows) - 3
    again = import_sheet(store, sheet)
    assert (again.added, again.duplicates) == (0, 3)  # nothing stored twice
    topic_rows[0]["verdict"] = "accept"  # the reviewer changed their mind: a new row
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert import_sheet(store, sheet).changed == 1
    assert len(store.panel_verdicts()) == 4  # the earlier verdict is still there
    verdicts = store.latest_verdicts()
    assert verdicts == [{"item_id": item_row["item_id"], "field_id": item_row["entity_id"],
                         "verdict": 0, "reviewer": "panel-a",
                         "created_at": verdicts[0]["created_at"]}]
    exported = export_sheet(store)
    assert exported.count("\n") == 5 and "a real new direction" in exported
    # a bad row stores nothing
    bad = tmp_path / "bad.csv"
    bad.write_text("entry_id,kind,entity_id,item_id,title,verdict,reviewer,note\n"
                   "x,topic-new-field,T1,,,maybe,panel-b,\n")
    with pytest.raises(Exception, match="verdict 'maybe'"):
        import_sheet(store, bad)
    assert len(store.panel_verdicts()) == 4
    store.close()


def test_a_verdict_on_an_unknown_item_topic_or_field_stores_nothing(report_store,
                                                                    tmp_path: Path) -> None:
    """`review import` stored a verdict for an item the store does not hold (a typo in the
    sheet), which no report can show; every id is now checked before any row is stored,
    through the CLI as through the library."""
    from click.testing import CliRunner

    from scanner.cli import cli
    from scanner.report.review import import_sheet

    db = tmp_path / "s.db"
    store = report_store(db)
    item_id = next(iter(store.db["items"].rows))["id"]
    topic_id = next(iter(store.db["topics"].rows))["id"]
    field_ids = list(TAXONOMY.fields)
    header = "entry_id,kind,entity_id,item_id,title,verdict,reviewer,note\n"
    good = f"a,item-field,{field_ids[0]},{item_id},,irrelevant,panel-a,\n"
    for bad_row, message in (
            (f"b,item-field,{field_ids[0]},no-such-item,,relevant,panel-a,\n",
             "line 3: no item 'no-such-item' in the store"),
            (f"b,item-field,not-a-field,{item_id},,relevant,panel-a,\n",
             "line 3: no field 'not-a-field' in the taxonomy"),
            ("b,topic-new-field,T999999,,,accept,panel-a,\n",
             "line 3: no topic 'T999999' in the store"),
            ("b,field-priority,quantum-stuff,,,promote,panel-a,\n",
             "line 3: no field 'quantum-stuff' in the taxonomy")):
        sheet = tmp_path / "sheet.csv"
        sheet.write_text(header + good + bad_row, encoding="utf-8")
        with pytest.raises(Exception, match=message):
            import_sheet(store, sheet, field_ids=field_ids)
        assert store.panel_verdicts() == []  # the good row was not stored either
    store.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "review", "import", str(sheet)])
    assert result.exit_code != 0 and "no field 'quantum-stuff'" in result.output
    result = runner.invoke(cli, ["--db", str(db), "review", "add", "--kind", "topic-new-field",
                                 "--entity", "T999999", "--verdict", "accept",
                                 "--reviewer", "panel-a"])
    assert result.exit_code != 0 and "no topic 'T999999' in the store" in result.output
    result = runner.invoke(cli, ["--db", str(db), "review", "add", "--kind", "topic-new-field",
                                 "--entity", topic_id, "--verdict", "accept",
                                 "--reviewer", "panel-a"])
    assert result.exit_code == 0 and "verdict added" in result.output, result.output


def test_a_sheet_is_stored_whole_or_not_at_all_and_short_rows_are_named(
        report_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A killed `review import` left half a sheet (each row its own commit), and the rerun
    skipped the half-stored row's panel verdict as a duplicate, so its training verdict was
    never written; a short row crashed with AttributeError."""
    from scanner.report.review import export_sheet, import_sheet

    store = report_store(tmp_path / "s.db")
    items = [r["id"] for r in store.db["items"].rows][:3]
    field = next(iter(TAXONOMY.fields))
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("entry_id,kind,entity_id,item_id,title,verdict,reviewer,note\n" + "".join(
        f"e{i},item-field,{field},{item},,relevant,panel-a,=HYPERLINK(\"x\")\n"
        for i, item in enumerate(items)), encoding="utf-8")
    calls = []
    real = store.add_verdict

    def dies_on_the_third(*args, **kwargs):  # stands in for the process being killed
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "add_verdict", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        import_sheet(store, sheet)
    assert store.panel_verdicts() == [] and store.latest_verdicts() == []
    monkeypatch.undo()
    assert import_sheet(store, sheet).added == 3
    assert len(store.panel_verdicts()) == 3 and len(store.latest_verdicts()) == 3
    assert "'=HYPERLINK" in export_sheet(store) and ",=HYPERLINK" not in export_sheet(store)
    short = tmp_path / "short.csv"
    short.write_text("entry_id,kind,entity_id,item_id,title,verdict,reviewer,note\n"
                     f"x,item-field,{field},{items[0]},,relevant\n", encoding="utf-8")
    with pytest.raises(Exception, match="a verdict needs a reviewer name"):
        import_sheet(store, short)
    header_only = tmp_path / "empty.csv"  # was "missing columns"
    header_only.write_text("entry_id,kind,entity_id,item_id,title,verdict,reviewer,note\n")
    assert import_sheet(store, header_only).added == 0
    store.close()


def test_rejected_topics_leave_the_watchlist_and_accepted_ones_make_a_draft(
        report_store,         tmp_path: Path) -> None:
    from scanner.report.review import add_verdict, draft_taxonomy

    store = report_store(tmp_path / "s.db")
    key = taxonomy_key(TAXONOMY)
    settings = SignalSettings(period="quarter", periods=8)
    watch = [r["entity_id"] for r in store.ranked("watchlist")]
    assert watch, "the fixture has a topic outside the taxonomy"
    add_verdict(store, {"kind": "topic-new-field", "entity_id": watch[0], "item_id": "",
                        "verdict": "reject", "reviewer": "panel-a", "note": ""})
    compute_signals(store, TAXONOMY, key, "m", settings, "2026-01-01", 400)
    assert watch[0] not in [r["entity_id"] for r in store.ranked("watchlist", "2026-01-01")]
    add_verdict(store, {"kind": "topic-new-field", "entity_id": watch[0], "item_id": "",
                        "verdict": "accept", "reviewer": "panel-b", "note": ""})
    path = draft_taxonomy(load_config(environ={}).taxonomy_file, [store.topic(watch[0])],
                          TAXONOMY, tmp_path / "drafts", "2026-01-02")
    draft = load_taxonomy(path)
    assert draft.version == f"{TAXONOMY.version}-draft-2026-01-02"
    assert f"candidate-{watch[0].lower()}" in draft.fields
    from scanner.taxonomy_checks import diff_taxonomies, verify_citations

    assert any("field added: candidate-" in c for c in diff_taxonomies(TAXONOMY, draft))
    problems = verify_citations(draft, REPO.parent / "shared" / "seeds")
    assert any("panel-review-2026-01-02.txt" in p for p in problems)
    store.close()




def test_review_sheet_has_a_bom_and_a_gbk_sheet_is_read(report_store, tmp_path: Path) -> None:
    """Excel on Chinese Windows opens the sheet as UTF-8 (BOM) and may save it as GBK."""
    from scanner.report.review import import_sheet

    store = report_store(tmp_path / "s.db")
    folder = write_report(build_report(store, TAXONOMY), tmp_path / "reports")
    raw = (folder / "review.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert all(r["allowed"] for r in rows)  # the allowed verdicts on every row
    field_row = next(r for r in rows if r["kind"] == "field-priority")
    field_row.update(verdict="watch", reviewer="王老师", note="需要更多政策来源")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    sheet = tmp_path / "gbk.csv"
    sheet.write_bytes(buffer.getvalue().encode("gbk", errors="replace"))
    result = import_sheet(store, sheet)
    assert result.encoding == "gb18030" and result.added == 1
    stored = store.panel_verdicts("field-priority")
    assert stored[-1]["reviewer"] == "王老师" and stored[-1]["note"] == "需要更多政策来源"


def test_the_sheet_asks_what_the_report_shows(report_store, tmp_path: Path) -> None:
    """Three evidence items per field, as the field card shows; the new-field question
    only for topics outside the taxonomy or proposed as a new field (the sheet asked it of
    28 topics, some 98% inside one field, while the report proposed none)."""
    from scanner.report.render import review_sheet

    store = report_store(tmp_path / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    data["lists"]["watchlist"] = []
    rows = list(csv.DictReader(io.StringIO(review_sheet(data))))
    assert not [r for r in rows if r["kind"] == "topic-new-field"]
    per_field: dict[str, int] = {}
    for r in rows:
        if r["kind"] == "item-field":
            per_field[r["entity_id"]] = per_field.get(r["entity_id"], 0) + 1
    assert per_field and max(per_field.values()) <= 3
    topic = data["lists"]["topics"][0]["entity_id"]
    data["suggestions"] = [*data["suggestions"], {"entity": topic,
                                                  "suggestion": "propose new field"}]
    rows = list(csv.DictReader(io.StringIO(review_sheet(data))))
    assert [r["entity_id"] for r in rows if r["kind"] == "topic-new-field"] == [topic]
    template = data["lists"]["topics"][0]
    data["lists"]["watchlist"] = [{**template, "entity_id": f"W{n}", "list": "watchlist"}
                                  for n in range(30)]
    rows = list(csv.DictReader(io.StringIO(review_sheet(data))))
    asked = [r["entity_id"] for r in rows if r["kind"] == "topic-new-field"]
    assert asked[:25] == [f"W{n}" for n in range(25)] and "W25" not in asked  # as listed
