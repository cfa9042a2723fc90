"""Emerging-term marks for the topic backtest: which items carry a term ranked at the cut-off.

The nightly run's terms sub-score (scanner.signals.ranking.term_shares) reads, per topic,
the share of its active-window items that carry one of the run's emerging terms. The
backtest measures the same thing: the corpus's terms are counted once per stream
(scanner.terms.counts; document frequencies per month, so a cut-off's ranking reads only
the months before it), ranked at each cut-off with the nightly run's window rule
(scanner.terms.service.stream_window: configured windows, fitted ones for a short
history, none for a stale stream or a thin base), and each item before the cut-off is
marked with the same extraction (item_terms) the counts used.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from scanner.config import TermSettings
from scanner.terms.counts import TermCounts, count_corpus
from scanner.terms.emergence import rank_terms
from scanner.terms.extract import ChineseSegmenter, item_terms
from scanner.terms.service import stream_window

#: Rows per counting chunk (one month per chunk, split when larger).
CHUNK_ROWS = 20_000

#: A mark per item: carries one of its stream's emerging terms, does not, or its stream
#: had no ranking at the cut-off (not judged).
CARRIES, PLAIN, NOT_JUDGED = 1, 0, -1


def corpus_term_counts(corpus: Any, segmenter: ChineseSegmenter | None = None,
                       workers: int = 2) -> dict[str, TermCounts]:
    """Per stream, the document frequencies of the corpus's candidate terms per month
    (a Corpus with titles and summaries: scanner.evaluation.corpus.load_corpus)."""
    kinds = corpus.item_kinds()
    out = {}
    for stream in sorted(set(kinds.tolist())):
        by_month: dict[str, list[tuple[str, str, str | None, str | None]]] = defaultdict(list)
        for i in np.flatnonzero(kinds == stream):
            by_month[str(corpus.dates[i])[:7]].append(
                (str(corpus.dates[i])[:7], corpus.venues[i] or "", corpus.titles[i],
                 corpus.summaries[i]))
        chunks = [rows[k:k + CHUNK_ROWS] for _, rows in sorted(by_month.items())
                  for k in range(0, len(rows), CHUNK_ROWS)]
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
    for stream, c in counts.items():
        fitted, _ = stream_window(stream, item_totals, month, settings)
        if fitted is not None:
            out[stream] = {r["term"] for r in rank_terms(c, month, fitted.settings)[:settings.top]}
    return out


def term_marks(corpus: Any, terms: dict[str, set[str]], rows: np.ndarray,
               segmenter: ChineseSegmenter | None = None) -> np.ndarray:
    """Per corpus item, CARRIES / PLAIN for the given rows of a stream with emerging
    terms, NOT_JUDGED for every other item."""
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
    backtest_cutoff needs to give topics the nightly run's terms sub-score."""

    def __init__(self, corpus: Any, settings: TermSettings,
                 segmenter: ChineseSegmenter | None = None, workers: int = 2) -> None:
        self.settings, self.segmenter = settings, segmenter
        self.counts = corpus_term_counts(corpus, segmenter, workers)
        self.ranked: dict[str, dict[str, set[str]]] = {}

    def marks(self, corpus: Any, cutoff: str, rows: np.ndarray) -> np.ndarray:
        """term_marks of `rows` with the terms ranked at the cut-off."""
        if cutoff not in self.ranked:
            self.ranked[cutoff] = emerging_at(self.counts, cutoff, self.settings)
        return term_marks(corpus, self.ranked[cutoff], rows, self.segmenter)


def term_items(marks: np.ndarray | None, rows: np.ndarray) -> tuple[int, int] | None:
    """(rows carrying an emerging term, rows judged), as Entity.term_items takes it."""
    if marks is None:
        return None
    mine = marks[rows]
    return int((mine == CARRIES).sum()), int((mine != NOT_JUDGED).sum())
