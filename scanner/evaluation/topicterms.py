"""Emerging-term marks for the topic backtest: which items carry a term ranked at the cut-off.

The nightly run's terms sub-score (scanner.signals.ranking.term_shares) reads, per topic,
the share of its active-window items that carry one of the run's emerging terms. The
backtest measures the same thing: the corpus's terms are counted once per stream
(scanner.terms.counts; document frequencies per month, so a cut-off's ranking reads only
the months before it), ranked at each cut-off with the nightly run's window rule
(scanner.terms.service.stream_windows: configured windows, fitted ones for a short
history, none for a stale stream or a thin base), and each item before the cut-off is
marked with the same extraction (item_terms) the counts used.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from scanner.config import TermSettings
from scanner.evaluation.corpus import Corpus
from scanner.terms.counts import TermCounts, count_corpus
from scanner.terms.emergence import rank_terms
from scanner.terms.extract import ChineseSegmenter, item_terms
from scanner.terms.service import stream_windows

#: A mark per item: carries one of its stream's emerging terms, does not, or its stream
#: had no ranking at the cut-off (not judged).
CARRIES, PLAIN, NOT_JUDGED = 1, 0, -1


def corpus_term_counts(corpus: Corpus, segmenter: ChineseSegmenter | None = None,
                       workers: int = 2) -> dict[str, TermCounts]:
    """Per stream, the document frequencies of the corpus's candidate terms per month
    (a Corpus with titles and summaries: scanner.evaluation.corpus.load_corpus)."""
    if corpus.titles is None or corpus.summaries is None:
        raise ValueError("the corpus holds no texts (load it with load_corpus)")
    kinds = corpus.item_kinds()
    out = {}
    for stream in sorted(set(kinds.tolist())):
        by_month: dict[str, list[tuple[str, str, str | None, str | None]]] = defaultdict(list)
        for i in np.flatnonzero(kinds == stream):
            by_month[str(corpus.dates[i])[:7]].append(
                (str(corpus.dates[i])[:7], corpus.venues[i] or "", corpus.titles[i],
                 corpus.summaries[i]))
        # one chunk per month, never cut: the naming rule then reads each month alone
        # (scanner.terms.counts), so a month's counts never depend on a later one
        chunks = [rows for _, rows in sorted(by_month.items())]
        out[stream] = count_corpus(chunks, stream, workers=workers, segmenter=segmenter)
    return out


def emerging_at(counts: dict[str, TermCounts], cutoff: str, settings: TermSettings
                ) -> dict[str, set[str]]:
    """Per stream ranked at the cut-off date (its months before the cut-off's month only),
    the top `settings.top` emerging terms; streams the nightly rule skips are absent."""
    month = cutoff[:7]
    item_totals = [(m, stream, int(n)) for stream, c in counts.items()
                   for m, n in zip(c.months, c.totals, strict=True) if n and m < month]
    out = {}
    for stream, (fitted, _) in stream_windows(item_totals, month, settings, counts).items():
        if fitted is None:
            continue
        terms = {r["term"] for r in rank_terms(counts[stream], month,
                                                fitted.settings)[:settings.top]}
        if terms:  # a stream whose ranking is empty is not judged (as in the nightly run)
            out[stream] = terms
    return out


def term_marks(corpus: Corpus, terms: dict[str, set[str]], rows: np.ndarray,
               segmenter: ChineseSegmenter | None = None) -> np.ndarray:
    """Per corpus item, CARRIES / PLAIN for the given rows of a stream with emerging
    terms, NOT_JUDGED for every other item."""
    if corpus.titles is None or corpus.summaries is None:
        raise ValueError("the corpus holds no texts (load it with load_corpus)")
    marks = np.full(len(corpus.dates), NOT_JUDGED, dtype=np.int8)
    kinds = corpus.item_kinds()
    for i in rows:
        wanted = terms.get(str(kinds[i]))
        if wanted is not None:
            found = item_terms(corpus.titles[i], corpus.summaries[i], segmenter)
            marks[i] = CARRIES if not wanted.isdisjoint(found) else PLAIN
    return marks


class TermMarker:
    """The corpus's term counts, counted once, and each cut-off's marks: what
    backtest_cutoff needs to give topics the nightly run's terms sub-score. An item's
    mark at a cut-off is computed once (seeds and variants share it)."""

    def __init__(self, counts: dict[str, TermCounts], settings: TermSettings,
                 segmenter: ChineseSegmenter | None = None) -> None:
        self.counts, self.settings, self.segmenter = counts, settings, segmenter
        self.ranked: dict[str, dict[str, set[str]]] = {}
        self._marks: dict[str, np.ndarray] = {}

    @classmethod
    def of_corpus(cls, corpus: Corpus, settings: TermSettings,
                  segmenter: ChineseSegmenter | None = None, workers: int = 2) -> TermMarker:
        """A marker whose counts are the corpus's (corpus_term_counts)."""
        return cls(corpus_term_counts(corpus, segmenter, workers), settings, segmenter)

    def marks(self, corpus: Corpus, cutoff: str, rows: np.ndarray) -> np.ndarray:
        """Every item's mark at the cut-off: CARRIES / PLAIN for `rows` of a stream with
        emerging terms, NOT_JUDGED for the rest (term_marks, each item computed once)."""
        if cutoff not in self.ranked:
            self.ranked[cutoff] = emerging_at(self.counts, cutoff, self.settings)
            self._marks[cutoff] = np.full(len(corpus.dates), NOT_JUDGED - 1, dtype=np.int8)
        done = self._marks[cutoff]
        todo = rows[done[rows] == NOT_JUDGED - 1]  # not computed yet
        if len(todo):
            done[todo] = term_marks(corpus, self.ranked[cutoff], todo, self.segmenter)[todo]
        out = np.full(len(corpus.dates), NOT_JUDGED, dtype=np.int8)
        out[rows] = done[rows]
        return out


def term_items(marks: np.ndarray | None, rows: np.ndarray) -> tuple[int, int] | None:
    """(rows carrying an emerging term, rows judged), as Entity.term_items takes it."""
    if marks is None:
        return None
    mine = marks[rows]
    return int((mine == CARRIES).sum()), int((mine != NOT_JUDGED).sum())
