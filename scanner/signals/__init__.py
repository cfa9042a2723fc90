"""Signals: indicators per entity (field, pathway, topic) and the ranked lists.

`indicators` and `ranking` are pure; `service` reads the store and writes the lists.
"""

from scanner.signals.ranking import (
    LISTS,
    Entity,
    fold_period,
    period_sequence,
    rank_entities,
    topic_novelty,
    weighted_novelty,
)
from scanner.signals.service import compute_signals

__all__ = ["LISTS", "Entity", "compute_signals", "fold_period", "period_sequence",
           "rank_entities", "topic_novelty", "weighted_novelty"]
