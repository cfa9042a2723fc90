"""Suggested adjustments for the panel, each with its trigger and the numbers.

Rules (suggestions, never verdicts):

- promote: the field's whole 90% band of the share ratio lies above PROMOTE_LOW, or its
  evidence stage is ahead of its tier with the band above 1;
- propose retiring: the band lies below RETIRE_HIGH with at least RETIRE_ITEMS items;
- watch: the ratio is above 1 on thin support (confidence under WATCH_CONFIDENCE);
- keep: none of these, the band named against both thresholds;
- coverage gap: a field without a single item in the run's periods, naming the source
  kinds the store lacks and those it has that found nothing;
- propose new field: one of the top three watchlist topics, its share ratio above 1 and
  not falling, with at least
  NEW_FIELD_ITEMS items and not a generic cluster (over GENERIC_SHARE of all topic items).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scanner.report.labels import stream_name

PROMOTE_LOW = 1.5
RETIRE_HIGH = 0.67
RETIRE_ITEMS = 20
WATCH_CONFIDENCE = 0.5
NEW_FIELD_ITEMS = 20
GENERIC_SHARE = 0.25
KINDS = ("paper", "news", "policy")
ORDER = {"promote": 0, "propose new field": 1, "watch": 2, "propose retiring": 3,
         "coverage gap": 4, "keep": 5}


def _band(ind: dict[str, Any]) -> tuple[str, str]:
    g, lo, hi = ind["growth"], ind["growth_low"], ind["growth_high"]
    return (f"占比倍数 {g:.2f}（90% 区间 {lo:.2f}–{hi:.2f}）",
            f"share ratio {g:.2f} (90% band {lo:.2f}–{hi:.2f})")


def field_suggestion(row: dict[str, Any]) -> dict[str, Any]:
    """The suggestion for one ranked field."""
    ind, subs = row["indicators"], row["subscores"]
    zh, en = _band(ind)
    n = int(ind.get("items_active") or row["support"] or 0)
    if ind["growth_low"] > PROMOTE_LOW:
        kind = "promote"
        zh += f"，整个区间高于提升阈值 {PROMOTE_LOW}"
        en += f", the whole band above the promote threshold {PROMOTE_LOW}"
    elif ind.get("stage_vs_tier") == "ahead" and ind["growth_low"] > 1:
        kind = "promote"
        zh += f"，区间高于 1，且证据阶段（{ind.get('stage')}）领先于梯次（{ind.get('tier')}）"
        en += (f", band above 1 and evidence stage {ind.get('stage')} ahead of tier "
               f"{ind.get('tier')}")
    elif ind["growth_high"] < RETIRE_HIGH and n >= RETIRE_ITEMS:
        kind = "propose retiring"
        zh += f"，整个区间低于退出阈值 {RETIRE_HIGH}，活跃期 {n} 条（至少需 {RETIRE_ITEMS} 条）"
        en += (f", the whole band below the retire threshold {RETIRE_HIGH}, on {n} items "
               f"(at least {RETIRE_ITEMS})")
    elif ind["growth"] > 1 and subs["confidence"] < WATCH_CONFIDENCE:
        kind = "watch"
        zh += f"，但仅 {n} 条，置信度 {subs['confidence']:.2f} 低于 {WATCH_CONFIDENCE}"
        en += (f" but only {n} items: confidence {subs['confidence']:.2f} under "
               f"{WATCH_CONFIDENCE}")
    else:
        kind = "keep"
        zh += f"，未达到提升（下限 > {PROMOTE_LOW}）或退出（上限 < {RETIRE_HIGH}）的阈值"
        en += (f", short of the promote (low > {PROMOTE_LOW}) and retire (high < "
               f"{RETIRE_HIGH}) thresholds")
    return {"entry": f"fields:{row['entity_id']}", "suggestion": kind,
            "entity": row["entity_id"], "href": f"#fields-{row['entity_id']}",
            "why": en, "why_zh": zh,
            "trigger": {"growth": ind["growth"], "growth_low": ind["growth_low"],
                        "growth_high": ind["growth_high"], "items_active": n,
                        "confidence": subs["confidence"]}}


def coverage_gap(field_id: str, items_by_kind: dict[str, int]) -> dict[str, Any]:
    """The coverage-gap note of a field without evidence."""
    absent = [k for k in KINDS if not items_by_kind.get(k)]
    present = [k for k in KINDS if items_by_kind.get(k)]
    zh_parts, en_parts = [], []
    if present:
        zh_parts.append("库中" + "、".join(f"{stream_name(k, 'zh')} {items_by_kind[k]} 条"
                                          for k in present) + "均未匹配到该领域")
        en_parts.append("none of the store's " + ", ".join(
            f"{items_by_kind[k]} {stream_name(k, 'en')}" for k in present) + " matched it")
    if absent:
        zh_parts.append("缺少数据源类型：" + "、".join(stream_name(k, "zh") for k in absent))
        en_parts.append("missing source kinds: " + ", ".join(stream_name(k, "en")
                                                             for k in absent))
    return {"entry": f"fields:{field_id}", "suggestion": "coverage gap", "entity": field_id,
            "href": f"#gap-{field_id}", "why": "; ".join(en_parts), "why_zh": "；".join(zh_parts),
            "trigger": {"items": 0, "missing_kinds": absent}}


def suggestions(fields: Sequence[dict[str, Any]], watchlist: Sequence[dict[str, Any]],
                without_evidence: Sequence[str] = (), items_by_kind: dict[str, int] | None = None,
                topic_items: int = 0, carrying_terms: set[str] | None = None
                ) -> list[dict[str, Any]]:
    """Every suggestion, most pressing first. A watchlist topic is proposed as a new
    field only when it carries one of the run's emerging terms (`carrying_terms`), never
    because it is a large cluster."""
    out = [field_suggestion(row) for row in fields]
    out += [coverage_gap(f, items_by_kind or {}) for f in without_evidence]
    for row in watchlist[:3]:
        ind = row["indicators"]
        size = int(ind.get("size") or row["support"] or 0)
        generic = topic_items > 0 and size / topic_items > GENERIC_SHARE
        rising = ind.get("emerging", True) and ind["growth"] > 1
        carries = carrying_terms is not None and row["entity_id"] in carrying_terms
        if row["support"] < NEW_FIELD_ITEMS or not rising or generic or not carries:
            continue
        zh, en = _band(ind)
        clear = ind["growth_low"] > 1
        out.append({"entry": f"watchlist:{row['entity_id']}", "suggestion": "propose new field",
                    "entity": row["entity_id"], "href": f"#watchlist-{row['entity_id']}",
                    "why": f"outside every field, {row['support']:.0f} items (at least "
                           f"{NEW_FIELD_ITEMS}); {en}, "
                           + ("the whole band above 1" if clear else "above 1 but the band "
                              "reaches below: an early candidate"),
                    "why_zh": f"不属于任何领域，{row['support']:.0f} 条（至少需 {NEW_FIELD_ITEMS} "
                              f"条）；{zh}，" + ("整个区间高于 1" if clear else
                                              "高于 1 但区间下限低于 1，属早期候选"),
                    "trigger": {"items": row["support"], "growth": ind["growth"],
                                "size_share": round(size / topic_items, 3)
                                if topic_items else None}})
    return sorted(out, key=lambda s: (ORDER[s["suggestion"]], s["entity"]))
