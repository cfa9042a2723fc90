"""Candidate terms of an item's text: English 1–3-word phrases and Chinese words (pure).

English phrases are runs of content words between stopwords, punctuation and numbers,
cut into every 1-, 2- and 3-word n-gram (a version number stays with the name it
follows: "GPT-5.1", "Qwen2.5", "Llama 4", "Claude Sonnet 4.5"); the head (last) word of
a phrase has its plural folded ("neural networks" -> "neural network", "GANs" -> "GAN").
Ordinary words are lower-cased; scientific acronyms keep their case ("GAN", "LiDAR",
"mmWave") and short letter-digit tokens are upper-cased ("5g" -> "5G"), so an acronym
never merges with a word that is spelled the same. Chinese text goes through jieba (with
extra words, e.g. the taxonomy's Chinese terms, added so they stay whole); its candidates
are words of two or more characters and pairs of adjacent such words ("人形" + "机器人"
-> "人形机器人").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

#: Function words and the verbs, adverbs and adjectives of academic prose that start or
#: end no technical phrase; a general list (no term of any evaluation list is in it).
_STOPWORDS = """
a about above across after again against all almost along also although
always am among an and another any anyone anything are around as at be became because
become becomes been before being below between beyond both but by can cannot could did do
does doing done down due during each either else enough especially etc even ever every few
for from further furthermore had has have having he hence her here hers herself him
himself his how however i if in including indeed into is it its itself just least less let
like many may me might more moreover most mostly much must my namely near nearly neither
never nevertheless no nor not now of off often on once one only onto or other others
otherwise our ours ourselves out over own per perhaps quite rather same several shall she
should since so some such than that the their theirs them themselves then there thereby
therefore these they this those though through throughout thus to together too toward
towards under unless until up upon us very via was we well were what whatever when
whenever where whereas whether which while who whom whose why will with within without
would yet you your yours able achieve achieved achieves achieving address addressed
addresses allow allowed allows apply applied applies applying approach approaches based
called carried compare compared comparing consider considered considering consists contain
contains demonstrate demonstrated demonstrates derive derived describe described describes
develop developed developing discuss discussed employ employed employing enable enables
enabling establish established evaluate evaluated exhibit exhibits explore explored find
finds found focus focused give given gives help improve improved improves improving
include includes increase increased increases introduce introduced introduces investigate
investigated investigates known lead leads make makes making obtain obtained obtaining
offer offers outperform outperforms perform performed performs present presented presents
propose proposed proposes proposing provide provided provides providing reach reduce
reduced reduces report reported require required requires reveal reveals see seen show
showed shown shows solve solved studied studies study suggest suggests take taken takes
use used uses using yield yields new novel recent recently first second third different
various certain particular specific large small high low good better best important main
general simple efficient effective significant significantly respectively previously
currently typically usually generally finally first-order related similar possible
potential whole wide widely strong strongly paper article work result results method
methods problem problems case cases way ways
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORDS.split())

#: Chinese function words that bound a phrase.
_STOPWORDS_ZH = """
的 了 和 与 及 是 在 等 对 为 将 也 并 由 从 而 中 上 下 个 这 那 其
之 以 于 被 把 就 都 还 又 或 我们 他们 一个 进行 通过 以及 已经 正在 可以 要 会 能 到 向 让 使
着 过 所 该 各 有 没有 不 很 更 最 一些 这些 那些 之一 方面 问题 工作 同时 目前 今年 近日 记者
新闻 表示 指出
"""
STOPWORDS_ZH: frozenset[str] = frozenset(_STOPWORDS_ZH.split())

#: A period cuts a phrase unless it sits between two digits: "GPT-5.1", "Qwen2.5" and
#: "DeepSeek-V3.2" are one token, as a version number is part of a model's name.
_CUT = re.compile(r"[,;:!?()\[\]{}\"“”‘’/|<>=+*&%#@~^\\]|\.(?!(?<=\d\.)\d)|\$[^$]*\$|"
                  r"https?://\S+|\s'|'\s")  # the common single characters first: faster
