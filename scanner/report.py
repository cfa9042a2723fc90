"""Panel reports: one self-contained HTML file, Markdown, JSON and CSV per run date.

Written to `<report_dir>/<run-date>/`, with `<report_dir>/latest` pointing at the newest.
Everything that came from a feed is escaped: the HTML goes through Jinja2 with
autoescaping and forbids every script by its Content-Security-Policy (the page needs
none; charts are inline SVG drawn from numbers only), Markdown escapes its own markup
and HTML, and CSV cells that a spreadsheet would run as formulas are defused.

Order of contents (issue #7): summary of changes and coverage, fields by direction and
tier, pathways within fields, emerging topics and the out-of-taxonomy watchlist,
converging field pairs, suggested adjustments for the panel.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scanner.links import safe_href
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


def suggestions(fields: Sequence[dict[str, Any]], watchlist: Sequence[dict[str, Any]]
                ) -> list[dict[str, Any]]:
    """Promote / keep / watch / propose new field / propose retiring, with the trigger.

    Rules: promote a field whose share grew with its whole 90% interval above 1.5, or
    whose evidence is ahead of its tier with growth above 1; propose retiring one whose
    interval lies below 0.67 with at least 20 items; watch growth above 1 on thin
    support (confidence under 0.5); propose a new field for a watchlist topic in the top
    three with 20 items or more; keep the rest. Suggestions, never verdicts.
    """
    out = []
    for row in fields:
        ind, subs = row["indicators"], row["subscores"]
        growth = (f"share x{ind['growth']:.2f} "
                  f"(90%: {ind['growth_low']:.2f}-{ind['growth_high']:.2f})")
        if ind["growth_low"] > 1.5 or (ind.get("stage_vs_tier") == "ahead"
                                       and ind["growth_low"] > 1):
            kind, why = "promote", f"{growth}; evidence stage {ind.get('stage')} vs tier " \
                f"{ind.get('tier') or '-'}"
        elif ind["growth_high"] < 0.67 and ind["support"] >= 20:
            kind, why = "propose retiring", f"{growth} on {ind['support']:.0f} items"
        elif ind["growth"] > 1 and subs["confidence"] < 0.5:
            kind, why = "watch", f"{growth} on only {ind['support']:.0f} items"
        else:
            kind, why = "keep", growth
        out.append({"entry": f"fields:{row['entity_id']}", "suggestion": kind,
                    "entity": row["entity_id"], "why": why})
    for row in watchlist[:3]:
        if row["support"] >= 20:
            out.append({"entry": f"watchlist:{row['entity_id']}",
                        "suggestion": "propose new field", "entity": row["entity_id"],
                        "why": f"outside every field; {row['explanation']}"})
    order = {"promote": 0, "propose new field": 1, "watch": 2, "propose retiring": 3, "keep": 4}
    return sorted(out, key=lambda s: (order[s["suggestion"]], s["entity"]))


def build_report(store: Any, taxonomy: Any, run_date: str | None = None) -> dict[str, Any]:
    """Everything a report shows, as JSON-able data (the JSON format is this dict)."""
    from scanner.taxonomy import taxonomy_key

    dates = store.signal_run_dates()
    if run_date is None:
        if not dates:
            from scanner.errors import ScannerError

            raise ScannerError("no signals stored yet: run `scanner run` (or `scanner signals "
                               "--compute`) before writing a report")
        run_date = dates[0]
    # a night whose signals ranked nothing (no items yet) still gets a report: coverage
    # and empty lists say so
    lists = {name: store.ranked(name, run_date, limit=500) for name in LISTS}
    fields = lists["fields"]
    moved = [r for r in fields if r["previous_rank"] is not None]
    run = store.latest_run_for(run_date)
    for row in lists["topics"] + lists["watchlist"]:
        history = store.topic_history(row["entity_id"])
        row["lineage"] = [f"{e['run_date']} {e['kind']}" + (f" {e['other_id']}" if e["other_id"]
                                                            else "")
                          for e in history["events"][-4:]]
    by_direction: dict[str, list[dict[str, Any]]] = {}
    for row in fields:
        by_direction.setdefault(row["indicators"].get("direction") or "", []).append(row)
    stats = store.stats()
    return {
        "run_date": run_date,
        "previous_date": next((d for d in dates if d < run_date), None),
        "taxonomy": fields[0]["taxonomy"] if fields else taxonomy_key(taxonomy),
        "taxonomy_version": taxonomy.version,
        "directions": {d: {"zh": taxonomy.directions[d].zh, "en": taxonomy.directions[d].en}
                       for d in taxonomy.directions},
        "tiers": {t: {"zh": taxonomy.tiers[t].zh, "en": taxonomy.tiers[t].en}
                  for t in taxonomy.tiers},
        "summary": {
            "new_entrants": [r["entity_id"] for r in fields if r["previous_rank"] is None
                             and dates and run_date != dates[-1]][:5],
            "risers": [(r["entity_id"], r["previous_rank"] - r["rank"]) for r in
                       sorted(moved, key=lambda r: r["rank"] - r["previous_rank"])[:3]
                       if r["previous_rank"] > r["rank"]],
            "fallers": [(r["entity_id"], r["previous_rank"] - r["rank"]) for r in
                        sorted(moved, key=lambda r: r["previous_rank"] - r["rank"])[:3]
                        if r["previous_rank"] < r["rank"]],
            "new_outside": [r["entity_id"] for r in lists["watchlist"]
                            if r["previous_rank"] is None][:5],
        },
        "coverage": {
            "items": stats["items"], "items_by_kind": stats["items_by_kind"],
            "items_by_language": stats["items_by_language"],
            "run": {k: run.get(k) for k in ("id", "status", "started_at", "finished_at")}
            if run else None,
            "sources_ok": run.get("sources_ok") if run else None,
            "sources_failed": run.get("sources_failed") if run else None,
        },
        "fields_by_direction": by_direction,
        "fields_without_evidence": [f.id for f in taxonomy.active_fields
                                    if f.id not in {r["entity_id"] for r in fields}],
        "lists": lists,
        "suggestions": suggestions(fields, lists["watchlist"]),
    }


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("scanner", "templates"),
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


def rank_change(row: dict[str, Any]) -> str:
    """A ranked row's move since the previous run: 'new', '=', '+3' (up) or '-2' (down)."""
    if row.get("previous_rank") is None:
        return "new"
    delta = row["previous_rank"] - row["rank"]
    return f"{delta:+d}" if delta else "="


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
                     "reviewer", "note"])
    for row in data["lists"]["fields"]:
        writer.writerow([csv_cell(v) for v in (f"fields:{row['entity_id']}", "field-priority",
                                               row["entity_id"], "", "", "", "", "")])
        for item in row["indicators"].get("top_evidence", []):
            writer.writerow([csv_cell(v) for v in (
                f"item:{item['id']}:{row['entity_id']}", "item-field", row["entity_id"],
                item["id"], item["title"], "", "", "")])
    for row in data["lists"]["watchlist"] + data["lists"]["topics"][:20]:
        writer.writerow([csv_cell(v) for v in (
            f"topic:{row['entity_id']}", "topic-new-field", row["entity_id"], "",
            row["indicators"].get("label") or "", "", "", "")])
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
