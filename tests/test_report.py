"""Panel reports: every format, escaping of hostile feed text, and a real browser."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from scanner.config import SignalSettings, TopicSettings, load_config
from scanner.normalize import make_item
from scanner.report import build_report, csv_cell, md_escape, write_report
from scanner.signals import compute_signals
from scanner.store import Store
from scanner.taxonomy import load_taxonomy, taxonomy_key
from scanner.topics import update_topics

REPO = Path(__file__).resolve().parent.parent
TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)
HOSTILE = ['<script>alert("x")</script>6G terahertz link',
           '<img src=x onerror="alert(1)"> deep-sea probe',
           '=HYPERLINK("http://evil.example","click") general computing',
           "[link](javascript:alert(1)) **bold** | pipe"]


def _store(path: Path) -> Store:
    """Two years of items with hostile titles (stored raw: no HTML stripping), topics and
    signals for two run dates."""
    store = Store(path)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    key = taxonomy_key(TAXONOMY)
    field_ids = [f.id for f in TAXONOMY.active_fields]
    items, vectors, plan = [], [], []
    for month in range(24):
        when = datetime(2024 + month // 12, month % 12 + 1, 15, tzinfo=UTC)
        for slot, (fid, n) in enumerate({"6g": 2 + month, "deep-sea": 8, None: 30}.items()):
            for k in range(n):
                title = f"{HOSTILE[(k + slot) % len(HOSTILE)]} {month}-{k}"
                item = make_item(source_id="s<b>", kind="paper" if k % 4 else "news",
                                 title=title, summary="prototype " + title, fetched_at=when,
                                 guid=f"{fid}-{month}-{k}", published=when, language="en",
                                 url=f"https://example.org/{fid}/{month}/{k}?a=<x>",
                                 html=False)
                items.append(item)
                v = centres[slot] + 0.1 * rng.normal(size=16)
                vectors.append(v / np.linalg.norm(v))
                plan.append(fid)
    store.upsert_items(items)
    store.save_embeddings("m", [i["content_hash"] for i in items], np.array(vectors, np.float32))
    store.save_assignments([
        {"item_id": i["id"], "taxonomy": key, "model": "m", "content_hash": i["content_hash"],
         "scores": {f: (0.9 if f == fid else 0.01) for f in field_ids},
         "fields": [fid] if fid else [], "evidence": {},
         "pathways": {fid: {TAXONOMY.fields[fid].pathways[0].id: 0.8}} if fid else {},
         "method": "zero-shot"} for i, fid in zip(items, plan, strict=True)])
    settings = TopicSettings(window_days=400, n_components=8, n_clusters=3, min_topic_size=5)
    for day in ("2025-12-30", "2025-12-31"):
        update_topics(store, settings, "m", key, day)
        compute_signals(store, TAXONOMY, key, "m", SignalSettings(period="quarter", periods=8),
                        day, 400)
    return store


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    store = _store(tmp / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    return write_report(data, tmp / "reports")


def test_every_format_is_written_and_latest_points_at_the_newest(report_folder: Path) -> None:
    names = sorted(p.name for p in report_folder.iterdir())
    assert names == ["convergence.csv", "fields.csv", "pathways.csv", "report.html",
                     "report.json", "report.md", "review.csv", "topics.csv", "watchlist.csv"]
    assert report_folder.name == "2025-12-31"
    assert (report_folder.parent / "latest").resolve() == report_folder.resolve()
    data = json.loads((report_folder / "report.json").read_text())
    assert data["lists"]["fields"][0]["entity_id"] == "6g"
    assert data["previous_date"] == "2025-12-30"
    assert data["suggestions"][0]["suggestion"] == "promote"
    html = (report_folder / "report.html").read_text()
    positions = [html.index(f'id="{section}"') for section in
                 ("summary", "fields", "pathways", "topics", "watchlist", "convergence",
                  "suggestions")]
    assert positions == sorted(positions)  # the order of contents
    assert "领域排名" in html and "Ranked fields" in html and "<svg" in html


def test_no_script_or_event_handler_from_item_text_survives(report_folder: Path) -> None:
    html = (report_folder / "report.html").read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"<[^>]+\son\w+\s*=", html, re.IGNORECASE)  # no live handler
    assert "&lt;script&gt;" in html and "onerror=&#34;" in html  # shown as text
    assert "script-src" not in html and "default-src 'none'" in html  # CSP forbids scripts
    markdown = (report_folder / "report.md").read_text()
    assert "<script" not in markdown and "<img" not in markdown
    assert "\\[link\\]\\(javascript:alert\\(1\\)\\)" in markdown
    review = list(csv.reader(io.StringIO((report_folder / "review.csv").read_text())))
    titles = [row[4] for row in review[1:] if row[4]]
    assert titles and not any(t.startswith("=") for t in titles)
    assert any(t.startswith("'=HYPERLINK") for t in titles)


def test_unsafe_links_held_in_a_store_render_as_text(tmp_path: Path) -> None:
    """Links stored before they were checked (or by any other path) never become hrefs."""
    from scanner.report import render_html, render_markdown

    bad = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
           "vbscript:msgbox(1)", "data:text/html,<b>x</b>", "relative/x", "  javascript:x"]
    store = _store(tmp_path / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    evidence = [item for rows in data["lists"].values() for row in rows
                for item in row["indicators"].get("top_evidence", [])]
    assert len(evidence) > len(bad)
    for n, item in enumerate(evidence):
        item["url"] = bad[n % len(bad)] if n % 8 else "https://ok.example/" + str(n)
    html = render_html(data)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("https://ok.example/") for h in hrefs), hrefs[:5]
    assert "6G terahertz link" in html  # the titles are still there, as text
    markdown = render_markdown(data)
    for url in ("msgbox", "data:text", "relative/x", "java\tscript", "javascript:x"):
        assert url not in markdown  # the titles say javascript: as text, no link does
    assert "https://ok.example/" in markdown


def test_escaping_helpers() -> None:
    assert md_escape("<b>*x*</b> | [a](b)") == \
        "&lt;b&gt;\\*x\\*&lt;/b&gt; \\| \\[a\\]\\(b\\)"
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("-2") == "'-2" and csv_cell(3) == 3


def test_report_renders_in_headless_chromium(report_folder: Path) -> None:
    """The HTML loads in a real browser without console errors; charts and tables exist.

    Needs Debian's chromium (`apt-get install chromium`); the screenshot is kept in
    test-artifacts/report.png.
    """
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page = (report_folder / "report.html").resolve().as_uri()
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-extensions", "--enable-logging=stderr", "--v=0",
              "--user-data-dir=" + str(report_folder.parent / "chromium-profile")]
    dom = subprocess.run([*common, "--dump-dom", page], capture_output=True, text=True,
                         timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") >= 3 and 'class="ranked fields"' in dom.stdout
    assert "<script" not in dom.stdout.lower()
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line
               or "Refused to" in line or "Uncaught" in line]
    assert console == [], console
    shot = subprocess.run([*common, "--window-size=1280,2400",
                           f"--screenshot={artifacts / 'report.png'}", page],
                          capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0 and (artifacts / "report.png").stat().st_size > 20_000


def test_review_sheet_round_trip_changes_the_next_run(tmp_path: Path) -> None:
    from scanner.review import export_sheet, import_sheet

    store = _store(tmp_path / "s.db")
    folder = write_report(build_report(store, TAXONOMY), tmp_path / "reports")
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


def test_rejected_topics_leave_the_watchlist_and_accepted_ones_make_a_draft(
        tmp_path: Path) -> None:
    from scanner.review import add_verdict, draft_taxonomy

    store = _store(tmp_path / "s.db")
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
    from scanner.taxonomy import diff_taxonomies, verify_citations

    assert any("field added: candidate-" in c for c in diff_taxonomies(TAXONOMY, draft))
    problems = verify_citations(draft, REPO.parent / "shared" / "seeds")
    assert any("panel-review-2026-01-02.txt" in p for p in problems)
    store.close()


def test_a_night_without_ranked_entries_still_gets_a_report(tmp_path: Path) -> None:
    from scanner.errors import ScannerError

    store = Store(tmp_path / "s.db")
    with pytest.raises(ScannerError, match="no signals stored yet"):
        build_report(store, TAXONOMY)
    data = build_report(store, TAXONOMY, "2026-11-23")
    store.close()
    folder = write_report(data, tmp_path / "reports")
    html = (folder / "report.html").read_text()
    assert data["fields_without_evidence"] == [f.id for f in TAXONOMY.active_fields]
    assert "none" in html and data["taxonomy"] == taxonomy_key(TAXONOMY)


def test_report_command_for_a_date_or_a_run(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import cli

    store = _store(tmp_path / "s.db")
    run_id = store.start_run("nightly", "2025-12-30", {})
    store.close()
    env = {"SCANNER_REPORT_DIR": str(tmp_path / "out"), "SCANNER_MODEL": "m"}
    runner = CliRunner()
    by_run = runner.invoke(cli, ["--db", str(tmp_path / "s.db"), "report", "--run", run_id,
                                 "--lang", "en"], env=env)
    assert by_run.exit_code == 0, by_run.output
    html = (tmp_path / "out" / "2025-12-30" / "report.html").read_text()
    assert "Ranked fields" in html and "领域排名" not in html  # --lang en
    newest = runner.invoke(cli, ["--db", str(tmp_path / "s.db"), "report"], env=env)
    assert newest.exit_code == 0
    assert (tmp_path / "out" / "latest").resolve().name == "2025-12-31"
    unknown = runner.invoke(cli, ["--db", str(tmp_path / "s.db"), "report", "--run", "nope"],
                            env=env)
    assert unknown.exit_code == 1 and "no run 'nope'" in unknown.output
