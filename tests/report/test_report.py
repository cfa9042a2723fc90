"""Panel reports: every format, escaping of hostile feed text, and a real browser."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scanner.config import TermSettings, load_config
from scanner.report import build_report, write_report
from scanner.report.render import csv_cell, md_escape
from scanner.store import Store
from scanner.taxonomy import load_taxonomy, taxonomy_key
from tests.support.paths import REPO

TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)


@pytest.fixture(scope="module")
def report_folder(report_store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    store = report_store(tmp / "s.db")
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


def test_unsafe_links_held_in_a_store_render_as_text(report_store, tmp_path: Path) -> None:
    """Links stored before they were checked (or by any other path) never become hrefs."""
    from scanner.report.render import render_html, render_markdown

    bad = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
           "vbscript:msgbox(1)", "data:text/html,<b>x</b>", "relative/x", "  javascript:x"]
    store = report_store(tmp_path / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    evidence = [item for rows in data["lists"].values() for row in rows
                for item in row["indicators"].get("top_evidence", [])]
    assert len(evidence) > len(bad)
    for n, item in enumerate(evidence):
        item["url"] = bad[n % len(bad)] if n % 8 else "https://ok.example/" + str(n)
    html = render_html(data)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("https://ok.example/") or h.startswith("#")
                         for h in hrefs), hrefs[:5]
    assert "6G terahertz link" in html  # the titles are still there, as text
    markdown = render_markdown(data)
    for url in ("msgbox", "data:text", "relative/x", "java\tscript", "javascript:x"):
        assert url not in markdown  # the titles say javascript: as text, no link does
    assert "https://ok.example/" in markdown


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_term_new_since_the_base_period_renders_with_open_bounds(report_store, tmp_path: Path,
                                                                 lang: str) -> None:
    """A term absent from the base period has no finite share ratio or upper bound (stored
    as None): the terms table says 'new' and ∞ instead of failing the whole report."""
    from scanner.report.render import render_html, render_markdown

    store = report_store(tmp_path / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    row = {"rank": 1, "term": "<b>agentic memory</b>", "share_ratio": None, "ratio_low": 3.2,
           "ratio_high": None, "active_items": 9, "outside_taxonomy": 1, "topics": [],
           "evidence": [{"title": "A paper", "url": "https://ok.example/1"}]}
    data["terms"] = {"paper": [row, {**row, "rank": 2, "term": "steady", "share_ratio": 2.5,
                                     "ratio_low": None, "ratio_high": 4.0}]}
    html = render_html(data, lang)
    cells = re.findall(r'<tr id="term-paper-\d+">.*?</tr>', html)
    assert len(cells) == 2
    assert ("new" if lang == "en" else "新出现") in cells[0] and "3.2–∞" in cells[0]
    assert "x2.5 (≤4.0)" in cells[1]
    assert "&lt;b&gt;agentic memory&lt;/b&gt;" in cells[0]  # feed text stays text
    render_markdown(data)


def test_a_stream_skipped_by_the_terms_stage_says_why_in_both_languages(
        report_store, tmp_path: Path) -> None:
    """The terms stage skips a stream whose items stopped long before the run (a 2024 news
    dump in a 2025 report ranked 2024's news words as emerging); the report says so."""
    from scanner.report.build import terms_skipped
    from scanner.report.render import render_html

    reason = ("no items since 2024-12 (none in the last 3 months before 2025-10): its "
              "terms would describe that time, not this run's")
    run = {"summary": {"stages": [{"stage": "pull"}, {"stage": "terms", "skipped": {}},
                                  {"stage": "terms", "skipped": {"news": reason}}]}}
    assert terms_skipped(run) == {"news": reason} and terms_skipped(None) == {}
    store = report_store(tmp_path / "s.db")
    data = {**build_report(store, TAXONOMY), "terms_skipped": terms_skipped(run)}
    store.close()
    en, zh = render_html(data, "en"), render_html(data, "zh")
    assert "no emerging terms listed: no items since 2024-12" in en
    assert "未列出新兴术语——2024-12 之后没有条目（2025-10 之前的 3 个月内为零）" in zh
    assert "no items since" not in zh  # no English left in the Chinese report
    from scanner.report.render import render_markdown

    assert "之后没有条目" in render_markdown(data, "zh")


def test_terms_on_fitted_windows_say_so_in_both_languages(report_store, tmp_path: Path) -> None:
    """A young stream's terms ranked on monthly windows (scanner.terms.windows) carry the
    windows' note in the report, translated, and a fitted stream without any term says
    that it was ranked, not that terms are not counted."""
    from scanner.report.build import terms_windows
    from scanner.report.render import render_html, render_markdown
    from scanner.terms.windows import fit_window

    note = fit_window(TermSettings(), 7).note
    run = {"summary": {"stages": [{"stage": "terms", "windows": {"paper": note}}]}}
    assert terms_windows(run) == {"paper": note} and terms_windows(None) == {}
    store = report_store(tmp_path / "s.db")
    data = {**build_report(store, TAXONOMY), "terms_windows": terms_windows(run)}
    store.close()
    en, zh = render_html(data, "en"), render_html(data, "zh")
    assert "no term meets the emergence criteria this run: monthly windows: 5 active " \
        "months after a 2-month base, items in 3 of them (7 months of history; the " \
        "configured windows need 36)" in en
    assert "按月统计：2 个月基期之后的 5 个月为活跃期，须在其中 3 个月出现（已有 7 个月数据；" \
        "配置的窗口需要 36 个月）" in zh
    assert "monthly windows" not in zh and "数据不足" not in zh
    md = render_markdown(data, "en")
    assert "no term meets the criteria (monthly windows: 5 active months" in md
    row = {"rank": 1, "term": "agentic memory", "share_ratio": 3.0, "ratio_low": 1.2,
           "ratio_high": 8.0, "active_items": 9, "outside_taxonomy": 1, "topics": [],
           "evidence": []}
    data["terms"] = {"paper": [row]}
    listed = render_html(data, "en")
    section = listed[listed.index('<section id="terms">'):]
    section = section[:section.index("</section>")]
    assert "monthly windows: 5 active months" in section and "no term meets" not in section
    assert "按月统计" in render_markdown(data, "zh")
    # candidates the specificity check left out are named beside the list, escaped
    data["terms_phrasing"] = {"paper": ["practical path", "<b>largest</b> gain"]}
    listed, zh = render_html(data, "en"), render_html(data, "zh")
    assert "2 candidates left out as phrasing" in listed
    assert "practical path, &lt;b&gt;largest&lt;/b&gt; gain" in listed
    assert "另有 2 个候选词作为措辞未列出" in zh and "left out" not in zh
    assert "left out as phrasing (2): practical path" in render_markdown(data, "en")
    # sources whose share jumped (a harvest change) are named beside the list, escaped
    data["terms_shifted"] = {"paper": ["cs.IT", "<i>feed</i>"]}
    listed, zh = render_html(data, "en"), render_html(data, "zh")
    assert "changed more than tenfold over the window" in listed
    assert "cs.IT, &lt;i&gt;feed&lt;/i&gt;" in listed and "比例变化超过十倍" in zh
    assert "terms judged against their own items: cs.IT" in render_markdown(data, "en")
    # a stream whose every candidate was phrasing still says so; an unchecked list says why
    data["terms"] = {}
    data["terms_not_judged"] = {"news": "the model could not embed the terms: <x>"}
    listed = render_html(data, "en")
    assert "every candidate was left out as phrasing (2): practical path" in listed
    assert "terms not checked for phrasing (phrasing may remain in the list): the model " \
        "could not embed the terms: &lt;x&gt;" in listed


def test_escaping_helpers() -> None:
    assert md_escape("<b>*x*</b> | [a](b)") == \
        "&lt;b&gt;\\*x\\*&lt;/b&gt; \\| \\[a\\]\\(b\\)"
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("-2") == "'-2" and csv_cell(3) == 3


@pytest.mark.parametrize("lang", ["zh", "en", "both"])
def test_report_structure_on_the_html_text(report_store, tmp_path: Path, lang: str) -> None:
    """Summary first, every internal link resolves, every chart has axis labels, and a
    Chinese report's reasons hold no English (no browser needed)."""
    from scanner.report.render import render_html
    from tests.report.structure import check_structure

    store = report_store(tmp_path / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    counts = check_structure(render_html(data, lang), lang)
    assert counts["charts"] >= 4 and counts["links"] > 20 and counts["reasons"] >= 5


def test_report_renders_in_headless_chromium(report_store, tmp_path: Path) -> None:
    """The Chinese report loads in a real browser without console errors and its DOM has
    the same structure; a screenshot is kept in test-artifacts/report.png.

    Needs Debian's chromium (`apt-get install chromium fonts-noto-cjk`, or `make browser`).
    """
    from tests.report.structure import check_structure

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium fonts-noto-cjk); "
                    "the same structure is checked on the HTML text without a browser")
    store = report_store(tmp_path / "s.db")
    folder = write_report(build_report(store, TAXONOMY), tmp_path / "reports", "zh")
    store.close()
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page = (folder / "report.html").resolve().as_uri()
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-extensions", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--enable-logging=stderr",
              "--v=0", "--user-data-dir=" + str(tmp_path / "chromium-profile")]
    dom = subprocess.run([*common, "--dump-dom", page], capture_output=True, text=True,
                         timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    counts = check_structure(dom.stdout, "zh")
    assert counts["charts"] >= 4 and "<script" not in dom.stdout.lower()
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line
               or "Refused to" in line or "Uncaught" in line]
    assert console == [], console
    shot = subprocess.run([*common, "--window-size=1280,2400",
                           f"--screenshot={artifacts / 'report.png'}", page],
                          capture_output=True, text=True, timeout=120)
    assert shot.returncode == 0 and (artifacts / "report.png").stat().st_size > 20_000


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


