"""The executive summary: at most ten lines, each linking to its section.

What rose, what is new, what fell, the out-of-taxonomy candidates worth a look, the
panel's open questions, and what the data does not cover. Built once in both languages
(the JSON keeps both); each line is {"key", "zh", "en", "href", "entities"} where
entities are links to the rows it names.
"""

from __future__ import annotations

from typing import Any

from scanner.report.labels import ratio_figure, share_direction

#: A watchlist topic worth a look: rising and with at least this many items.
CANDIDATE_ITEMS = 20
#: A field is named rising, falling, or ahead of / behind its tier in the summary only
#: with at least this many items over its base and active windows: below it one item
#: more or less moves its share ratio by a factor of two or more (the field's card still
#: shows its figures; "falling" once named fusion on 2 papers and 6G on 3).
MIN_SUMMARY_ITEMS = 10


def judged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with enough items (MIN_SUMMARY_ITEMS) to be named in the summary."""
    return [r for r in rows if items_judged(r) >= MIN_SUMMARY_ITEMS]


def items_judged(row: dict[str, Any]) -> int:
    """Items over the base and active windows of the streams in a row's composite."""
    ind = row["indicators"]
    streams = ind.get("streams") or {}
    return sum(int(streams[k].get("items") or 0) for k in ind.get("streams_used") or []
               if k in streams)


def _entity(row: dict[str, Any], anchor: str, note: str) -> dict[str, str]:
    ind = row["indicators"]
    zh = ind.get("name_zh") or ind.get("label_zh") or ind.get("label") or row["entity_id"]
    if row["list"] in ("topics", "watchlist"):
        zh, en = f"{row['entity_id']} {zh}", f"{row['entity_id']} {ind.get('label') or ''}"
        return {"id": row["entity_id"], "href": f"#{anchor}-{row['entity_id']}",
                "zh": zh.strip(), "en": en.strip(), "note": note}
    en = ind.get("name_en") or ind.get("label") or row["entity_id"]
    return {"id": row["entity_id"], "href": f"#{anchor}-{row['entity_id']}",
            "zh": str(zh), "en": str(en), "note": note}


def _line(key: str, zh: str, en: str, href: str,
          entities: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"key": key, "zh": zh, "en": en, "href": href, "entities": entities or []}


