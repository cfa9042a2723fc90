"""The scorer: an item's evidence against every field (prototype similarity, keywords,
pathways) from its title, text and vector; no store."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from scanner.assign.calibrator import Calibrator
from scanner.assign.content import has_minimum_content
from scanner.assign.features import (
    LEAD_CHARS,
    TOP_PROTOTYPES,
    Evidence,
    field_prototypes,
    pathway_prototypes,
    top_k_similarity,
)
from scanner.assign.matcher import (
    _CJK,
    KeywordMatcher,
    _english_pattern,
    _fold,
    sub_headlines,
)
from scanner.taxonomy import Taxonomy


@dataclass
class Scorer:
    """Scores items against a taxonomy with an embedder's vectors."""

    taxonomy: Taxonomy
    embedder: Any

    @cached_property
    def field_ids(self) -> list[str]:
        return [f.id for f in self.taxonomy.active_fields]

    @cached_property
    def matcher(self) -> KeywordMatcher:
        return KeywordMatcher(self.taxonomy)

    @cached_property
    def _prototypes(self) -> tuple[list[str], list[str], np.ndarray]:
        """Owners (field ids), texts and vectors of the field prototypes."""
        rows = field_prototypes(self.taxonomy)
        texts = [text for _, text in rows]
        return [owner for owner, _ in rows], texts, self.embedder.embed(texts, role="query")

    def nearest_prototypes(self, evidence: Evidence, item: int, field_index: int,
                           limit: int = 2) -> list[str]:
        """The texts of the prototypes an item's similarity to a field came from, best first
        (each cut to 80 characters), for the stored evidence."""
        if evidence.nearest is None:
            return []
        texts = self._prototypes[1]
        return [texts[k][:80] for k in evidence.nearest[item, field_index, :limit] if k >= 0]

    @cached_property
    def _pathway_prototypes(self) -> dict[str, tuple[list[str], np.ndarray]]:
        out = {}
        for f in self.taxonomy.active_fields:
            rows = pathway_prototypes(f)
            out[f.id] = ([p for p, _ in rows],
                         self.embedder.embed([t for _, t in rows], role="query"))
        return out

    @cached_property
    def _pathway_keywords(self) -> dict[str, tuple[dict[str, list[re.Pattern[str]]],
                                                   dict[str, list[str]]]]:
        """Compiled English patterns and Chinese words of every pathway, per field."""
        return {
            f.id: ({p.id: [_english_pattern(k) for k in p.keywords_en] for p in f.pathways},
                   {p.id: list(p.keywords_zh) for p in f.pathways})
            for f in self.taxonomy.active_fields
        }

    def evidence(self, titles: Sequence[str], bodies: Sequence[str],
                 vectors: np.ndarray) -> Evidence:
        """Similarity and keyword evidence for items given their stored vectors."""
        owners, _, protos = self._prototypes
        similarity, nearest = top_k_similarity(vectors, protos, owners, self.field_ids,
                                               TOP_PROTOTYPES)
        body_hits = [self.matcher.hits(b) for b in bodies]
        return Evidence(
            similarity=similarity,
            title_hits=[self.matcher.hits(t) for t in titles],
            body_hits=body_hits,
            lead_hits=[self.matcher.hits(b[:LEAD_CHARS]) if hits else {}
                       for b, hits in zip(bodies, body_hits, strict=True)],
            headline_hits=[self.matcher.hits("\n".join(sub_headlines(b))) if hits else {}
                           for b, hits in zip(bodies, body_hits, strict=True)],
            is_zh=np.array([bool(_CJK.search(f"{t} {b}"[:400])) for t, b in
                            zip(titles, bodies, strict=True)], dtype=np.float32),
            vectors=np.asarray(vectors, dtype=np.float32),
            nearest=nearest,
            mentions=[mentions(b, hits) for b, hits in zip(bodies, body_hits, strict=True)],
            body_lines=np.array([sum(1 for line in b.splitlines() if line.strip())
                                 for b in bodies], dtype=np.int32),
            body_chars=np.array([len(b) for b in bodies], dtype=np.int32),
            has_content=np.array([has_minimum_content(t, b) for t, b in
                                  zip(titles, bodies, strict=True)], dtype=bool),
            texts=[f"{t}\n{b}" for t, b in zip(titles, bodies, strict=True)],
        )

    def pathway_scores(self, field_id: str, vectors: np.ndarray, texts: Sequence[str]
                       ) -> list[dict[str, float]]:
        """Per item, a score for every pathway of one field (similarity + keyword bonus)."""
        ids, protos = self._pathway_prototypes[field_id]
        sims = vectors @ protos.T
        patterns, zh_words = self._pathway_keywords[field_id]
        out = []
        for i, text in enumerate(texts):
            row = {}
            for j, pid in enumerate(ids):
                bonus = any(p.search(text) for p in patterns[pid]) or any(
                    w in text for w in zh_words[pid] if _CJK.search(w))
                row[pid] = round(float(sims[i, j]) + (0.05 if bonus else 0.0), 4)
            out.append(row)
        return out



def mentions(body: str, hits: dict[str, list[str]]) -> dict[str, tuple[int, int]]:
    """Per field with body keywords: how often they occur in the body and in how many of
    its lines (at least 1 each: a regex variant such as a plural may not occur verbatim)."""
    if not hits:
        return {}
    lines = [_fold(line) for line in body.splitlines() if line.strip()]
    out = {}
    for fid, words in hits.items():
        folded = [_fold(w) for w in words]
        count = sum(line.count(w) for line in lines for w in folded)
        in_lines = sum(1 for line in lines if any(w in line for w in folded))
        out[fid] = (max(count, 1), max(in_lines, 1))
    return out


def assign_fields(scorer: Scorer, calibrator: Calibrator, titles: Sequence[str],
                  bodies: Sequence[str], vectors: np.ndarray, chunk: int = 5000
                  ) -> tuple[list[str], np.ndarray]:
    """(field ids, [items x fields] bool): the fields a calibrator assigns to texts whose
    vectors are given, chunk by chunk (nothing stored; the backtest's corpus)."""
    out = np.zeros((len(titles), len(scorer.field_ids)), dtype=bool)
    for start in range(0, len(titles), chunk):
        end = start + chunk
        evidence = scorer.evidence(titles[start:end], bodies[start:end], vectors[start:end])
        out[start:end] = calibrator.predict_proba(evidence) >= calibrator.threshold
    return list(scorer.field_ids), out