#: Latin letters with accents count as letters ("naïve", "Schrödinger" are one word).
_LETTER = "A-Za-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_TOKEN = re.compile(rf"[{_LETTER}]+(?:[-'.][{_LETTER}]+)*")  # a period left by _CUT: 5.1
_NUMBER = re.compile(r"\d+(?:[.\-]\d+)*")  # 3, 2.5, 0.5-1.0
#: A version number after a name: "Llama 4", "Claude 4.5", "SAM 3" (not a year, "2025").
_VERSION = re.compile(r"\d{1,2}(?:\.\d{1,2})?")
#: Capitalised nouns a number follows in prose without naming anything new ("Figure 3",
#: "Table 2", "Stage 1"): a version joins no word of this list.
_NUMBERED_WORDS = """
figure fig table tab section sec eq eqs equation chapter appendix step stage phase level type
part version class group task track round day week month year top rank grade tier category
layer block case example theorem lemma proposition corollary definition algorithm item
question experiment study setting scenario dataset model method test trial lecture
"""
_NUMBERED = frozenset(_NUMBERED_WORDS.split())
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")
_LY_NOUNS = frozenset(("anomaly", "assembly", "family", "monopoly", "supply", "italy",
                      "butterfly", "firefly", "dragonfly", "jelly"))
_NO_FOLD = ("ss", "us", "is", "ics", "sis", "ous", "ness", "series", "species", "news",
            "gas", "lens", "bias", "alias", "atlas", "chaos", "cosmos", "mars", "pros")


@lru_cache(maxsize=200_000)
def fold_plural(word: str) -> str:
    """A word's singular by suffix rules (acronyms: "GANs" -> "GAN"); unknown shapes kept."""
    if len(word) < 3 or not word.endswith("s"):
        return word
    if len(word) > 2 and word[:-1].isupper() and word[:-1].isalnum():  # CNNs, GANs, UEs
        return word[:-1]
    if len(word) < 4:
        return word
    lower = word.lower()
    if lower.endswith(_NO_FOLD) or "-" in word[-4:]:
        return word
    if lower.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if lower.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    return word[:-1]


def _normal_token(token: str) -> str | None:
    """The token as a term word, or None when it bounds a phrase (stopword, number,
    adverb). A possessive's "'s" is dropped ("the policy's reward" -> "policy reward"; the
    plural fold once made "policy's" "policy'")."""
    if token[-2:].lower() == "'s":
        token = token[:-2]
    if len(token) < 2 or _NUMBER.fullmatch(token):
        return None
    lower = token.lower()
    if lower in STOPWORDS or (lower.endswith("ly") and len(lower) > 5 and
                              lower not in _LY_NOUNS):
        return None
    if token.isalnum() and len(token) <= 4 and not token.isalpha():
        return token.upper()  # 5g, 3D, 6G
    if "-" in token:  # each part on its own: "Short-Term" -> "short-term", "RNA-Seq" -> "RNA-seq"
        return "-".join(_part(p) for p in token.split("-"))
    return _part(token)


def _part(token: str) -> str:
    """An acronym or brand spelling keeps its case (GAN, LiDAR, mmWave); a word is lower."""
    return token if len(token) > 1 and token[1:] != token[1:].lower() else token.lower()


_SEEN: dict[str, str | None] = {}
_SEEN_MAX = 500_000


def _word(token: str) -> str | None:
    """_normal_token, remembered (a corpus repeats its tokens)."""
    try:
        return _SEEN[token]
    except KeyError:
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        word = _SEEN[token] = _normal_token(token)
        return word


def english_terms(text: str, max_words: int = 3) -> set[str]:
    """Every 1..max_words-word phrase between stopwords, punctuation and numbers; a
    version number joins the capitalised name before it ("Gemini 3" is one word of a
    phrase; the phrases the name ends, "gemini", "stable diffusion", are counted too),
    except in a Title Case segment, where any capitalised word could take one."""
    terms: set[str] = set()
    for segment in _CUT.split(text):
        tokens = _TOKEN.findall(segment)
        if not tokens:
            continue
        upper = sum(1 for t in tokens if t.isupper() and len(t) > 1)
        shouting = len(tokens) > 3 and upper * 2 > len(tokens)  # an all-caps title
        titled: bool | None = None  # a Title Case segment ("Solving 10 Problems"), when asked
        run: list[str] = []
        previous = ""
        for token in (*tokens, ""):
            word = _word(token) if token else None
            if word is not None and shouting:
                word = word.lower()
            if word is not None:
                run.append(word)
                previous = token
                continue
            if run and previous and _names_a_version(previous, token):
                if titled is None:
                    titled = len(tokens) > 3 and sum(
                        1 for t in tokens if t[:1].isupper()) * 2 > len(tokens)
                if not titled:
                    _add_ngrams_ending(run, len(run), max_words, terms)  # "stable diffusion"
                    run[-1] = f"{run[-1]} {token}"
                    previous = ""  # "Llama 3 2" is not a version of "Llama 3"
                    continue
            previous = ""
            if run:
                _add_ngrams(run, max_words, terms)
                run = []
    return terms


def _names_a_version(name: str, token: str) -> bool:
    """Is `token` a version number of the capitalised word `name` before it?"""
    return (name[:1].isupper() and _VERSION.fullmatch(token) is not None
            and fold_plural(name.lower()) not in _NUMBERED)


def _add_ngrams_ending(run: list[str], end: int, max_words: int, out: set[str]) -> None:
    """The 1..max_words-word phrases of the run that end with its word end - 1 (the
    head, its plural folded)."""
    head = fold_plural(run[end - 1])
    out.add(head)
    for size in range(2, min(max_words, end) + 1):
        out.add(" ".join(run[end - size:end - 1]) + " " + head)


def _add_ngrams(run: list[str], max_words: int, out: set[str]) -> None:
    for end in range(1, len(run) + 1):
        _add_ngrams_ending(run, end, max_words, out)


class ChineseSegmenter:
    """jieba with extra words kept whole; one tokenizer per instance (no global state).

    Args:
        words: terms to add to jieba's dictionary (e.g. the taxonomy's Chinese terms).
    """

    def __init__(self, words: Iterable[str] = ()) -> None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        self.tokenizer: Any = jieba.Tokenizer()
        self.words = tuple(sorted({w.strip() for w in words if w and w.strip()}))
        for word in self.words:
            self.tokenizer.add_word(word, freq=max(1000, 200 * len(word)))

    def terms(self, text: str) -> set[str]:
        """Chinese words of 2+ characters and adjacent pairs of them."""
        out: set[str] = set()
        for run in _CJK_RUN.findall(text):
            previous: str | None = None
            for word in self.tokenizer.cut(run, HMM=True):
                if len(word) < 2 or word in STOPWORDS_ZH:
                    previous = None
                    continue
                out.add(word)
                if previous is not None and len(previous) + len(word) <= 8:
                    out.add(previous + word)
                previous = word
        return out


def item_terms(title: str | None, text: str | None,
               segmenter: ChineseSegmenter | None = None) -> set[str]:
    """The candidate terms of one item (a set: counts are document frequencies)."""
    joined = f"{title or ''}.\n{text or ''}"
    if not joined.isascii():  # a dump's decomposed accents ("nai\u0308ve"): one letter each
        joined = unicodedata.normalize("NFC", joined)
    terms = english_terms(joined)
    if segmenter is not None and _HAS_CJK.search(joined):
        terms |= segmenter.terms(joined)
    return terms


def month_of(published: str) -> str:
    """YYYY-MM of an ISO date or timestamp."""
    return published[:7]
