"""Every string a report shows, in Chinese and English, and how a language picks one.

`lang` is "zh", "en" or "both" throughout; "both" shows Chinese then English.
"""

from __future__ import annotations

from typing import Any

#: Headings and labels in both languages.
LABELS: dict[str, tuple[str, str]] = {
    "title": ("前沿技术与未来产业动态监测报告", "Frontier technology horizon-scanning report"),
    "toc": ("目录", "Contents"),
    "executive": ("要点摘要", "Executive summary"),
    "summary": ("摘要：本期变化", "Summary: what changed"),
    "overview": ("领域总览（方向 × 梯次）", "Field overview (direction × tier)"),
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
    "none": ("无", "none"), "field": ("领域", "Field"), "topic": ("主题", "Topic"),
    "pathway": ("技术路线", "Pathway"), "entry": ("对象", "Entry"),
    "no_evidence": ("本期无证据的领域", "Fields without evidence in these periods"),
    "figures": ("完整指标", "Full figures"), "players": ("主要参与者", "Key players"),
    "sources": ("来源", "Sources"), "venues": ("arXiv 类别", "Venues (arXiv categories)"),
    "authors": ("作者", "Authors"), "orgs": ("机构与企业", "Organisations"),
    "previous": ("上期报告", "previous report"), "falling": ("下降", "falling"),
    "items": ("条目", "items"), "by_kind": ("按类型", "by kind"),
    "by_language": ("按语言", "by language"), "run": ("运行", "run"),
    "sources_ok": ("来源成功 / 失败", "sources ok / failed"),
    "stream": ("数据流", "stream"), "first": ("最早", "first"), "last": ("最晚", "last"),
    "periods_covered": ("覆盖期数", "periods covered"),
    "entered": ("计入综合指标", "in the composites"), "yes": ("是", "yes"), "no": ("否", "no"),
    "not_entered": ("未计入综合指标", "not in the composite"),
    "periods": ("统计期", "Periods"), "answered": ("专家组已表态", "panel verdict"),
    "best_field": ("最接近领域", "nearest field"), "label_zh": ("中文标签", "Chinese label"),
    "no_zh_label": ("无中文标签（英文条目无中文摘要）",
                    "no Chinese label (English, no Chinese summary)"),
    "panel_note": ("以上为建议而非结论，由专家组决定。请填写同一文件夹中的 review.csv，"
                   "再运行 scanner review import。",
                   "Suggestions, not verdicts: the panel decides. Answer with review.csv "
                   "(same folder) and scanner review import."),
    "allowed": ("可填写的结论", "Allowed verdicts"), "trend": ("趋势", "trend"),
    "more_topics": ("其余主题", "Further topics"), "interval": ("90% 区间", "90% band"),
    "warnings": ("数据提示", "Data warnings"), "glossary": ("术语说明", "Glossary"),
}

#: Item kinds (signal streams) by name.
STREAMS: dict[str, tuple[str, str]] = {
    "paper": ("论文", "papers"), "news": ("新闻", "news"), "policy": ("政策", "policy"),
}

#: Evidence stages (the taxonomy's tiers carry their own names; these are the fallback).
STAGES: dict[str, tuple[str, str]] = {
    "frontier-exploration": ("前沿探索", "frontier exploration"),
    "product-prototyping": ("产品研发（原型样机）", "product prototyping"),
    "industrialization": ("产业化", "industrialization"),
}

#: Suggestion kinds.
SUGGESTIONS: dict[str, tuple[str, str]] = {
    "promote": ("建议提升", "promote"), "keep": ("保持", "keep"), "watch": ("关注", "watch"),
    "propose retiring": ("建议退出", "propose retiring"),
    "propose new field": ("建议新增领域", "propose new field"),
    "coverage gap": ("数据缺口", "coverage gap"),
}

#: Verdict values of the review sheet.
VERDICT_NAMES: dict[str, tuple[str, str]] = {
    "relevant": ("相关", "relevant"), "irrelevant": ("不相关", "irrelevant"),
    "accept": ("接受", "accept"), "reject": ("拒绝", "reject"),
    "promote": ("提升", "promote"), "keep": ("保持", "keep"), "watch": ("关注", "watch"),
    "retire": ("退出", "retire"),
}


def pick(pair: tuple[str, str] | dict[str, str], lang: str) -> str:
    """One of a (zh, en) pair or {"zh", "en"} dict, or both joined."""
    zh, en = (pair["zh"], pair["en"]) if isinstance(pair, dict) else pair
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    return zh if zh == en else f"{zh} · {en}"


def label(key: str, lang: str) -> str:
    """A heading in Chinese, English, or both."""
    return pick(LABELS[key], lang)


def stream_name(kind: str, lang: str) -> str:
    """A stream (item kind) by name."""
    return pick(STREAMS.get(kind, (kind, kind)), lang)


