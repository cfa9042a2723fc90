"""Rendering a report's data: HTML (jinja2, autoescaped), Markdown (escaped), CSV
(formulas defused), the review sheet, and the folder they are written to."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scanner.ingest.links import safe_href
from scanner.report.build import rank_change
from scanner.report.review import VERDICTS
from scanner.signals import LISTS

#: Headings and labels in both languages.
LABELS: dict[str, tuple[str, str]] = {
    "title": ("前沿技术与未来产业动态监测报告", "Frontier technology horizon-scanning report"),
    "summary": ("摘要：本期变化", "Summary: what changed"),
    "coverage": ("数据覆盖", "Data coverage"),
    "fields": ("领域排名（按方向与成熟度梯次）", "Ranked fields by direction and tier"),
    "pathways": ("技术路线比较", "Technology pathways within fields"),
    "topics": ("新兴主题", "Emerging topics"),
    "watchlist": ("分类外观察清单（非共识候选）", "Out-of-taxonomy watchlist (non-consensus)"),
    "convergence": ("交叉融合领域对", "Converging field pairs"),
    "suggestions": ("供专家组参考的调整建议", "Suggested adjustments for the panel"),
    "new_entrants": ("新进入", "New entrants"),
    "risers": ("上升最快", "Biggest risers"),
    "fallers": ("下降最快", "Biggest fallers"),
    "new_outside": ("新的分类外主题", "New out-of-taxonomy topics"),
    "rank": ("排名", "Rank"), "change": ("变化", "Change"), "score": ("得分", "Score"),
    "evidence": ("证据", "Evidence"), "stage": ("阶段估计", "Stage estimate"),
    "tier": ("措施梯次", "Measures' tier"), "share": ("占比趋势", "Share over time"),
    "why": ("理由", "Why"), "keywords": ("关键词", "Keywords"), "lineage": ("演化", "Lineage"),
    "suggestion": ("建议", "Suggestion"), "taxonomy": ("分类版本", "Taxonomy version"),
    "none": ("无", "none"),
    "no_evidence": ("本期无证据的领域", "Fields without evidence in these periods"),
}



_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|>~-])")



_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")



def label(key: str, lang: str) -> str:
    """A heading in Chinese, English, or both."""
    zh, en = LABELS[key]
    return zh if lang == "zh" else en if lang == "en" else f"{zh} · {en}"



def md_escape(text: Any) -> str:
    """Text safe inside Markdown: HTML and Markdown markup characters escaped."""
    value = str(text if text is not None else "")
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", value.replace("\n", " "))



def csv_cell(value: Any) -> Any:
    """A CSV value that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value



def sparkline(values: Sequence[float], width: int = 160, height: int = 36) -> str:
    """An inline SVG polyline of a series: numbers only, nothing from feeds."""
    points = [float(v) for v in values] or [0.0]
    top = max(points) or 1.0
    step = width / max(len(points) - 1, 1)
    coords = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}"
                      for i, v in enumerate(points))
    return (f'<svg class="chart" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><polyline fill="none" stroke="#1f6feb" '
            f'stroke-width="2" points="{coords}"/></svg>')



