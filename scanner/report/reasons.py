"""Plain-language reasons for a ranked row, in Chinese and English.

A reason says what the data supports and nothing else: how each stream's share moved
between its base and active windows (named by their periods), how many items and
sources carry it, authors and venues only where the data knows any, the stage only when
it disagrees with the field's tier, and "early-stage evidence" when the support is thin.
The full figures stay in the row's indicators (the JSON) and a `figures` table.
"""

from __future__ import annotations

import re
from typing import Any

from scanner.report.labels import pick, stage_name, stream_name
from scanner.signals.indicators import thirds

#: Below this many items in the active window, or with a 90% band wider than this
#: ratio (high / low), evidence is called early-stage.
THIN_ITEMS = 30
WIDE_BAND = 3.0

_LEFT_OUT_ZH = (
    (re.compile(r"covers (\d+) of (\d+) periods \(needs (\d+)\)"),
     r"仅覆盖 \2 期中的 \1 期（需 \3 期）"),
    (re.compile(r"(\d+) items in its periods \(needs (\d+)\)"), r"统计期内仅 \1 条（需 \2 条）"),
    (re.compile(r"its weight is 0 in the config"), "配置中权重为 0"),
    (re.compile(r"no items in the run's periods"), "统计期内没有条目"),
    (re.compile(r"no items in its active window \(the last (\d+) of (\d+) periods; its "
                r"newest are in period (\d+)\)"),
     r"活跃窗口（\2 期中的最后 \1 期）内没有条目；最新条目在第 \3 期"),
    (re.compile(r"its items fall from (\d+) to ([\d.]+) per period in its active window: the "
                r"source nearly stopped"), r"活跃窗口内每期条目由 \1 条降至 \2 条：来源几近停止"),
    (re.compile(r"its items end in (\d{4}-\d{2}), before the run's periods \((\S+) to (\S+)\): "
                r"nothing to judge them by"), r"条目止于 \1，早于统计期（\2 至 \3），无从判断"),
)