def stage_name(stage: str | None, data: dict[str, Any], lang: str) -> str:
    """A tier or stage by the taxonomy's name, else the built-in one; '-' when none."""
    if not stage:
        return pick(("未给出", "not given"), lang)
    tiers = data.get("tiers") or {}
    if stage in tiers:
        return pick(tiers[stage], lang)
    return pick(STAGES.get(stage, (stage, stage)), lang)


def suggestion_name(kind: str, lang: str) -> str:
    """A suggestion kind by name."""
    return pick(SUGGESTIONS.get(kind, (kind, kind)), lang)


def direction_name(direction: str, data: dict[str, Any], lang: str) -> str:
    """A direction by the taxonomy's name."""
    names = (data.get("directions") or {}).get(direction)
    return pick(names, lang) if names else (direction or "-")


#: Topic lineage events by name.
LINEAGE: dict[str, tuple[str, str]] = {
    "born": ("新生", "born"), "continued": ("延续", "continued"), "merged": ("合并", "merged"),
    "split": ("分裂", "split"), "died": ("消亡", "died"), "revived": ("复现", "revived"),
    "grew": ("扩大", "grew"), "shrank": ("缩小", "shrank"), "stable": ("稳定", "stable"),
    "split_from": ("分裂自", "split from"), "dormant": ("休眠", "dormant"),
    "merged_into": ("并入", "merged into"),
}


def lineage_text(events: list[dict[str, Any]], lang: str) -> str:
    """A topic's recent lineage events, in the report's language."""
    return "; ".join(f"{e['date']} {pick(LINEAGE.get(e['kind'], (e['kind'], e['kind'])), lang)}"
                     + (f" {e['other']}" if e.get("other") else "") for e in events)


#: Period lengths by name.
PERIODS: dict[str, tuple[str, str]] = {
    "month": ("月", "month"), "quarter": ("季度", "quarter"), "half": ("半年", "half-year"),
    "year": ("年", "year"),
}

#: Run states by name.
RUN_STATES: dict[str, tuple[str, str]] = {
    "ok": ("完成", "ok"), "failed": ("失败", "failed"), "running": ("进行中", "running"),
}

#: Player trends as marks.
TRENDS: dict[str, tuple[str, str]] = {
    "up": (" ↑", " ↑"), "down": (" ↓", " ↓"), "=": ("", ""), "new": (" 新", " new"),
}

#: Terms the report uses: (key, (zh term, zh meaning), (en term, en meaning)).
GLOSSARY: tuple[tuple[str, tuple[str, str], tuple[str, str]], ...] = (
    ("share", ("占比", "某领域或主题的条目数占同一数据流（论文、新闻、政策）当期条目总数的比例。"),
     ("share", "an entity's items over all items of the same stream (papers, news, policy) "
               "in a period.")),
    ("ratio", ("占比倍数", "活跃期的合并占比除以基期的合并占比；大于 1 表示上升。"),
     ("share ratio", "the pooled share in the active window over that in the base window; "
                     "above 1 means rising.")),
    ("band", ("90% 区间", "占比倍数的 90% 置信区间；整个区间高于 1 才算明确上升。"
                         "图中色带为每期占比的 90% 区间。"),
     ("90% band", "the 90% interval of the share ratio; only a band wholly above 1 is a clear "
                  "rise. In the charts, the shaded band is each period's 90% interval.")),
    ("windows", ("基期与活跃期",
                 "每个数据流自其首个有数据的统计期起，前 30% 为基期，其余为活跃期。"),
     ("base and active windows", "from a stream's first period with items, the first 30% of "
                                 "its periods are the base window, the rest the active one.")),
    ("tier", ("措施梯次", "政策文件为领域给出的梯次（前沿探索、产品研发、产业化）。"),
     ("measures' tier", "the tier the policy documents give a field (frontier exploration, "
                        "product prototyping, industrialization).")),
    ("stage", ("阶段估计", "从证据文本中的成熟度线索估计的阶段，与梯次不一致时在理由中说明。"),
     ("stage estimate", "the stage read from maturity cues in the evidence; named in the reason "
                        "when it disagrees with the tier.")),
    ("score", ("得分", "各子指标按 [signals] 中的权重加权综合（默认：增长即占比趋势的预测、"
                      "影响、主题的新兴术语占比，以及在各条目间有差别时的连贯性；新颖度只列出、"
                      "不计分），再乘以置信度，仅用于排序。"),
     ("score", "the sub-scores weighted as set in [signals] (by default growth, i.e. the "
               "share trend's forecast, impact, a topic's emerging terms, and coherence "
               "where it varies; novelty is shown, not scored), times confidence; used for "
               "ranking only.")),
    ("terms_subscore", ("新兴术语（子指标）", "主题活跃期条目中含本期新兴术语（见“新兴术语”一节）"
                                        "的比例在列表中的百分位；领域与路线不计此项，"
                                        "本期未排出术语时也不计。"),
     ("emerging terms (sub-score)", "the percentile, within the list, of the share of a "
                                    "topic's active-window items that carry one of the run's "
                                    "emerging terms (the emerging-terms section); not used "
                                    "for fields and pathways, nor when the run ranked no "
                                    "term.")),
    ("forecast", ("趋势预测", "对每个数据流的占比拟合稳健的泊松对数线性趋势（单期异常值不计入），"
                           "并向相邻主题（主题列表，按质心相似度）或同一列表的平均趋势收缩；"
                           "预测值为趋势所推算的后几期占比除以最近几期的实际占比。"
                           "得分中的“增长”即按此排序。"),
     ("forecast", "a robust Poisson log-linear trend fitted to each stream's share (a single "
                  "period far off the line is left out) and shrunk toward the typical trend of "
                  "its nearest topics (topic lists, by centroid similarity) or of its list; "
                  "the forecast is the share it projects for the next periods over the "
                  "share of the last ones. The score's growth ranks by it.")),
    ("confidence", ("置信度", "活跃期条目数 ÷（条目数 + support_k，默认 10）：条目越少，"
                             "得分越被压低。"),
     ("confidence", "items in the active window / (items + support_k, 10 by default): the "
                    "fewer the items, the more the score is held back.")),
    ("persistence", ("持续性（连贯性）", "活跃期中有条目的统计期所占比例。"),
     ("persistence (coherence)", "the share of the active window's periods that have items.")),
    ("novelty", ("新颖度", "一半看“年轻”（主题条目落在活跃期的比例），一半看与最近的其他主题"
                         "中心的距离（同列表内的百分位）；只列出，不计分。"),
     ("novelty", "half youth (the share of a topic's items in the active window), half "
                 "distance from the nearest other live topic's centre (a percentile of the "
                 "list); shown, not scored.")),
    ("escore", ("EScore", "Carley 等（2018）的新兴度分数 2A + R + S，按每千条的占比计算：A 为活跃期"
                         "最后三期与最初三期的占比之差，R 为最后两期与之前两期之差，S 为末期相对"
                         "活跃期中段的斜率；负值表示近期在回落。"),
     ("EScore", "Carley et al.'s (2018) emergence score 2A + R + S on shares per thousand "
                "items: A, the last three active periods' share minus the first three's; R, "
                "the last two's minus the two before; S, the last period's slope from the "
                "active window's middle. Negative means falling lately.")),
)


