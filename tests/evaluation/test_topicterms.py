"""Emerging-term marks for the topic backtest: ranked from the months before the cut-off."""

from __future__ import annotations

import numpy as np

from scanner.config import SignalSettings, TermSettings, TopicSettings
from scanner.evaluation.backtest import backtest_cutoff
from scanner.evaluation.corpus import Corpus
from scanner.evaluation.topicterms import (
    CARRIES,
    NOT_JUDGED,
    PLAIN,
    TermMarker,
    emerging_at,
    term_items,
)

SETTINGS = TermSettings(min_active_df=4)


def _corpus(grows_after: int | None = None, venues_before: int = 5,
            venues_after: int = 5) -> Corpus:
    """2012-01 .. 2017-12, 12 topics of 16 items a month on the map; from 2014-01 a rising
    share of topic 0's items say "quantum sprocket"; from 2016-01 (after the cut-off
    below) topic 5's say "future gizmo" in every item, and topic `grows_after` (if
    any) has three times its items."""
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(12, 16))
    vectors, dates, titles, summaries, venues = [], [], [], [], []
    for month in range(72):
        day = f"{2012 + month // 12}-{month % 12 + 1:02d}-10"
        for c in range(12):
            for j in range(48 if c == grows_after and month >= 48 else 16):
                v = centres[c] + 0.15 * rng.normal(size=16)
                vectors.append(v / np.linalg.norm(v))
                dates.append(day)
                words = " ".join(f"w{rng.integers(300)}" for _ in range(4))
                if c == 0 and j < max(0, (month - 24) // 3) and j < 16:
                    words += ". quantum sprocket"
                if c == 5 and month >= 48:
                    words += ". future gizmo"
                titles.append(f"item {month} {c} {j}")
                summaries.append(words)
                venues.append(f"cat{rng.integers(venues_after if month >= 48 else venues_before)}")
    return Corpus(np.array(vectors, dtype=np.float32), np.array(dates), venues,
                  titles=titles, summaries=summaries)


def test_marks_follow_the_terms_ranked_before_the_cut_off() -> None:
    corpus = _corpus()
    marker = TermMarker.of_corpus(corpus, SETTINGS, workers=1)
    ranked = emerging_at(marker.counts, "2016-01-01", SETTINGS)
    assert "quantum sprocket" in ranked["paper"]
    assert "future gizmo" not in ranked["paper"]  # only after the cut-off: never seen
    past = np.flatnonzero(corpus.dates < "2016-01-01")
    marks = marker.marks(corpus, "2016-01-01", past)
    sprocket = np.array(["quantum sprocket" in s for s in corpus.summaries])
    assert (marks[past][sprocket[past]] == CARRIES).all()
    assert (marks[np.flatnonzero(corpus.dates >= "2016-01-01")] == NOT_JUDGED).all()
    assert (marks[past] != NOT_JUDGED).all()
    assert (marks[past][~sprocket[past]] == CARRIES).sum() <= 0.05 * (~sprocket[past]).sum()
    assert term_items(marks, past[:10]) == (int((marks[past[:10]] == CARRIES).sum()), 10)
    assert term_items(None, past) is None
    assert PLAIN in set(marks[past].tolist())


def test_the_backtest_gives_topics_the_terms_sub_score_when_given_a_marker() -> None:
    # topic 0 carries the rising term and is the one that grows after the cut-off; a
    # ranking by the terms sub-score alone flags it, and only if the marks reach topics
    corpus = _corpus(grows_after=0)
    topics = TopicSettings(n_clusters=12, n_components=10, min_topic_size=5)
    only_terms = SignalSettings(weight_growth=0, weight_coherence=0, weight_impact=0,
                                weight_terms=1)
    marker = TermMarker.of_corpus(corpus, SETTINGS, workers=1)
    result = backtest_cutoff(corpus, "2016-01-01", 730, 6, 8, topics, only_terms,
                             terms=marker)
    assert result["terms_ranked"]["paper"] > 0
    assert result["methods"]["emergence score (ours)"]["threat_top"] == 1.0
    plain = backtest_cutoff(corpus, "2016-01-01", 730, 6, 8, topics, SignalSettings())
    assert plain["terms_ranked"] is None


def test_a_cut_off_s_ranking_is_the_same_without_the_items_after_it() -> None:
    # two venues before the cut-off and five after it: the community test reads the
    # window's venues, not the corpus's
    corpus = _corpus(venues_after=5, venues_before=2)
    past = np.flatnonzero(corpus.dates < "2016-01-01")
    cut = Corpus(corpus.vectors[past], corpus.dates[past], [corpus.venues[i] for i in past],
                 titles=[corpus.titles[i] for i in past],
                 summaries=[corpus.summaries[i] for i in past])
    full = emerging_at(TermMarker.of_corpus(corpus, SETTINGS, workers=1).counts,
                       "2016-01-01", SETTINGS)
    alone = emerging_at(TermMarker.of_corpus(cut, SETTINGS, workers=1).counts,
                        "2016-01-01", SETTINGS)
    assert full == alone and "quantum sprocket" in full["paper"]


def test_a_stream_without_a_ranked_term_is_not_judged() -> None:
    corpus = _corpus()
    n = len(corpus.dates)  # the same items again as news stories without a rising term
    news = Corpus(np.vstack([corpus.vectors, corpus.vectors]),
                  np.concatenate([corpus.dates, corpus.dates]), corpus.venues * 2,
                  kinds=np.array(["paper"] * n + ["news"] * n),
                  titles=corpus.titles * 2,
                  summaries=corpus.summaries + ["plain words only"] * n)
    marker = TermMarker.of_corpus(news, SETTINGS, workers=1)
    past = np.flatnonzero(news.dates < "2016-01-01")
    marks = marker.marks(news, "2016-01-01", past)
    assert set(marker.ranked["2016-01-01"]) == {"paper"}  # news ranks nothing: absent
    assert (marks[past][news.kinds[past] == "news"] == NOT_JUDGED).all()
    assert (marks[past][news.kinds[past] == "paper"] != NOT_JUDGED).all()
    # asked again for fewer rows: the same marks, the rest not judged
    again = marker.marks(news, "2016-01-01", past[:5])
    assert (again[past[:5]] == marks[past[:5]]).all() and (again[past[5:]] == NOT_JUDGED).all()
