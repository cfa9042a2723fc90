"""Emergence indicators on per-period series: plain functions over numpy arrays.

Every indicator works on shares (an entity's items over all items of the period), never
on raw counts across periods, because source coverage changes. When items come from
several source kinds, `pooled_share` compares like with like: only kinds covering the
whole series count, with a fixed mix, so adding a news source does not look like growth.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Smoothing added to counts (Jeffreys prior) so that a zero does not give an infinite ratio.
PRIOR = 0.5


def pooled_share(counts: Mapping[str, np.ndarray], totals: Mapping[str, np.ndarray]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(effective counts, totals) per period, comparable across periods.

    Only source kinds with items in every period take part (when none has, those covering
    the most periods): a kind whose sources start or stop inside the series would move
    the share by coverage alone. Each kind's share is weighted by its size over the
    series, so the mix stays fixed from period to period.

    Args:
        counts: per kind, the entity's items per period.
        totals: per kind, all items per period.
    """
    if not totals:
        return np.zeros(0), np.zeros(0)
    length = len(next(iter(totals.values())))
    coverage = {k: int((np.asarray(v) > 0).sum()) for k, v in totals.items()}
    best = max(coverage.values())
    if best == 0:
        return np.zeros(length), np.zeros(length)
    kinds = [k for k, c in coverage.items() if c == best]
    all_items = sum(float(totals[k].sum()) for k in kinds)
    total = sum(np.asarray(totals[k], dtype=float) for k in kinds)
    share = np.zeros(length)
    weight_present = np.zeros(length)
    for k in kinds:
        weight = float(totals[k].sum()) / all_items
        present = totals[k] > 0
        entity = np.asarray(counts.get(k, np.zeros(length)), dtype=float)
        share += np.where(present, weight * entity / np.where(present, totals[k], 1), 0.0)
        weight_present += np.where(present, weight, 0.0)
    share = np.where(weight_present > 0, share / np.where(weight_present > 0, weight_present, 1),
                     0.0)
    return share * total, total


@dataclass(frozen=True)
class Growth:
    """Share ratio of an active window over a base window, with a 90% interval."""

    ratio: float
    low: float
    high: float
    support: float  # the entity's (effective) items in the active window


def share_growth(counts: np.ndarray, totals: np.ndarray, base: slice, active: slice,
                 z: float = 1.645) -> Growth:
    """Pooled share in `active` over pooled share in `base`; delta-method log interval."""
    c_a, n_a = float(counts[active].sum()) + PRIOR, float(totals[active].sum()) + 2 * PRIOR
    c_b, n_b = float(counts[base].sum()) + PRIOR, float(totals[base].sum()) + 2 * PRIOR
    log_ratio = math.log(c_a / n_a) - math.log(c_b / n_b)
    se = math.sqrt(max(1 / c_a - 1 / n_a, 0) + max(1 / c_b - 1 / n_b, 0))
    return Growth(math.exp(log_ratio), math.exp(log_ratio - z * se),
                  math.exp(log_ratio + z * se), c_a - PRIOR)


def thirds(n: int) -> tuple[slice, slice]:
    """(base, active) windows of an n-period series: the first 30% and the rest."""
    base = max(1, round(0.3 * n))
    return slice(0, base), slice(base, n)


@dataclass(frozen=True)
class EScore:
    """Porter/Carley emergence terms, on shares per thousand items."""

    active_trend: float  # A
    recent_trend: float  # R
    slope: float  # S
    escore: float  # 2A + R + S
    active_base_ratio: float
    candidate: bool


