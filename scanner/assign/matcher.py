"""Keyword matching: whole-word English patterns (acronyms case-sensitive), Chinese
substrings, a plain-substring probe before each regex, and news sub-headlines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from scanner.taxonomy import Taxonomy

#: A body line this short, in a body of three lines or more, is a sub-headline: news
#: briefs (国内联播快讯) are a headline per sub-story, each followed by its paragraph.
HEADLINE_CHARS = 40



_CJK = re.compile(r"[\u3400-\u9fff]")



def _is_acronym(keyword: str) -> bool:
    """Short words with a capital (GaN, RIS, SNN) are matched case-sensitively."""
    return len(keyword) <= 5 and any(c.isupper() for c in keyword[1:] + keyword[:1])



def _english_pattern(keyword: str) -> re.Pattern[str]:
    """Word-boundary pattern; short acronyms (GaN, RIS, SNN) are case-sensitive."""
    escaped = re.escape(keyword).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]?")
    flags = 0 if _is_acronym(keyword) else re.IGNORECASE
    # A hyphen may come before the word ("beta-Ga2O3"); a Latin letter or digit may not.
    # Chinese characters may touch it: "XR超高清", "6G技术", "AI芯片" are words here.
    return re.compile(rf"(?<![A-Za-z0-9_]){escaped}(?:s|es)?(?![A-Za-z0-9_])", flags)



#: Non-ASCII letters that `re.IGNORECASE` matches to ASCII ones but str.lower() keeps apart
#: (or, for İ, lowers to two characters): folded before a probe is looked for.
_ASCII_FOLDS = str.maketrans({"\u0131": "i", "\u0130": "i", "\u017f": "s", "\u212a": "k"})



def _fold(text: str) -> str:
    """The text lower-cased as IGNORECASE sees ASCII letters."""
    return text.lower() if text.isascii() else text.translate(_ASCII_FOLDS).lower()



def _probe(keyword: str) -> tuple[str, bool] | None:
    """A plain substring every match of the keyword's pattern contains (its first word,
    lower-cased unless it is a case-sensitive acronym), and whether to look for it in the
    text as is; None when there is no safe one (non-ASCII). A cheap `in` test before the
    regex: most texts lack most keywords, and the regex scan is what assignment costs."""
    first = re.split(r"[\s-]+", keyword.strip())[0]
    if not first or not first.isascii():
        return None
    case_sensitive = _is_acronym(keyword)
    return (first if case_sensitive else first.lower()), case_sensitive



@dataclass
class KeywordMatcher:
    """Finds each field's keywords in English and Chinese text."""

    taxonomy: Taxonomy
    prefilter: bool = True  # skip a regex when its probe substring is absent (same result)
    _english: dict[str, list[tuple[str, re.Pattern[str], tuple[str, bool] | None]]] = \
        field(default_factory=dict)
    _chinese: dict[str, set[str]] = field(default_factory=dict)
    _exclude_en: dict[str, list[tuple[re.Pattern[str], tuple[str, bool] | None]]] = \
        field(default_factory=dict)
    _exclude_zh: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for f in self.taxonomy.active_fields:
            chinese_list = (*f.keywords_zh, *f.aliases_zh)
            # Latin-script entries of the Chinese lists ("C919", "eVTOL", "6G") are matched
            # as patterns like English keywords; the Chinese path takes Han words only.
            words = [*f.keywords_en, *f.aliases_en,
                     *(w for w in chinese_list if not _CJK.search(w))]
            self._english[f.id] = [(w, _english_pattern(w), self._probe_of(w))
                                   for w in dict.fromkeys(words)]
            self._chinese[f.id] = {w for w in chinese_list if _CJK.search(w)}
            # Same rule as keywords: the exclusion "GAN" (the network) must not erase "GaN".
            self._exclude_en[f.id] = [(_english_pattern(x), self._probe_of(x))
                                      for x in f.exclude_en]
            self._exclude_zh[f.id] = f.exclude_zh

    def _probe_of(self, keyword: str) -> tuple[str, bool] | None:
        return _probe(keyword) if self.prefilter else None

    @cached_property
    def _segmenter(self) -> Any:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        segmenter = jieba.Tokenizer()
        for words in self._chinese.values():
            for word in words:
                segmenter.add_word(word, freq=200_000)
        return segmenter

    def _suffixes(self, text: str) -> set[str]:
        """Every word of the segmented text and every ending of it.

        Chinese compounds are head-final: 通信卫星 is a kind of 卫星 and counts for it,
        while 卫星城 (a satellite town) is a kind of 城 and does not.
        """
        out: set[str] = set()
        for word in self._segmenter.lcut(text):
            if _CJK.search(word):
                out.update(word[i:] for i in range(len(word)))
            else:
                out.add(word)
        return out

    def hits(self, text: str) -> dict[str, list[str]]:
        """Keywords found per field (fields with none are left out)."""
        found: dict[str, list[str]] = {}
        if not text:
            return found
        tokens: set[str] = set()
        if _CJK.search(text):
            tokens = self._suffixes(text)
        lowered = _fold(text)

        def absent(probe: tuple[str, bool] | None, within: str, within_lower: str) -> bool:
            return probe is not None and probe[0] not in (within if probe[1] else within_lower)

        for fid, patterns in self._english.items():
            field_text = text
            for exclude, probe in self._exclude_en[fid]:
                if not absent(probe, text, lowered):
                    field_text = exclude.sub(" ", field_text)
            for phrase in self._exclude_zh[fid]:
                field_text = field_text.replace(phrase, " ")
            field_lower = lowered if field_text is text else _fold(field_text)
            words = [w for w, pattern, probe in patterns
                     if not absent(probe, field_text, field_lower) and pattern.search(field_text)]
            if tokens:
                field_tokens = tokens if field_text == text else self._suffixes(field_text)
                words += [w for w in self._chinese[fid] if w in field_tokens]
            if words:
                found[fid] = sorted(set(words))
        return found



def sub_headlines(body: str) -> list[str]:
    """The short lines of a body of three lines or more (a brief's sub-story headlines)."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if len(lines) < 3:
        return []
    return [line for line in lines if len(line) <= HEADLINE_CHARS]