def _in_chinese(reason: str, patterns: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    """A reason translated by its patterns; "数据不足" when English is left over (a
    reason no pattern knows is not shown half-translated)."""
    zh = reason
    for pattern, repl in patterns:
        zh = pattern.sub(repl, zh)
    return "数据不足" if re.search(r"[A-Za-z]{3,}", zh) else zh


def left_out_text(reason: str, lang: str) -> str:
    """Why a stream stayed out of the composite, in the report's language."""
    return pick((_in_chinese(reason, _LEFT_OUT_ZH), reason), lang)


_TERMS_ZH = (
    (re.compile(r"^no items since (\d{4}-\d{2}) \(none in the last (\d+) months before "
                r"(\d{4}-\d{2})\): its terms would describe that time, not this run's$"),
     r"\1 之后没有条目（\3 之前的 \2 个月内为零），其术语只说明当时，不代表本期"),
    (re.compile(r"^cut-off (\S+) leaves no base period before the active window$"),
     r"数据历史太短：活跃窗口之前没有基期"),
    (re.compile(r"^(\d+) months? of history before the cut-off \(at least (\d+) needed\)$"),
     r"截止前仅有 \1 个月的数据（至少需要 \2 个月）"),
    (re.compile(r"^its base window holds (\d+) items; telling a share under ([\d.]+%) "
                r"\(novelty's bound\) from none needs (\d+)$"),
     r"基期仅有 \1 条：要分辨占比低于 \2（新颖性上限）与从未出现，至少需要 \3 条"),
    (re.compile(r"^monthly windows: (\d+) active months after a (\d+)-month base, items in "
                r"(\d+) of them \((\d+) months of history; the configured windows need "
                r"(\d+)\)$"),
     r"按月统计：\2 个月基期之后的 \1 个月为活跃期，须在其中 \3 个月出现"
     r"（已有 \4 个月数据；配置的窗口需要 \5 个月）"),
)


def terms_note_text(note: str, lang: str) -> str:
    """Why a stream's emerging terms are not listed, or how its windows were fitted to
    its history, in the report's language."""
    return pick((_in_chinese(note, _TERMS_ZH), note), lang)


_WARNING_ZH = (
    (re.compile(r"^(\w+) stays out of the composites: (.*)$"),
     lambda m: f"{stream_name(m.group(1), 'zh')}未计入综合指标："
               f"{left_out_text(m.group(2), 'zh')}"),
)


def warning_text(text: str, lang: str) -> str:
    """A coverage warning in the report's language (the English one when unknown)."""
    if lang == "en":
        return text
    for pattern, make in _WARNING_ZH:
        m = pattern.match(text)
        if m:
            return make(m) if lang == "zh" else f"{make(m)} · {text}"
    return text


def windows(periods: list[str], first: int) -> tuple[str, str]:
    """The base and active windows of a stream starting at period `first`, as labels."""
    own = periods[first:]
    if not own:
        return "", ""
    base, active = thirds(len(own))

    def span(a: str, b: str) -> str:
        return a if a == b else f"{a}–{b}"

    base_label = span(own[0], own[base.stop - 1])
    active_label = span(own[active.start], own[-1]) if active.start < len(own) else ""
    return base_label, active_label


def _direction(s: dict[str, Any]) -> str:
    if s["growth_low"] > 1:
        return "up"
    if s["growth_high"] < 1:
        return "down"
    return "level"


def _stream_clause(kind: str, s: dict[str, Any], periods: list[str], lang: str) -> str:
    base, active = windows(periods, s.get("first_period", 0))
    word = _direction(s)
    g, lo, hi = s["growth"], s["growth_low"], s["growth_high"]
    band = f"90%: {lo:.2f}–{hi:.2f}"
    zh_kind, en_kind = stream_name(kind, "zh"), stream_name(kind, "en")
    if word == "up":
        zh = f"{zh_kind}占比上升至 {g:.1f} 倍（{band}）"
        en = f"share of {en_kind} up {g:.1f}x ({band})"
    elif word == "down":
        zh = f"{zh_kind}占比下降至 {g:.2f} 倍（{band}）"
        en = f"share of {en_kind} down to {g:.2f}x ({band})"
    else:
        zh = f"{zh_kind}占比无明显变化（{g:.2f} 倍，{band}）"
        en = f"share of {en_kind} without a clear change ({g:.2f}x, {band})"
    if base and active:
        zh += f"，{active} 对比 {base}"
        en += f", {active} against {base}"
    return pick((zh, en), lang)


def reason(row: dict[str, Any], data: dict[str, Any], lang: str) -> str:
    """One or two sentences a panel member reads: why this row stands where it does."""
    ind = row["indicators"]
    periods = ind.get("periods") or []
    streams = ind.get("streams") or {}
    used = [k for k in ind.get("streams_used") or [] if k in streams]
    parts: list[str] = []
    if used:
        directions = {_direction(streams[k]) for k in used}
        if len(used) > 1 and len(directions) == 1:
            combined = {**streams[used[0]], "growth": ind["growth"],
                        "growth_low": ind["growth_low"], "growth_high": ind["growth_high"]}
            same = len({windows(periods, streams[k].get("first_period", 0)) for k in used}) == 1
            shown = periods if same else []  # windows named only when the streams share them
            first = _stream_clause(used[0], combined, shown, "en")
            # one clause for agreeing streams, each stream's ratio in brackets
            each_zh = "、".join(f"{stream_name(k, 'zh')} {streams[k]['growth']:.1f} 倍"
                                for k in used)
            each_en = ", ".join(f"{stream_name(k, 'en')} {streams[k]['growth']:.1f}x"
                                for k in used)
            zh_first = _stream_clause(used[0], combined, shown, "zh")
            zh_first = zh_first.replace(stream_name(used[0], "zh") + "占比", "综合占比", 1)
            first = first.replace(f"share of {stream_name(used[0], 'en')}", "combined share", 1)
            parts.append(pick((f"{zh_first}（{each_zh}）", f"{first} ({each_en})"), lang))
        else:
            parts.extend(_stream_clause(k, streams[k], periods, lang) for k in used)
    elif ind.get("growth") is not None:
        parts.append(_stream_clause("", ind, periods, lang).replace("share of ", "share "))
    for kind, s in streams.items():
        if not s.get("entered") and s.get("items"):
            why = left_out_text(s.get("left_out") or "", lang)
            parts.append(pick((f"{stream_name(kind, 'zh')}（{s['items']} 条）未计入：{why}",
                               f"{stream_name(kind, 'en')} ({s['items']} items) left out: "
                               f"{why}"), lang))
    if ind.get("forecast_periods"):
        parts.append(_forecast_clause(ind, [streams[k] for k in used], lang))
    parts.append(_support_clause(ind, lang))
    if ind.get("term_judged"):
        k, n = int(ind["term_items"]), int(ind["term_judged"])
        named = ", ".join(ind.get("carried_terms") or [])
        parts.append(pick((f"{n} 条中 {k} 条含本期新兴术语" + (f"（{named}）" if named else ""),
                           f"{k} of {n} items carry one of the run's emerging terms"
                           + (f" ({named})" if named else "")), lang))
    extra = _qualifiers(ind, data, lang)
    sep = "；" if lang == "zh" else "; "
    text = sep.join(p for p in parts + extra if p)
    return text + ("。" if lang == "zh" else ".")


def _forecast_clause(ind: dict[str, Any], used: list[dict[str, Any]], lang: str) -> str:
    """The figure the growth sub-score ranks by: the share the entity's trend (shrunk toward
    its nearest topics' or its list's) projects ahead, over its recent share; and a period
    left out of the trend."""
    n, f = int(ind["forecast_periods"]), float(ind.get("forecast") or 0)
    lo, hi = float(ind.get("forecast_low") or 0), float(ind.get("forecast_high") or 0)
    near = ind.get("forecast_prior") == "neighbours"
    toward = ("相邻主题", "its nearest topics'") if near else ("同列", "the list's")
    zh = (f"按其趋势（向{toward[0]}收缩）推算，未来 {n} 期占比约为最近 {n} 期的 "
          f"{f:.2f} 倍（90%: {lo:.2f}–{hi:.2f}，排名所用的增长）")
    en = (f"its trend (shrunk toward {toward[1]}) "
          f"projects the share over the next {n} periods at {f:.2f}x the last {n} (90%: "
          f"{lo:.2f}–{hi:.2f}; the growth the rank uses)")
    if any(0 in (s.get("trend") or {}).get("weights", []) for s in used):
        zh += "；偏离趋势线过远的单期（一次性爆发或骤降）未计入趋势"
        en += "; a period far off the trend line (a one-off burst or drop) is left out of it"
    return pick((zh, en), lang)


def _support_clause(ind: dict[str, Any], lang: str) -> str:
    n = int(ind.get("items_active") or ind.get("support") or 0)
    zh, en = [f"活跃期 {n} 条"], [f"{n} items in the active window"]
    for key, zh_word, en_word in (("sources", "个来源", "sources"),
                                  ("authors", "位作者", "authors"),
                                  ("venues", "个 arXiv 类别", "venues")):
        value = int(ind.get(key) or 0)
        if value > 0:
            zh.append(f"{value} {zh_word}")
            en.append(f"{value} {en_word if value > 1 else en_word.rstrip('s')}")
    return pick(("，".join(zh), ", ".join(en)), lang)


def _qualifiers(ind: dict[str, Any], data: dict[str, Any], lang: str) -> list[str]:
    out = []
    if ind.get("bursting_now"):
        out.append(pick(("当前处于爆发期", "bursting now"), lang))
    vs = ind.get("stage_vs_tier")
    if vs in ("ahead", "behind") and ind.get("stage"):
        stage = stage_name(ind["stage"], data, "zh"), stage_name(ind["stage"], data, "en")
        out.append(pick((f"证据阶段（{stage[0]}）{'领先' if vs == 'ahead' else '落后'}于措施梯次",
                         f"evidence at {stage[1]}, {vs} of the measures' tier"), lang))
    low, high = ind.get("growth_low") or 0, ind.get("growth_high") or 0
    thin = int(ind.get("items_active") or 0) < THIN_ITEMS or (low > 0 and high / low > WIDE_BAND)
    if thin:
        out.append(pick(("证据尚处早期", "still early-stage evidence"), lang))
    return out


#: Figures shown behind "full figures", with their names.
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("growth", "占比倍数", "share ratio"), ("growth_low", "90% 下限", "90% low"),
    ("growth_high", "90% 上限", "90% high"), ("escore", "EScore", "EScore"),
    ("persistence", "持续性", "persistence"), ("items_active", "活跃期条目", "items active"),
    ("share_active", "活跃期占比", "share active"), ("share_base", "基期占比", "share base"),
    ("forecast", "趋势推算倍数", "trend forecast"),
    ("forecast_low", "推算 90% 下限", "forecast 90% low"),
    ("forecast_high", "推算 90% 上限", "forecast 90% high"),
    ("trend_slope", "趋势斜率（每期，收缩后）", "trend slope per period (shrunk)"),
)
SUBSCORES: dict[str, tuple[str, str]] = {
    "novelty": ("新颖度", "novelty"), "growth": ("增长", "growth"),
    "coherence": ("连贯性", "coherence"), "impact": ("影响", "impact"),
    "terms": ("新兴术语", "emerging terms"),
    "confidence": ("置信度", "confidence"),
}