def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("scanner.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    # every href in a template goes through safe_href: a store written before links
    # were checked (or by any other path) still renders an unsafe link as text only
    env.globals.update(label=label, sparkline=sparkline, rank_change=rank_change,
                       safe_href=safe_href)
    return env



def render_html(data: dict[str, Any], lang: str = "both") -> str:
    """The self-contained HTML report."""
    return _environment().get_template("report.html.j2").render(d=data, lang=lang)



def render_markdown(data: dict[str, Any], lang: str = "both") -> str:
    """The Markdown report (same order as the HTML)."""
    out = [f"# {label('title', lang)} — {data['run_date']}", "",
           f"{label('taxonomy', lang)}: {md_escape(data['taxonomy'])}", "",
           f"## {label('summary', lang)}", ""]
    summary = data["summary"]
    for key in ("new_entrants", "new_outside"):
        out.append(f"- {label(key, lang)}: {md_escape(', '.join(summary[key])) or '-'}")
    for key in ("risers", "fallers"):
        out.append(f"- {label(key, lang)}: " + (", ".join(
            f"{md_escape(e)} ({d:+d})" for e, d in summary[key]) or "-"))
    cov = data["coverage"]
    out += ["", f"## {label('coverage', lang)}", "",
            f"- items: {cov['items']}; by kind {md_escape(json.dumps(cov['items_by_kind']))}; "
            f"by language {md_escape(json.dumps(cov['items_by_language']))}", ""]
    out += [f"## {label('fields', lang)}", "",
            "| # | ± | field | score | share x (90%) | stage / tier | why |",
            "| ---: | ---: | --- | ---: | --- | --- | --- |"]
    for row in data["lists"]["fields"]:
        ind = row["indicators"]
        out.append(f"| {row['rank']} | {rank_change(row)} | {md_escape(row['entity_id'])} "
                   f"{md_escape(ind.get('name_zh', ''))} | {row['score']:.3f} | "
                   f"{ind['growth']:.2f} ({ind['growth_low']:.2f}-{ind['growth_high']:.2f}) | "
                   f"{md_escape(ind.get('stage') or '-')} / {md_escape(ind.get('tier') or '-')} | "
                   f"{md_escape(row['explanation'])} |")
        for item in ind.get("top_evidence", [])[:3]:
            out.append(f"|  |  | ↳ {md_escape(item['date'])} {md_escape(item['title'])} "
                       f"({md_escape(item['source'])}) {md_escape(safe_href(item['url']) or '')} "
                       "|  |  |  |  |")
    out.append(f"\n{label('no_evidence', lang)}: "
               f"{md_escape(', '.join(data['fields_without_evidence'])) or '-'}")
    for name in ("pathways", "topics", "watchlist", "convergence"):
        out += ["", f"## {label(name, lang)}", ""]
        rows = data["lists"][name]
        if not rows:
            out.append(f"- {label('none', lang)}")
        for row in rows[:25]:
            ind = row["indicators"]
            words = ind.get("keywords") or {}
            title = " / ".join(", ".join(words.get(k, [])[:5]) for k in ("en", "zh")
                               if words.get(k)) or ind.get("name_en") or ""
            parent = f"{md_escape(row['parent_id'])} › " if row.get("parent_id") else ""
            out.append(f"- #{row['rank']} ({rank_change(row)}) {parent}"
                       f"{md_escape(row['entity_id'])} {md_escape(title)}: "
                       f"{md_escape(row['explanation'])}")
    out += ["", f"## {label('suggestions', lang)}", ""]
    for s in data["suggestions"]:
        out.append(f"- **{md_escape(s['suggestion'])}** {md_escape(s['entity'])}: "
                   f"{md_escape(s['why'])}")
    return "\n".join(out) + "\n"



def render_csv(rows: Sequence[dict[str, Any]]) -> str:
    """One ranked list as CSV, formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["entry_id", "rank", "previous_rank", "entity_id", "parent_id", "score",
                     "novelty", "growth", "coherence", "impact", "confidence", "support",
                     "explanation"])
    for r in rows:
        s = r["subscores"]
        writer.writerow([csv_cell(v) for v in (
            f"{r['list']}:{r['entity_id']}", r["rank"], r["previous_rank"], r["entity_id"],
            r["parent_id"], r["score"], s["novelty"], s["growth"], s["coherence"], s["impact"],
            s["confidence"], r["support"], r["explanation"])])
    return buffer.getvalue()



def review_sheet(data: dict[str, Any]) -> str:
    """The CSV the panel fills in: one row per ranked entry and evidence item."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["entry_id", "kind", "entity_id", "item_id", "title", "verdict",
                     "reviewer", "note", "allowed"])
    answered = data.get("panel", {})
    items_done = set(answered.get("answered_items", []))
    topics_done = set(answered.get("answered_topics", []))

    def allowed(kind: str) -> str:
        return " | ".join(VERDICTS[kind])

    for row in data["lists"]["fields"]:
        writer.writerow([csv_cell(v) for v in (f"fields:{row['entity_id']}", "field-priority",
                                               row["entity_id"], "", "", "", "", "",
                                               allowed("field-priority"))])
        for item in row["indicators"].get("top_evidence", []):
            if f"{item['id']}:{row['entity_id']}" in items_done:
                continue  # the panel has answered this one: never asked again
            writer.writerow([csv_cell(v) for v in (
                f"item:{item['id']}:{row['entity_id']}", "item-field", row["entity_id"],
                item["id"], item["title"], "", "", "", allowed("item-field"))])
    seen: set[str] = set()
    for row in data["lists"]["watchlist"] + data["lists"]["topics"][:20]:
        if row["entity_id"] in seen or row["entity_id"] in topics_done:
            continue
        seen.add(row["entity_id"])
        writer.writerow([csv_cell(v) for v in (
            f"topic:{row['entity_id']}", "topic-new-field", row["entity_id"], "",
            row["indicators"].get("label") or "", "", "", "", allowed("topic-new-field"))])
    return buffer.getvalue()



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
        tmp.write_text(text, encoding="utf-8")
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
