"""Rendering a report's data: HTML (jinja2, autoescaped), the folder every format is
written to, and the PDF through headless Chromium when it is installed.

Markdown is in scanner.report.markdown, the CSV files in scanner.report.sheets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from scanner.ingest.links import safe_href
from scanner.report import labels
from scanner.report.build import EVIDENCE_SHOWN, TERMS_SHOWN, TOPICS_SHOWN, rank_change
from scanner.report.labels import label
from scanner.report.markdown import md_escape, render_markdown
from scanner.report.review import VERDICTS
from scanner.report.sheets import csv_cell, render_csv, review_sheet
from scanner.signals import LISTS

__all__ = ["csv_cell", "md_escape", "render_csv", "render_html", "render_markdown",
           "review_sheet", "write_pdf", "write_report"]

#: Topics shown as cards with a chart; the rest of a list (up to TOPICS_SHOWN) as rows.
TOPIC_CARDS = 8
#: Fewer in a report in both languages, whose cards are twice as long.
TOPIC_CARDS_BOTH = 5

#: Chromium's names on Debian and elsewhere.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    from scanner.report.charts import overview_chart, share_chart
    from scanner.report.reasons import figures, left_out_text, terms_note_text, warning_text

    env = Environment(loader=PackageLoader("scanner.report", "templates"),
                      autoescape=select_autoescape(["html", "j2", "css"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    # every href goes through safe_href: a store written before links were checked (or
    # by any other path) still renders an unsafe link as text only
    env.filters["safe_href"] = safe_href
    env.globals.update(
        label=label, pick=labels.pick, stage_name=labels.stage_name,
        direction_name=labels.direction_name, suggestion_name=labels.suggestion_name,
        stream_name=labels.stream_name, period_name=labels.period_name,
        run_status=labels.run_status, trend_mark=labels.trend_mark,
        verdict_name=labels.verdict_name, lineage_text=labels.lineage_text,
        glossary=labels.GLOSSARY, verdicts=VERDICTS,
        share_chart=share_chart, overview_chart=overview_chart, figures=figures,
        left_out_text=left_out_text, terms_note_text=terms_note_text, warning_text=warning_text,
        rank_change=rank_change,
        term_ratio=labels.term_ratio,
        shown={"topics": TOPICS_SHOWN, "evidence": EVIDENCE_SHOWN, "terms": TERMS_SHOWN})
    return env


def _anchors(data: dict[str, Any]) -> dict[str, str]:
    """Topic id -> its anchor in the report (the topics list first, then the watchlist)."""
    out: dict[str, str] = {}
    for name in ("watchlist", "topics"):
        for row in data["lists"][name][:TOPICS_SHOWN]:
            out[row["entity_id"]] = f"#{name}-{row['entity_id']}"
    return out


def render_html(data: dict[str, Any], lang: str = "both") -> str:
    """The self-contained HTML report."""
    names = data.get("field_names") or {}

    def field_name(field_id: str, language: str) -> str:
        return labels.pick(names[field_id], language) if field_id in names else field_id

    return _environment().get_template("report.html.j2").render(
        d=data, lang=lang, cards=TOPIC_CARDS if lang != "both" else TOPIC_CARDS_BOTH,
        anchors=_anchors(data), field_name=field_name)


def find_browser() -> str | None:
    """Headless Chromium's path, or None when none is installed."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def write_pdf(html_path: Path, timeout: float = 180) -> Path:
    """Print the HTML report to report.pdf beside it through headless Chromium.

    Raises ScannerError naming what to install when no Chromium is found.
    """
    from scanner.errors import ScannerError

    browser = find_browser()
    if browser is None:
        raise ScannerError("--pdf needs headless Chromium, and none is installed "
                           "(Debian: apt-get install chromium fonts-noto-cjk); the HTML "
                           f"report is written: {html_path}")
    pdf = html_path.with_suffix(".pdf")
    profile = html_path.parent / ".chromium-profile"
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", f"--user-data-dir={profile}", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", html_path.resolve().as_uri()],
        capture_output=True, text=True, timeout=timeout, check=False)
    shutil.rmtree(profile, ignore_errors=True)
    if result.returncode != 0 or not pdf.exists():
        raise ScannerError(f"Chromium could not print {html_path}: "
                           f"{(result.stderr or '').strip()[-500:]}")
    return pdf


def write_report(data: dict[str, Any], report_dir: Path, lang: str = "both") -> Path:
    """Write every format into report_dir/<run-date>/ and point `latest` at the newest."""
    folder = Path(report_dir) / data["run_date"]
    folder.mkdir(parents=True, exist_ok=True)
    files = {"report.html": render_html(data, lang), "report.md": render_markdown(data, lang),
             "report.json": json.dumps(data, ensure_ascii=False, indent=1, default=str),
             "review.csv": review_sheet(data)}
    for name in LISTS:
        files[f"{name}.csv"] = render_csv(data["lists"][name])
    for name, text in files.items():
        tmp = folder / f".{name}.tmp"
        # CSV with a byte-order mark: Excel on Chinese Windows opens it as UTF-8
        tmp.write_text(text, encoding="utf-8-sig" if name.endswith(".csv") else "utf-8")
        tmp.replace(folder / name)
    newest = max(p.name for p in Path(report_dir).iterdir()
                 if p.is_dir() and not p.is_symlink() and re.fullmatch(r"\d{4}-\d{2}-\d{2}",
                                                                        p.name))
    link = Path(report_dir) / "latest"
    tmp_link = Path(report_dir) / ".latest.tmp"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(newest, tmp_link)
    tmp_link.replace(link)
    return folder