def test_report_command_for_a_date_or_a_run(report_store, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import cli

    store = report_store(tmp_path / "s.db")
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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_contents_numbers_are_the_section_numbers(report_store, tmp_path: Path,
                                                  lang: str) -> None:
    """The contents list is an <ol>: its n-th entry must open the section headed "n."
    (the headings once said 7b, 8, 9, 10 where the contents said 8 to 11)."""
    from scanner.report.render import render_html

    store = report_store(tmp_path / "s.db")
    html = render_html(build_report(store, TAXONOMY), lang)
    store.close()
    toc = html[html.index("<nav"):html.index("</nav>")]
    top = re.sub(r"<ol>(?:(?!<ol>).)*?</ol></li>", "</li>", toc[toc.index("<ol>") + 4:],
                 flags=re.S)  # the directions' nested list left out
    anchors = re.findall(r'<li><a href="#([\w-]+)">', top)
    assert len(anchors) >= 10
    for number, anchor in enumerate(anchors, 1):
        section = html[html.index(f'<section id="{anchor}"'):]
        heading = re.search(r"<h2>(.*?)</h2>", section).group(1)
        assert heading.startswith(f"{number}. "), (anchor, heading)


@pytest.mark.parametrize("lang", ["en", "zh", "both"])
def test_the_glossary_explains_every_figure_a_card_shows(report_store, tmp_path: Path,
                                                         lang: str) -> None:
    """EScore, confidence, the forecast, persistence and novelty appear on every card's
    figures; each has a glossary entry, and the page's language is declared."""
    from scanner.report.render import render_html

    store = report_store(tmp_path / "s.db")
    html = render_html(build_report(store, TAXONOMY), lang)
    store.close()
    glossary = html[html.index('<section id="glossary"'):]
    glossary = glossary[:glossary.index("</section>")]
    terms = {"en": ("EScore", "confidence", "forecast", "persistence", "novelty"),
             "zh": ("EScore", "置信度", "趋势预测", "持续性", "新颖度")}
    for term in terms["zh" if lang == "zh" else "en"] + (terms["zh"] if lang == "both" else ()):
        assert term in glossary, term
    assert html.startswith("<!DOCTYPE html>\n<html lang=\"" +
                           ("en" if lang == "en" else "zh-CN") + "\">")


def test_suggestions_name_the_field_not_only_its_id(report_store, tmp_path: Path) -> None:
    from scanner.report.render import render_html

    store = report_store(tmp_path / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    zh = render_html(data, "zh")
    row = re.search(r'<tr id="suggestion-fields-6g"[^>]*>(.*?)</tr>', zh, re.S).group(1)
    assert TAXONOMY.fields["6g"].zh in row and "<code class=\"entry-id\">fields:6g</code>" in row


def test_topics_beyond_the_listed_ones_are_counted_not_dropped(report_store,
                                                               tmp_path: Path) -> None:
    import copy

    from scanner.report.render import render_html

    store = report_store(tmp_path / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    template = data["lists"]["topics"][0]
    many = []
    for n in range(40):
        row = copy.deepcopy(template)
        row.update(entity_id=f"T{n:06d}", rank=n + 1)
        row["indicators"]["emerging"] = n < 30  # the last ten are falling
        many.append(row)
    data["lists"]["topics"] = many
    en, zh = render_html(data, "en"), render_html(data, "zh")
    assert "15 more rank below these and are not listed here (10 of them falling)" in en
    assert "另有 15 个排在其后，未在此列出（其中 10 个占比下降）" in zh
    from scanner.report.render import render_markdown

    assert "15 more rank below these (10 of them falling): see topics.csv" in \
        render_markdown(data, "en")


def test_a_first_report_marks_nothing_new_and_a_later_one_marks_newcomers(
        report_store, tmp_path: Path) -> None:
    """On a store's first report every entry has no previous rank: a "new" badge on each
    would say nothing; from the second report on, an entry without one is new."""
    from scanner.report.render import render_html

    store = report_store(tmp_path / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    first = {**data, "previous_date": None}
    for rows in first["lists"].values():
        for row in rows:
            row["previous_rank"] = None
    assert 'class="change new"' not in render_html(first, "en")
    later = {**first, "previous_date": "2025-12-30"}
    assert 'class="change new"' in render_html(later, "en")
    from scanner.report.render import render_markdown

    assert "| new |" not in render_markdown(first, "en") and "(new)" not in \
        render_markdown(first, "en")
    assert "| new |" in render_markdown(later, "en")


def test_a_ranked_csv_carries_the_figures_the_report_shows(report_store, tmp_path: Path
                                                           ) -> None:
    """fields.csv once had only sub-scores: a 'growth' of 1.0 beside the report's x2.8."""
    import csv as csv_module
    import io

    from scanner.report.sheets import render_csv

    store = report_store(tmp_path / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    rows = list(csv_module.DictReader(io.StringIO(render_csv(data["lists"]["fields"]))))
    six_g = next(r for r in rows if r["entity_id"] == "6g")
    ranked = next(r for r in data["lists"]["fields"] if r["entity_id"] == "6g")
    assert float(six_g["share_ratio"]) == pytest.approx(ranked["indicators"]["growth"])
    assert float(six_g["ratio_low"]) > 1 and six_g["emerging"] == "True"
    assert six_g["name_zh"] == TAXONOMY.fields["6g"].zh and six_g["reason_zh"].startswith("综合")
    assert "growth" not in six_g and float(six_g["growth_subscore"]) <= 1
