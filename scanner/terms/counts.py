"""Document frequencies of candidate terms per (term, month, stream, venue) (pure).

Two ways to count, with the same result for the same items:
- `count_items`: a plain dict, for a night's increment or a small store;
- `count_corpus`: a whole corpus in parallel worker processes, kept as arrays
  (`TermCounts`). Workers hash terms (the forked workers share the parent's hash seed)
  and name only the terms that some chunk holds in two or more items, so memory stays
  bounded by the corpus's recurring vocabulary, not by its one-off trigrams. A term
  named nowhere had at most one item per chunk; when every chunk is a whole month,
  scoring requires a month with two items (`TermSettings.min_month_df`), so no
  candidate is lost to the naming rule. A month cut into several chunks (TermCorpus.chunks
  cuts months over 20,000 items; the shared corpora peak at 5,791) can lose a term with
  one item in each part, or keep it only because a later chunk names it: the topic
  backtest's marks (scanner.evaluation.topicterms) never cut a month. Each worker
  returns a term's name once per corpus, not with every chunk that holds it.

The venue of an item stands in for Porter and Carley's "community": its primary
category on arXiv (the corpora have no authors), else its source. Items per venue and
month are kept too (`venue_totals`): a venue whose share of the stream shifts tenfold
over a window has its terms' growth judged against its own items
(scanner.terms.emergence, `venue_mix`).
"""

from __future__ import annotations

import multiprocessing
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scanner.terms.extract import ChineseSegmenter, item_terms

#: One item to count: (month YYYY-MM, stream, venue, title, text).
CountRow = tuple[str, str, str, str | None, str | None]
Key = tuple[str, str, str, str]  # (term, month, stream, venue)


def count_items(rows: Iterable[CountRow], segmenter: ChineseSegmenter | None = None
                ) -> Counter[Key]:
    """Items per (term, month, stream, venue) of the given items."""
    counts: Counter[Key] = Counter()
    for month, stream, venue, title, text in rows:
        for term in item_terms(title, text, segmenter):
            counts[(term, month, stream, venue)] += 1
    return counts


def item_totals(rows: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """Items per (month, stream) from (month, stream) pairs."""
    return Counter(rows)


def venue_totals(rows: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """Items per (month, venue) from (month, venue) pairs (one stream's items)."""
    return Counter(rows)


@dataclass
class TermCounts:
    """One stream's document frequencies as parallel arrays over (term, month, venue)."""

    stream: str
    terms: list[str]
    months: list[str]  # every month from the first to the last, YYYY-MM
    venues: list[str]
    term: np.ndarray  # int32 index into terms
    month: np.ndarray  # int32 index into months
    venue: np.ndarray  # int32 index into venues
    df: np.ndarray  # int32 items
    totals: np.ndarray  # float64 items of the stream per month
    venue_totals: np.ndarray | None = None  # float64 [venues x months] items; None: unknown
    index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.index = {t: i for i, t in enumerate(self.terms)}

    def month_index(self, month: str) -> int:
        """Position of YYYY-MM among months (may be len(months) or more, or negative)."""
        return months_between(self.months[0], month)

    def series(self, term: str) -> np.ndarray:
        """Items per month of one term (zeros when unknown)."""
        i = self.index.get(term)
        if i is None:
            return np.zeros(len(self.months))
        rows = self.term == i
        return np.bincount(self.month[rows], weights=self.df[rows],
                           minlength=len(self.months)).astype(float)


def months_between(first: str, second: str) -> int:
    """second - first in months (YYYY-MM)."""
    return (int(second[:4]) - int(first[:4])) * 12 + int(second[5:7]) - int(first[5:7])


def month_range(first: str, last: str) -> list[str]:
    """Every YYYY-MM from first to last inclusive."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while (year, month) <= (int(last[:4]), int(last[5:7])):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def from_counter(counts: Counter[Key], totals: Counter[tuple[str, str]], stream: str,
                 by_venue: Counter[tuple[str, str]] | None = None) -> TermCounts:
    """A stream's TermCounts from count_items' and item_totals' dicts (`by_venue`: the
    stream's venue_totals, when known)."""
    mine = [(k, v) for k, v in counts.items() if k[2] == stream]
    months_seen = sorted({m for (m, s) in totals if s == stream} | {k[1] for k, _ in mine})
    months = month_range(months_seen[0], months_seen[-1]) if months_seen else []
    terms = sorted({k[0] for k, _ in mine})
    venues = sorted({k[3] for k, _ in mine} | {v for _, v in (by_venue or {})})
    t_index = {t: i for i, t in enumerate(terms)}
    v_index = {v: i for i, v in enumerate(venues)}
    m_index = {m: i for i, m in enumerate(months)}
    total = np.zeros(len(months))
    for (m, s), n in totals.items():
        if s == stream:
            total[m_index[m]] += n
    per_venue = None
    if by_venue is not None:
        per_venue = np.zeros((len(venues), len(months)))
        for (m, v), n in by_venue.items():
            if m in m_index:
                per_venue[v_index[v], m_index[m]] += n
    return TermCounts(
        stream, terms, months, venues,
        np.array([t_index[k[0]] for k, _ in mine], dtype=np.int32),
        np.array([m_index[k[1]] for k, _ in mine], dtype=np.int32),
        np.array([v_index[k[3]] for k, _ in mine], dtype=np.int32),
        np.array([v for _, v in mine], dtype=np.int32), total, per_venue)


# -- a whole corpus in worker processes ----------------------------------------------------

#: One chunk of a corpus: rows of (month, venue, title, text), ideally one month each.
Chunk = Sequence[tuple[str, str, str | None, str | None]]
_PartResult = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str], list[str],
                    dict[int, str]]
