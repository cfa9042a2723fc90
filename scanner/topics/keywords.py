"""Topic keywords: a class-based TF-IDF over bilingual tokens.

English text is lower-cased and cut on word characters (hyphenated terms kept whole),
with adjacent content words also counted as bigrams ("error correction"). Chinese is
segmented with jieba; words of one character and function words are dropped, and Latin
tokens inside Chinese text ("6G", "GaN") follow the English rules. Each language is
weighted separately, so a topic whose members are mixed gets keywords in both.

Weight of term t in topic c (as in BERTopic's c-TF-IDF): the term's share of the topic's
tokens, times log(1 + A / f_t), where A is the mean token count per topic and f_t the
term's count over all topics.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-+][A-Za-z0-9]+)*|[0-9]+[A-Za-z][A-Za-z0-9]*")
_CJK = re.compile(r"[\u4e00-\u9fff]")

#: Words that say nothing about a topic in abstracts and news (added to scikit-learn's list).
EXTRA_ENGLISH_STOP = frozenset("""
paper propose proposed proposes propose approach approaches method methods result results
show shows shown study studies present presents presented work based using use used uses
new novel also however well can may via within without across large high low first two
one three several various different existing recent recently demonstrate demonstrates
problem problems task tasks performance model models framework frameworks data set sets
furthermore moreover thus therefore respectively including significantly significant
state art e g i et al non able achieve achieves achieved improve improved improves
provide provides provided allow allows enable enables efficient effective effectively
case cases number order way time times important key main general particular given
obtain obtained find found make makes made analysis analyze investigate investigated
""".split())  # noqa: SIM905 (a word list reads better as text)

#: Chinese function words and news boilerplate (two characters or more; one-character
#: words are dropped anyway).
CHINESE_STOP = frozenset("""
我们 他们 这个 那个 这些 那些 一个 一种 以及 其中 进行 通过 对于 由于 因此 但是 可以 已经
目前 今天 记者 报道 表示 新闻 联播 央视 同时 此外 还有 方面 相关 重要 情况 工作 发展 推动
推进 加快 实现 开展 坚持 不断 全面 持续 积极 有效 进一步 主要 提出 提供 使用 方法 研究 本文
基于 问题 结果 能够 需要 成为 作为 之间 没有 就是 这样 如何 什么 为了 以及 并且 或者 其他
今年 去年 日前 近日 当前 一些 各地 全国 我国 中国 国家 不仅 而且 如果 所以 因为 虽然 以上
以下 之一 一是 二是 三是
""".split()) | frozenset("""
模型 数据 框架 性能 任务 分析 表明 显示 展示 提高 提升 改进 现有 不同 多种 各种 显著 高效 达到
使得 允许 获得 发现 给出 案例 数量 一般 特定 新颖 大量
""".split())  # noqa: SIM905 (the second list: EXTRA_ENGLISH_STOP's words in Chinese, so
# that machine-written Chinese abstracts lose the same boilerplate as English ones)


@lru_cache(maxsize=1)
def _english_stop() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | EXTRA_ENGLISH_STOP


@lru_cache(maxsize=4)
def segmenter(words: tuple[str, ...] = ()) -> Any:
    """A jieba tokenizer that keeps the given terms whole (e.g. the taxonomy's 脑机接口)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for word in words:
        tokenizer.add_word(word, freq=200_000)
    return tokenizer


def _latin_tokens(text: str) -> list[str]:
    stop = _english_stop()
    out: list[str] = []
    previous: str | None = None
    for match in _LATIN.finditer(text):
        raw = match.group(0)
        # acronyms with digits or inner capitals keep their case (6G, GaN); others lower
        word = raw if (any(c.isdigit() for c in raw) or raw[1:].lower() != raw[1:]) \
            else raw.lower()
        low = word.lower()
        if low in stop or (len(low) < 3 and not any(c.isdigit() for c in low)):
            previous = None
            continue
        out.append(word)
        if previous is not None:
            out.append(f"{previous} {word}")
        previous = word
    return out


def tokens(text: str, language: str | None = None, words: tuple[str, ...] = ()) -> list[str]:
    """Content tokens of a text: English words and bigrams, Chinese jieba words
    (`words` are Chinese terms to keep whole)."""
    if language == "zh" or (language is None and _CJK.search(text)):
        out: list[str] = []
        for piece in segmenter(words).lcut(text):
            piece = piece.strip()
            if len(piece) >= 2 and _CJK.search(piece) and piece not in CHINESE_STOP \
                    and all(_CJK.match(c) for c in piece):
                out.append(piece)
        out.extend(t for t in _latin_tokens(text) if " " not in t)
        return out
    return _latin_tokens(text)


def ctfidf_keywords(documents: Sequence[str], labels: Sequence[int], languages: Sequence[str],
                    top: int = 10, min_count: int = 2, words: Iterable[str] = (),
                    min_docs: int = 1) -> dict[int, dict[str, list[str]]]:
    """Top keywords per topic label and language: {label: {"en": [...], "zh": [...]}}.

    Documents labelled -1 (unassigned) take no part. A language appears for a topic only
    when at least one member is in it. `words`: Chinese terms the segmenter keeps whole.
    `min_docs`: a topic's keyword must occur in at least this many of its documents (or
    in all of them, when it has fewer).
    """
    if not len(documents) == len(labels) == len(languages):
        raise ValueError("documents, labels and languages differ in length")
    keep = tuple(sorted({w for w in words if _CJK.search(w)}))
    result: dict[int, dict[str, list[str]]] = {}
    for language in ("en", "zh"):
        members: dict[int, list[int]] = {}
        for position, (label, lang) in enumerate(zip(labels, languages, strict=True)):
            if label >= 0 and (lang == "zh") == (language == "zh"):
                members.setdefault(int(label), []).append(position)
        vocabulary, counts = _count_terms(documents, members, language, keep, min_docs)
        for label, chosen in _weigh(counts, vocabulary, top, min_count).items():
            result.setdefault(label, {})[language] = chosen
    return result


def _count_terms(documents: Sequence[str], members: dict[int, list[int]], language: str,
                 keep: tuple[str, ...], min_docs: int = 1
                 ) -> tuple[list[str], dict[int, tuple[Any, Any]]]:
    """Each term once in a shared vocabulary; per topic, (term ids, counts) as arrays.

    Per-topic Counters of strings held every term once per topic it appears in: at 100k
    abstracts that was ~4M entries (~600 MB); the arrays take a few bytes each. A term in
    fewer than `min_docs` of a topic's documents (all of them, when fewer) counts zero.
    """
    index: dict[str, int] = {}
    counts: dict[int, tuple[Any, Any]] = {}
    for label, positions in members.items():
        ids = array("l")
        seen = array("l")  # each document's distinct terms, for the document frequency
        for position in positions:
            doc = [index.setdefault(t, len(index))
                   for t in tokens(documents[position], language, keep)]
            ids.extend(doc)
            if min_docs > 1:
                seen.extend(set(doc))
        terms, n = np.unique(np.frombuffer(ids, dtype=np.int64) if ids else
                             np.zeros(0, dtype=np.int64), return_counts=True)
        if min_docs > 1 and len(terms):
            df_terms, df = np.unique(np.frombuffer(seen, dtype=np.int64), return_counts=True)
            needed = min(min_docs, len(positions))
            n = np.where(df[np.searchsorted(df_terms, terms)] >= needed, n, 0)
        counts[label] = (terms, n)
    return list(index), counts


def _weigh(counts: dict[int, tuple[Any, Any]], vocabulary: Sequence[str], top: int,
           min_count: int) -> dict[int, list[str]]:
    """c-TF-IDF per topic over the terms seen at least `min_count` times in all topics."""
    if not counts:
        return {}
    overall = np.zeros(len(vocabulary), dtype=np.int64)
    for terms, n in counts.values():
        overall[terms] += n  # terms are unique within a topic
    kept = overall >= min_count
    rows = {}
    for label, (terms, n) in counts.items():
        mask = kept[terms]
        rows[label] = (terms[mask], n[mask])
    sizes = {label: int(n.sum()) for label, (_, n) in rows.items()}
    average = float(np.mean(list(sizes.values()))) or 1.0
    idf = np.log1p(average / np.where(overall == 0, 1, overall))
    out: dict[int, list[str]] = {}
    for label in sorted(rows):
        terms, n = rows[label]
        weights = n / max(sizes[label], 1) * idf[terms]
        order = np.lexsort((terms, -weights))  # by weight, ties by first-seen term
        picked = [vocabulary[terms[i]] for i in order[: top * 3] if weights[i] > 0]
        out[label] = _drop_covered(picked, top)
    return out


def _drop_covered(terms: Iterable[str], top: int) -> list[str]:
    """Keep the best terms, skipping a word already shown inside a chosen bigram and back."""
    chosen: list[str] = []
    for term in terms:
        parts = set(term.split(" "))
        if any(term in c.split(" ") or parts <= set(c.split(" ")) for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == top:
            break
    return chosen