def emergence_score(counts: np.ndarray, totals: np.ndarray, min_items: int = 7) -> EScore:
    """Carley et al. (2018) EScore = 2A + R + S, computed on shares.

    The last 10 periods are used (3 base, 7 active) when there are that many; shorter
    series keep the same layout scaled (30% base). With active periods a_1..a_m:
    A = share over the last three active periods minus share over the first three;
    R = share over the last two minus share over the two before; S = (share of the last
    period - share of the middle active period) / the periods between. Shares are per
    thousand items. The candidate test follows the paper's screen: present in the base,
    under 15% of the base's items, active/base share ratio above 2, at least `min_items`.
    """
    counts, totals = counts[-10:].astype(float), totals[-10:].astype(float)
    base, active = thirds(len(counts))
    c, n = counts[active], totals[active]

    def share(cs: np.ndarray, ns: np.ndarray) -> float:
        return 1000.0 * float(cs.sum()) / float(ns.sum()) if ns.sum() > 0 else 0.0

    m = len(c)
    k = min(3, max(1, m // 2))
    a_term = share(c[-k:], n[-k:]) - share(c[:k], n[:k])
    r_term = share(c[-2:], n[-2:]) - share(c[-4:-2], n[-4:-2]) if m >= 4 else 0.0
    mid = m // 2
    s_term = (share(c[-1:], n[-1:]) - share(c[mid:mid + 1], n[mid:mid + 1])) / max(m - 1 - mid, 1)
    base_share = share(counts[base], totals[base])
    ratio = (share(c, n) + 1e-9) / (base_share + 1e-9) if base_share else math.inf
    candidate = bool(counts[base].sum() > 0 and base_share < 150.0 and ratio > 2.0
                     and counts.sum() >= min_items)
    return EScore(a_term, r_term, s_term, 2 * a_term + r_term + s_term, ratio, candidate)


def kleinberg_bursts(counts: np.ndarray, totals: np.ndarray, s: float = 2.0,
                     gamma: float = 1.0) -> np.ndarray:
    """Kleinberg's two-state burst automaton on batched counts (1 = bursting period).

    State 0 emits relevant items at the overall rate p0 = sum(r)/sum(d); state 1 at
    min(s * p0, 0.9999). Entering the burst state costs gamma * ln(n periods); the
    cheapest state sequence (Viterbi) is returned.
    """
    r = np.asarray(counts, dtype=float)
    d = np.asarray(totals, dtype=float)
    periods = len(r)
    if periods == 0 or d.sum() == 0 or r.sum() == 0:
        return np.zeros(periods, dtype=int)
    p0 = min(max(r.sum() / d.sum(), 1e-9), 0.9999)
    rates = (p0, min(s * p0, 0.9999))

    def cost(state: int, t: int) -> float:
        p = rates[state]
        return -(r[t] * math.log(p) + (d[t] - r[t]) * math.log(1 - p))

    up = gamma * math.log(max(periods, 2))
    best = [cost(0, 0), cost(1, 0) + up]
    back: list[tuple[int, int]] = []
    for t in range(1, periods):
        stay0, from1_to0 = best[0], best[1]
        to1_from0, stay1 = best[0] + up, best[1]
        back.append((0 if stay0 <= from1_to0 else 1, 0 if to1_from0 < stay1 else 1))
        best = [min(stay0, from1_to0) + cost(0, t), min(to1_from0, stay1) + cost(1, t)]
    state = 0 if best[0] <= best[1] else 1
    states = [state]
    for t in range(periods - 2, -1, -1):
        state = back[t][state]
        states.append(state)
    return np.array(states[::-1], dtype=int)


def persistence(counts: np.ndarray) -> float:
    """Share of periods with at least one item."""
    return float((np.asarray(counts) > 0).mean()) if len(counts) else 0.0


# -- maturity cues ---------------------------------------------------------------------

#: Words that suggest a stage of development, in English and Chinese.
MATURITY_CUES: dict[str, tuple[str, ...]] = {
    "industrialization": (
        "mass production", "mass-produced", "commercial", "commercialization",
        "commercialisation", "production line", "financing", "funding round", "series a",
        "series b", "ipo", "standard", "standardization", "market launch", "shipments",
        "量产", "产业化", "商业化", "商用", "融资", "标准", "生产线", "上市", "订单", "出货"),
    "product-prototyping": (
        "prototype", "demonstrator", "pilot", "clinical trial", "first-in-human", "testbed",
        "test bed", "field test", "proof of concept", "engineering sample",
        "样机", "原型", "中试", "临床试验", "试点", "示范", "验证", "试验"),
}
_CUE_PATTERNS = {stage: re.compile("|".join(
    (rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w)) for w in words), re.IGNORECASE)
    for stage, words in MATURITY_CUES.items()}


#: Words that mark a text as being about science or technology (for news items; papers
#: count as such anyway). A watchlist topic must be mostly about technology.
TECHNOLOGY_CUES = (
    "technology", "technologies", "technological", "research", "researchers", "scientist",
    "scientists", "science", "engineering", "innovation", "prototype", "algorithm", "device",
    "chip", "chips", "laboratory", "patent", "startup", "semiconductor", "robot", "software",
    "科技", "技术", "研发", "科学", "实验室", "科研", "芯片", "人工智能", "专利", "研制",
    "算法", "机器人", "器件", "量子", "卫星", "新能源", "大模型", "半导体")
_TECH_PATTERN = re.compile("|".join(
    (rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w)) for w in TECHNOLOGY_CUES),
    re.IGNORECASE)


def technology_share(texts: Sequence[str], kinds: Sequence[str], lead: int = 160) -> float:
    """Share of items that are papers or carry a science-and-technology cue word in their
    first `lead` characters (title and lead: where a story says what it is about)."""
    if not texts:
        return 0.0
    hits = sum(1 for t, k in zip(texts, kinds, strict=True)
               if k == "paper" or _TECH_PATTERN.search(t[:lead]))
    return hits / len(texts)


def maturity_cues(texts: Sequence[str]) -> dict[str, int]:
    """How many texts carry at least one cue of each stage."""
    return {stage: sum(1 for t in texts if pattern.search(t))
            for stage, pattern in _CUE_PATTERNS.items()}


def stage_estimate(cues: Mapping[str, int], n_texts: int, kinds: Mapping[str, int]
                   ) -> str | None:
    """A rough stage from the cue shares and the evidence mix (None without texts).

    Industrialization when 15% or more of the texts carry its cues and news or policy
    make up at least a quarter of the evidence; product prototyping when 15% or more
    carry prototyping or industrialization cues; frontier exploration otherwise.
    """
    if n_texts == 0:
        return None
    industry = cues.get("industrialization", 0) / n_texts
    prototype = cues.get("product-prototyping", 0) / n_texts
    non_paper = sum(v for k, v in kinds.items() if k != "paper") / max(sum(kinds.values()), 1)
    if industry >= 0.15 and non_paper >= 0.25:
        return "industrialization"
    if prototype + industry >= 0.15:
        return "product-prototyping"
    return "frontier-exploration"


TIER_ORDER = ("frontier-exploration", "product-prototyping", "industrialization")


def stage_versus_tier(stage: str | None, tier: str | None) -> str:
    """'ahead', 'behind', 'consistent' of the evidence against the measures' tier, or ''."""
    if not stage or not tier or tier not in TIER_ORDER:
        return ""
    diff = TIER_ORDER.index(stage) - TIER_ORDER.index(tier)
    return "consistent" if diff == 0 else "ahead" if diff > 0 else "behind"


def percentile_ranks(values: Sequence[float]) -> np.ndarray:
    """Each value's rank in [0, 1] (ties share the mean rank); all 0.5 for one value."""
    array = np.asarray(values, dtype=float)
    if len(array) <= 1:
        return np.full(len(array), 0.5)
    from scipy.stats import rankdata

    return (rankdata(array) - 1) / (len(array) - 1)