def executive_summary(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary lines of a report's data (build_report's dict)."""
    lists, cov = data["lists"], data["coverage"]
    fields = lists["fields"]
    out: list[dict[str, Any]] = []
    new_items = cov.get("new_items")
    if new_items == 0 and data.get("previous_date"):
        out.append(_line("nothing_new", "本期没有新条目进入数据库：以下排名与上期数据相同。",
                         "Nothing new came in this night: the rankings below rest on the "
                         "same items as before.", "#coverage"))
    enough = judged(fields)
    rising = sorted((r for r in enough if share_direction(r["indicators"]) == "rising"),
                    key=lambda r: -r["score"])[:4]
    if rising:
        out.append(_line("rose", "上升：", "Rising:", "#fields", [
            _entity(r, "fields", ratio_figure(r["indicators"]["growth"])) for r in rising]))
    elif any(share_direction(r["indicators"]) == "rising" for r in fields):
        out.append(_line("rose", f"本期没有条目不少于 {MIN_SUMMARY_ITEMS} 条的领域占比明确上升"
                         "（条目更少的领域见各领域卡片）。", "No field with at least "
                         f"{MIN_SUMMARY_ITEMS} items clearly rose (thinner ones: see their "
                         "cards).", "#fields"))
    else:
        out.append(_line("rose", "本期没有领域的占比明确上升（90% 区间均含 1 或低于 1）。",
                         "No field's share clearly rose (every 90% band reaches 1 or "
                         "lies below).", "#fields"))
    new_fields = [r for r in fields if r["entity_id"] in data["summary"]["new_entrants"]]
    born = [r for r in lists["topics"] if r["indicators"].get("born") == data["run_date"]]
    if born and len(born) == len(lists["topics"]):
        born = []  # the first topics run: every topic is born today, none is news
    if new_fields or born:
        out.append(_line("new", "新出现：", "New:", "#topics",
                         [_entity(r, "fields", "") for r in new_fields[:3]] +
                         [_entity(r, "topics", f"{r['support']:.0f}") for r in born[:3]]))
    falling = sorted((r for r in enough if share_direction(r["indicators"]) == "falling"),
                     key=lambda r: -r["support"])[:4]
    if falling:
        out.append(_line("fell", "下降：", "Falling:", "#fields", [
            _entity(r, "fields", ratio_figure(r["indicators"]["growth"])) for r in falling]))
    # worth a look only when the topic carries one of the run's emerging terms: a big
    # rising cluster of generic words is not a candidate (issue 18)
    from scanner.report.build import topics_with_terms

    carrying = topics_with_terms(data.get("terms") or {})
    candidates = [r for r in lists["watchlist"] if r["indicators"].get("emerging", True)
                  and r["indicators"].get("growth", 0) > 1
                  and r["support"] >= CANDIDATE_ITEMS and r["entity_id"] in carrying][:3]
    if candidates:
        out.append(_line("outside", "值得关注的分类外候选：", "Out-of-taxonomy candidates "
                         "worth a look:", "#watchlist",
                         [_entity(r, "watchlist", f"x{r['indicators']['growth']:.1f}, "
                                  f"{r['support']:.0f}") for r in candidates]))
    out.extend(_questions(data))
    out.extend(_coverage_lines(data))
    return out[:10]


def _questions(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The panel's open questions: suggestions to decide and tier mismatches."""
    out = []
    counts: dict[str, int] = {}
    for s in data.get("suggestions") or []:
        counts[s["suggestion"]] = counts.get(s["suggestion"], 0) + 1
    asks = [(k, counts[k]) for k in ("promote", "propose retiring", "propose new field",
                                     "watch") if counts.get(k)]
    if asks:
        from scanner.report.labels import suggestion_name

        zh = "、".join(f"{suggestion_name(k, 'zh')} {n} 项" for k, n in asks)
        en = ", ".join(f"{n} to {suggestion_name(k, 'en')}" for k, n in asks)
        out.append(_line("questions", f"待专家组决定：{zh}。", f"For the panel to decide: {en}.",
                         "#suggestions"))
    mismatched = [r for r in judged(data["lists"]["fields"])
                  if r["indicators"].get("stage_vs_tier") in ("ahead", "behind")][:3]
    if mismatched:
        out.append(_line("tiers", "证据阶段与措施梯次不一致：", "Evidence stage and measures' "
                         "tier disagree:", "#fields",
                         [_entity(r, "fields", r["indicators"]["stage_vs_tier"])
                          for r in mismatched]))
        for e in out[-1]["entities"]:
            e["note_zh"] = {"ahead": "领先", "behind": "落后"}.get(e["note"], e["note"])
    return out


def _coverage_lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    cov = data["coverage"]
    out = []
    missing = data.get("fields_without_evidence") or []
    left = [k for k, s in (cov.get("streams") or {}).items() if not s.get("entered")]
    warnings = cov.get("warnings") or []
    if missing or left or warnings:
        zh, en = [], []
        if missing:
            zh.append(f"{len(missing)} 个领域本期无证据")
            en.append(f"{len(missing)} fields without evidence")
        if left:
            from scanner.report.labels import stream_name

            zh.append("未计入综合指标的数据流：" + "、".join(stream_name(k, "zh") for k in left))
            en.append("streams left out of the composites: " +
                      ", ".join(stream_name(k, "en") for k in left))
        if warnings:
            zh.append(f"{len(warnings)} 条数据提示")
            en.append(f"{len(warnings)} data warning{'s' if len(warnings) > 1 else ''}")
        out.append(_line("coverage", "数据覆盖：" + "；".join(zh) + "。",
                         "Coverage: " + "; ".join(en) + ".", "#coverage"))
    return out
