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


def _corpus() -> Corpus:
    """2012-01 .. 2017-12, 12 topics of 16 items a month on the map; from 2014-01 a rising
    share of topic 0's items say "quantum sprocket"; from 2016-01 (after the cut-off
    below) topic 5's say "future gizmo" in every item."""
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(12, 16))
    vectors, dates, titles, summaries, venues = [], [], [], [], []
    for month in range(72):
        day = f"{2012 + month // 12}-{month % 12 + 1:02d}-10"
        for c in range(12):
            for j in range(16):
                v = centres[c] + 0.15 * rng.normal(size=16)
                vectors.append(v / np.linalg.norm(v))
                dates.append(day)
                words = " ".join(f"w{rng.integers(300)}" for _ in range(4))
                if c == 0 and j < max(0, (month - 24) // 3):
                    words += ". quantum sprocket"
                if c == 5 and month >= 48:
                    words += ". future gizmo"
                titles.append(f"item {month} {c} {j}")
                summaries.append(words)
                venues.append(f"cat{rng.integers(5)}")
    return Corpus(np.array(vectors, dtype=np.float32), np.array(dates), venues,
                  titles=titles, summaries=summaries)


def test_marks_follow_the_terms_ranked_before_the_cut_off() -> None:
    corpus = _corpus()
    marker = TermMarker(corpus, SETTINGS, workers=1)
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
    corpus = _corpus()
    topics = TopicSettings(n_clusters=12, n_components=10, min_topic_size=5)
    marker = TermMarker(corpus, SETTINGS, workers=1)
    result = backtest_cutoff(corpus, "2016-01-01", 730, 6, 8, topics, SignalSettings(),
                             terms=marker)
    assert result["terms_ranked"]["paper"] > 0
    plain = backtest_cutoff(corpus, "2016-01-01", 730, 6, 8, topics, SignalSettings())
    assert plain["terms_ranked"] is None