def share_direction(ind: dict[str, Any]) -> str:
    """"rising" (the share ratio's 90% interval wholly above 1), "falling" (wholly below)
    or "unclear": the one test the summary, the overview's colours and its text share."""
    low, high = ind.get("growth_low"), ind.get("growth_high")
    if low is not None and float(low) > 1:
        return "rising"
    if high is not None and float(high) < 1:
        return "falling"
    return "unclear"


def ratio_figure(ratio: float) -> str:
    """A share ratio as the report writes it: "x1.4", "x0.67"; a figure that would round
    to 1 on the side it is not on keeps a decimal more ("x0.996", "x1.04")."""
    text = f"{ratio:.2f}" if ratio < 1 else f"{ratio:.1f}"
    if ratio < 1 and text == "1.00":
        text = f"{ratio:.3f}"
    elif ratio > 1 and text == "1.0":
        text = f"{ratio:.2f}"
    return f"x{text}"


def term_ratio(row: dict[str, Any], lang: str, prefix: str = "x") -> str:
    """An emerging term's share ratio and 90% interval: "x2.5 (1.2–4.0)"; "new" when the
    term was absent from the base (no finite ratio), an open bound as "≤4.0" or "3.2–∞"
    (the report's terms table and `scanner terms` both write it so)."""
    ratio = pick(("新出现", "new"), lang) if row.get("share_ratio") is None else \
        f"{prefix}{row['share_ratio']:.1f}"
    low, high = row.get("ratio_low"), row.get("ratio_high")
    if low is None and high is None:
        return ratio
    if low is None:
        return f"{ratio} (≤{high:.1f})"
    return f"{ratio} ({low:.1f}–{'∞' if high is None else f'{high:.1f}'})"


def period_name(period: str | None, lang: str) -> str:
    """A period length by name."""
    return pick(PERIODS.get(period or "", (period or "-", period or "-")), lang)


def run_status(status: str | None, lang: str) -> str:
    """A run state by name."""
    return pick(RUN_STATES.get(status or "", (status or "-", status or "-")), lang)


def trend_mark(trend: str, lang: str) -> str:
    """A player's trend as a mark after its count."""
    return pick(TRENDS.get(trend, ("", "")), lang) if lang != "both" else TRENDS.get(
        trend, ("", ""))[1]


def verdict_name(verdict: str, lang: str) -> str:
    """A panel verdict by name."""
    return pick(VERDICT_NAMES.get(verdict, (verdict, verdict)), lang)
