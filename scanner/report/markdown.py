"""The Markdown report: the same order as the HTML, everything from feeds escaped."""

from __future__ import annotations

import json
import re
from typing import Any

from scanner.ingest.links import safe_href
from scanner.report.build import EVIDENCE_SHOWN, TOPICS_SHOWN, rank_change
from scanner.report.labels import label, pick, stream_name, suggestion_name
from scanner.report.reasons import terms_note_text

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|>~-])")


def md_escape(text: Any) -> str:
    """Text safe inside Markdown: HTML and Markdown markup characters escaped."""
    value = str(text if text is not None else "")
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", value.replace("\n", " "))


def _reason(row: dict[str, Any], lang: str) -> str:
    reason = row.get("reason") or {}
    if lang == "both":
        return f"{reason.get('zh', '')} / {reason.get('en', '')}"
    return str(reason.get(lang) or row.get("explanation") or "")


def _note(entity: dict[str, Any], key: str, lang: str) -> str:
    """A summary entity's note in the report's language (items counted where they are)."""
    note = entity.get("note_zh") if lang == "zh" and entity.get("note_zh") else entity["note"]
    if key in ("new", "outside"):
        note += " 条" if lang == "zh" else " items"
    return str(note)


def _change(row: dict[str, Any], lang: str, first_report: bool = False) -> str:
    """The rank change, "new" for an entry without a previous rank (nothing on a store's
    first report, where no entry has one)."""
    if row.get("previous_rank") is not None:
        return rank_change(row)
    return "" if first_report else pick(("新", "new"), lang)


def render_markdown(data: dict[str, Any], lang: str = "both") -> str:
    """The Markdown report (same order as the HTML)."""
    first = not data.get("previous_date")
    out = [f"# {label('title', lang)} — {data['run_date']}", "",
           f"{label('taxonomy', lang)}: {md_escape(data['taxonomy'])}", "",
           f"## {label('executive', lang)}", ""]
    for line in data.get("executive") or []:
        names = ("、" if lang == "zh" else ", ").join(
            md_escape(pick(e, lang) if lang != "both" else e["zh"]) +
            (f" ({md_escape(_note(e, line['key'], lang))})" if e["note"] else "")
            for e in line["entities"])
        out.append(f"- {md_escape(pick(line, lang))} {names}".rstrip())
    cov = data["coverage"]
    out += ["", f"## {label('coverage', lang)}", "",
            f"- {label('items', lang)}: {cov['items']}; {label('by_kind', lang)} "
            f"{md_escape(json.dumps(cov['items_by_kind']))}; {label('by_language', lang)} "
            f"{md_escape(json.dumps(cov['items_by_language']))}", ""]
    out += [f"## {label('fields', lang)}", "",
            f"| # | ± | {label('field', lang)} | {label('score', lang)} | "
            f"{label('why', lang)} |", "| ---: | ---: | --- | ---: | --- |"]
    for row in data["lists"]["fields"]:
        ind = row["indicators"]
        name = pick({"zh": ind.get("name_zh") or row["entity_id"],
                     "en": ind.get("name_en") or row["entity_id"]}, lang)
        out.append(f"| {row['rank']} | {_change(row, lang, first)} | {md_escape(name)} "
                   f"({md_escape(row['entity_id'])}) | {row['score']:.2f} | "
                   f"{md_escape(_reason(row, lang))} |")
        for item in ind.get("top_evidence", [])[:EVIDENCE_SHOWN]:
            out.append(f"|  |  | ↳ {md_escape(item['date'])} {md_escape(item['title'])} "
                       f"{md_escape(safe_href(item['url']) or '')} |  |  |")
    out.append(f"\n{label('no_evidence', lang)}: "
               f"{md_escape(', '.join(data['fields_without_evidence'])) or '-'}")
    for name in ("pathways", "topics", "watchlist", "convergence"):
        out += ["", f"## {label(name, lang)}", ""]
        rows = data["lists"][name]
        if not rows:
            out.append(f"- {label('none', lang)}")
        for row in rows[:TOPICS_SHOWN]:
            ind = row["indicators"]
            words = ind.get("keywords") or {}
            title = ", ".join((words.get("en") or [])[:5]) or ind.get("name_en") or ""
            if lang != "en" and ind.get("label_zh"):
                title = f"{ind['label_zh']} / {title}" if title else ind["label_zh"]
            parent = f"{md_escape(row['parent_id'])} › " if row.get("parent_id") else ""
            change = _change(row, lang, first)
            out.append(f"- #{row['rank']}{f' ({change})' if change else ''} {parent}"
                       f"{md_escape(row['entity_id'])} {md_escape(title)}: "
                       f"{md_escape(_reason(row, lang))}")
        if len(rows) > TOPICS_SHOWN:
            falling = sum(1 for r in rows[TOPICS_SHOWN:]
                          if not r["indicators"].get("emerging", True))
            more = len(rows) - TOPICS_SHOWN
            note = pick((f"另有 {more} 个排在其后（其中 {falling} 个占比下降），见 {name}.csv",
                         f"{more} more rank below these ({falling} of them falling): see "
                         f"{name}.csv"), lang)
            out.append(f"- {note}")
    out += ["", f"## {pick(('新兴术语', 'Emerging terms'), lang)}", ""]
    windows = data.get("terms_windows") or {}
    for stream, rows in (data.get("terms") or {}).items():
        fitted = f" ({md_escape(terms_note_text(windows[stream], lang))})" \
            if stream in windows else ""
        out.append(f"- {md_escape(stream_name(stream, lang))}{fitted}: " + "; ".join(
            md_escape(str(t["term"])) for t in rows[:10]))
        shifted = (data.get("terms_shifted") or {}).get(stream) or []
        if shifted:
            out.append("  - " + pick(("占比变化超过十倍的类别或来源，其术语按自身条目计算增长",
                                      "categories or sources whose share changed more than "
                                      "tenfold; their terms judged against their own items"),
                                     lang)
                       + ": " + ", ".join(md_escape(str(v)) for v in shifted[:8])
                       + (" …" if len(shifted) > 8 else ""))
        phrasing = (data.get("terms_phrasing") or {}).get(stream) or []
        if phrasing:
            out.append("  - " + pick(("作为措辞未列出", "left out as phrasing"), lang)
                       + f" ({len(phrasing)}): "
                       + ", ".join(md_escape(str(t)) for t in phrasing[:12]))
    for stream, note in windows.items():
        if stream not in (data.get("terms") or {}):
            out.append(f"- {md_escape(stream_name(stream, lang))}: "
                       f"{pick(('本期没有术语达到新兴标准', 'no term meets the criteria'), lang)}"
                       f" ({md_escape(terms_note_text(note, lang))})")
    for stream, why in (data.get("terms_skipped") or {}).items():
        out.append(f"- {md_escape(stream_name(stream, lang))}: "
                   f"{md_escape(terms_note_text(why, lang))}")
    if not data.get("terms") and not data.get("terms_skipped") and not windows:
        out.append(f"- {label('none', lang)}")
    out += ["", f"## {label('suggestions', lang)}", ""]
    for s in data["suggestions"]:
        why = s.get("why_zh") if lang == "zh" else s["why"]
        out.append(f"- **{md_escape(suggestion_name(s['suggestion'], lang))}** "
                   f"{md_escape(s['entity'])}: {md_escape(why)}")
    return "\n".join(out) + "\n"