_SEGMENTER: list[ChineseSegmenter | None] = [None]  # inherited by forked workers
#: Names this process has already returned (a worker names each term once per corpus,
#: not once per chunk: the parent would otherwise unpickle millions of repeated names).
_SENT_NAMES: set[int] = set()


def _count_chunk(chunk: Chunk) -> _PartResult:
    """Hashed counts of one chunk and the names of the terms it holds in 2+ items."""
    counts: Counter[tuple[int, str, str]] = Counter()
    names: dict[int, str] = {}
    seen: set[int] = set()
    sent = _SENT_NAMES
    for month, venue, title, text in chunk:
        for term in item_terms(title, text, _SEGMENTER[0]):
            key = hash(term)
            counts[(key, month, venue)] += 1
            if key in seen:
                if key not in sent:
                    names[key] = term
            else:
                seen.add(key)
    sent.update(names)
    months = sorted({k[1] for k in counts})
    venues = sorted({k[2] for k in counts})
    m_index = {m: i for i, m in enumerate(months)}
    v_index = {v: i for i, v in enumerate(venues)}
    n = len(counts)
    small = np.int16 if max(len(months), len(venues)) < 32_000 else np.int32
    return (np.fromiter((k[0] for k in counts), dtype=np.int64, count=n),
            np.fromiter((m_index[k[1]] for k in counts), dtype=small, count=n),
            np.fromiter((v_index[k[2]] for k in counts), dtype=small, count=n),
            np.fromiter(counts.values(), dtype=np.int32, count=n), months, venues, names)


def count_corpus(chunks: Iterable[Chunk], stream: str, workers: int = 2,
                 segmenter: ChineseSegmenter | None = None) -> TermCounts:
    """Count a corpus given as chunks of rows, in `workers` forked processes.

    Chunks are read lazily (a few in flight), so the caller can stream them from a
    file. A term is named, and kept, when some chunk holds it in two or more items.
    """
    totals: Counter[tuple[str, str]] = Counter()  # items per (month, venue)

    def counted(source: Iterable[Chunk]) -> Iterable[Chunk]:
        for chunk in source:
            totals.update((row[0], row[1]) for row in chunk)
            yield chunk

    _SEGMENTER[0] = segmenter
    _SENT_NAMES.clear()  # forked workers start from this empty set
    parts: list[_PartResult] = []
    try:
        if workers > 1:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = _bounded_map(pool, counted(chunks), 2 * workers)
        else:
            for chunk in counted(chunks):
                parts.append(_fold_names(_count_chunk(chunk), parts))
    finally:
        _SEGMENTER[0] = None
        _SENT_NAMES.clear()
    return _merge(parts, totals, stream)


def _bounded_map(pool: Any, chunks: Iterable[Chunk], in_flight: int) -> list[_PartResult]:
    """pool.imap in order, with at most `in_flight` chunks read ahead (imap reads the
    whole input at once, which would hold the corpus's text in memory twice)."""
    pending: deque[Any] = deque()
    out: list[_PartResult] = []
    for chunk in chunks:
        pending.append(pool.apply_async(_count_chunk, (chunk,)))
        if len(pending) >= in_flight:
            out.append(_fold_names(pending.popleft().get(), out))
    while pending:
        out.append(_fold_names(pending.popleft().get(), out))
    return out


def _fold_names(part: _PartResult, done: list[_PartResult]) -> _PartResult:
    """Move a part's names into the first part's dict (one copy of each name)."""
    if not done:
        return part
    done[0][6].update(part[6])
    return (*part[:6], {})


def _merge(parts: list[_PartResult], totals: Counter[tuple[str, str]], stream: str
           ) -> TermCounts:
    """One TermCounts of the workers' parts: named terms only, global indices."""
    names: dict[int, str] = {}
    for part in parts:
        names.update(part[6])
    named = np.fromiter(names, dtype=np.int64, count=len(names))
    named.sort()
    terms = [names[int(k)] for k in named]
    months_seen = {m for m, _ in totals}
    months = month_range(min(months_seen), max(months_seen)) if totals else []
    m_global = {m: i for i, m in enumerate(months)}
    venues = sorted({v for part in parts for v in part[5]} | {v for _, v in totals})
    v_global = {v: i for i, v in enumerate(venues)}
    cols: list[list[np.ndarray]] = [[], [], [], []]
    while parts:
        keys, m_local, v_local, dfs, p_months, p_venues, _ = parts.pop(0)
        if not len(named):
            break
        pos = np.searchsorted(named, keys)
        pos[pos >= len(named)] = 0
        known = named[pos] == keys
        cols[0].append(pos[known].astype(np.int32))
        cols[1].append(np.array([m_global[m] for m in p_months], dtype=np.int32)[m_local[known]])
        cols[2].append(np.array([v_global[v] for v in p_venues], dtype=np.int32)[v_local[known]])
        cols[3].append(dfs[known])
    per_venue = np.zeros((len(venues), len(months)))
    for (month, venue), n in totals.items():
        per_venue[v_global[venue], m_global[month]] += n

    def joined(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int32)

    return TermCounts(stream, terms, months, venues, joined(cols[0]), joined(cols[1]),
                      joined(cols[2]), joined(cols[3]), per_venue.sum(axis=0), per_venue)