def figures(row: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """(name, value) pairs of the row's figures and sub-scores, left-out ones marked."""
    ind, subs = row["indicators"], row.get("subscores") or {}
    out = []
    for key, zh, en in FIGURES:
        if ind.get(key) is not None:
            value = ind[key]
            out.append((pick((zh, en), lang),
                        f"{value:.3f}" if isinstance(value, float) else str(value)))
    left = set(subs.get("left_out") or [])
    for key, names in SUBSCORES.items():
        if key in subs:
            mark = pick(("（未计入）", " (left out)"), lang) if key in left else ""
            out.append((pick(names, lang) + mark, f"{subs[key]:.2f}"))
    return out


def short_reason(row: dict[str, Any], lang: str) -> str:
    """A table cell's reason: the combined ratio with its band and the items behind it."""
    ind = row["indicators"]
    n = int(ind.get("items_active") or row.get("support") or 0)
    g, lo, hi = ind.get("growth") or 0, ind.get("growth_low") or 0, ind.get("growth_high") or 0
    word = _direction(ind) if ind.get("growth") is not None else "level"
    zh_word = {"up": "上升", "down": "下降", "level": "无明显变化"}[word]
    en_word = {"up": "up", "down": "down", "level": "no clear change"}[word]
    zh = f"占比{zh_word}，{g:.2f} 倍（90%: {lo:.2f}–{hi:.2f}），活跃期 {n} 条"
    en = f"share {en_word}, {g:.2f}x (90%: {lo:.2f}–{hi:.2f}), {n} items in the active window"
    if n < THIN_ITEMS:
        zh, en = zh + "，证据尚处早期", en + ", still early-stage evidence"
    return pick((zh, en), lang)
