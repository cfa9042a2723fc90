"""Assignment features: field and pathway prototypes, top-k similarity, the evidence of
an item against every field and the feature matrix built from it (pure numpy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scanner.taxonomy import Field, Taxonomy

#: Feature names, in column order, of the calibrator's input.
FEATURES = ("cos_top4", "cos_item_centred", "cos_margin", "cos_field_z", "kw_title", "kw_body",
            "kw_any", "kw_lead", "kw_share", "fields_hit", "is_zh", "is_zh_x_cos_margin",
            "is_zh_x_kw_any", "kw_headline", "kw_mentions", "kw_passing", "probe",
            "probe_margin", "centroid_cos", "centroid_margin", "none_probe")

#: The first feature computed from labelled items (`scanner.assign.learned`); the ones
#: before it come from the taxonomy and the item alone.
FIRST_LEARNED = FEATURES.index("probe")

#: A body at least this long in which a field's keywords occur once (or in one line of a
#: brief) and nowhere in the title, lead or sub-headlines names the field only in passing.
PASSING_CHARS = 600



#: Characters of the body that count as its lead (where a story says what it is about).
LEAD_CHARS = 300



#: A field's similarity is the mean of its this many best prototypes: one best match can
#: be a single ambiguous term ("scaffold"), several agreeing ones are not (measured in
#: docs/evaluation.md: 0.81 -> 0.84 macro-F1 against the best prototype alone).
TOP_PROTOTYPES = 4



def field_prototypes(taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """(field id, text) pairs: a bilingual label, each description, the keyword lists,
    and every keyword and alias on its own (so a short item can meet one exact term)."""
    rows: list[tuple[str, str]] = []
    for f in taxonomy.active_fields:
        rows.append((f.id, f"{f.zh} {f.en}"))
        rows.append((f.id, f"{f.en}: {f.description_en}"))
        rows.append((f.id, f"{f.zh}：{f.description_zh}"))
        rows.append((f.id, ", ".join((*f.keywords_en[:12], *f.aliases_en))))
        rows.append((f.id, "、".join((*f.keywords_zh[:12], *f.aliases_zh))))
        terms = (*f.keywords_en, *f.keywords_zh, *f.aliases_en, *f.aliases_zh)
        rows.extend((f.id, term) for term in dict.fromkeys(terms))
    return rows



def pathway_prototypes(f: Field) -> list[tuple[str, str]]:
    """(pathway id, text) pairs for one field's pathways, bilingual."""
    return [(p.id, f"{p.zh} {p.en}: {', '.join((*p.keywords_en, *p.keywords_zh))}")
            for p in f.pathways]



def top_k_similarity(item_vectors: np.ndarray, proto_vectors: np.ndarray,
                     proto_owner: Sequence[str], owners: Sequence[str], k: int = 1
                     ) -> tuple[np.ndarray, np.ndarray]:
    """[items x owners] mean cosine of each owner's k best prototypes (k=1: the best one),
    and [items x owners x k] the indices of those prototypes, best first."""
    sims = item_vectors @ proto_vectors.T
    n = item_vectors.shape[0]
    out = np.full((n, len(owners)), -1.0, dtype=np.float32)
    best = np.full((n, len(owners), k), -1, dtype=np.int64)
    columns: dict[str, list[int]] = {}
    for column, owner in enumerate(proto_owner):
        columns.setdefault(owner, []).append(column)
    for j, owner in enumerate(owners):
        cols = np.array(columns.get(owner, []), dtype=np.int64)
        if not len(cols):
            continue
        kk = min(k, len(cols))
        order = np.argsort(-sims[:, cols], axis=1, kind="stable")[:, :kk]
        out[:, j] = np.take_along_axis(sims[:, cols], order, axis=1).mean(axis=1)
        best[:, j, :kk] = cols[order]
    return out, best



@dataclass
class Evidence:
    """Per-item inputs of the calibrator, kept for explanations."""

    similarity: np.ndarray  # [items x fields]
    title_hits: list[dict[str, list[str]]]
    body_hits: list[dict[str, list[str]]]
    lead_hits: list[dict[str, list[str]]]
    is_zh: np.ndarray  # [items]
    vectors: np.ndarray  # [items x dim], the items' embeddings
    nearest: np.ndarray | None = None  # [items x fields x k] indices of the best prototypes
    headline_hits: list[dict[str, list[str]]] | None = None  # keywords in sub-headlines
    mentions: list[dict[str, tuple[int, int]]] | None = None  # (occurrences, lines) in body
    body_lines: np.ndarray | None = None  # [items] non-empty lines of the body
    body_chars: np.ndarray | None = None  # [items]
    has_content: np.ndarray | None = None  # [items] bool: the minimum-content rule
    texts: list[str] | None = None  # title and body of each item, for lexical learners

    def subset(self, index: Sequence[int]) -> Evidence:
        """The evidence of some items only."""
        return Evidence(self.similarity[index], [self.title_hits[i] for i in index],
                        [self.body_hits[i] for i in index], [self.lead_hits[i] for i in index],
                        self.is_zh[index], self.vectors[index],
                        None if self.nearest is None else self.nearest[index],
                        None if self.headline_hits is None
                        else [self.headline_hits[i] for i in index],
                        None if self.mentions is None else [self.mentions[i] for i in index],
                        *(None if a is None else a[index]
                          for a in (self.body_lines, self.body_chars, self.has_content)),
                        None if self.texts is None else [self.texts[i] for i in index])



def field_statistics(evidence: Evidence) -> tuple[np.ndarray, np.ndarray]:
    """Per language (row 0 English, row 1 Chinese) and field: similarity mean and std."""
    means, stds = [], []
    for flag in (0.0, 1.0):
        rows = evidence.similarity[evidence.is_zh == flag]
        if len(rows) < 5:
            rows = evidence.similarity
        means.append(rows.mean(axis=0))
        stds.append(rows.std(axis=0) + 1e-6)
    return np.array(means), np.array(stds)



def _margin(scores: np.ndarray) -> np.ndarray:
    """[items x fields] each field's score minus the best other field's."""
    if scores.shape[1] < 2:
        return np.zeros_like(scores)
    order = np.sort(scores, axis=1)
    best, second = order[:, -1:], order[:, -2:-1]
    return scores - np.where(scores >= best, second, best)


def build_features(evidence: Evidence, field_ids: Sequence[str], field_mean: np.ndarray,
                   field_std: np.ndarray, learned: np.ndarray | None = None) -> np.ndarray:
    """[items x fields x FEATURES] array; mean/std are [2 languages x fields]; `learned`
    the [items x fields x 3] probe, centroid and no-field scores (zeros when absent)."""
    sim = evidence.similarity
    n, m = sim.shape
    out = np.zeros((n, m, len(FEATURES)), dtype=np.float32)
    language = evidence.is_zh.astype(int)
    out[:, :, 0] = sim
    out[:, :, 1] = sim - sim.mean(axis=1, keepdims=True)
    out[:, :, 2] = _margin(sim)
    out[:, :, 3] = (sim - field_mean[language]) / field_std[language]
    for i in range(n):
        fields_hit = set(evidence.title_hits[i]) | set(evidence.body_hits[i])
        total = sum(len(evidence.title_hits[i].get(f, ())) + len(evidence.body_hits[i].get(f, ()))
                    for f in fields_hit)
        for j, fid in enumerate(field_ids):
            title = len(evidence.title_hits[i].get(fid, ()))
            body = len(evidence.body_hits[i].get(fid, ()))
            out[i, j, 4] = np.log1p(title)
            out[i, j, 5] = np.log1p(body)
            out[i, j, 6] = float(title + body > 0)
            out[i, j, 7] = float(title + len(evidence.lead_hits[i].get(fid, ())) > 0)
            out[i, j, 8] = (title + body) / total if total else 0.0
        out[i, :, 9] = np.log1p(len(fields_hit))
    out[:, :, 10] = evidence.is_zh[:, None]
    out[:, :, 11] = out[:, :, 10] * out[:, :, 2]
    out[:, :, 12] = out[:, :, 10] * out[:, :, 6]
    if evidence.headline_hits is not None:
        for i, hits in enumerate(evidence.headline_hits):
            for j, fid in enumerate(field_ids):
                out[i, j, 13] = float(fid in hits)
    if evidence.mentions is not None:
        _passing_features(evidence, field_ids, out)
    if learned is not None:
        out[:, :, FIRST_LEARNED] = learned[:, :, 0]
        out[:, :, FIRST_LEARNED + 1] = _margin(learned[:, :, 0])
        out[:, :, FIRST_LEARNED + 2] = learned[:, :, 1]
        out[:, :, FIRST_LEARNED + 3] = _margin(learned[:, :, 1])
        out[:, :, FIRST_LEARNED + 4] = learned[:, :, 2]
    return out


def _passing_features(evidence: Evidence, field_ids: Sequence[str], out: np.ndarray) -> None:
    """kw_mentions (log of body occurrences) and kw_passing (a long body naming the field
    once, or in one line of a brief, and never in its title, lead or sub-headlines)."""
    assert evidence.mentions is not None
    column = {fid: j for j, fid in enumerate(field_ids)}
    mentions_at, passing_at = FEATURES.index("kw_mentions"), FEATURES.index("kw_passing")
    for i, found in enumerate(evidence.mentions):
        chars = evidence.body_chars[i] if evidence.body_chars is not None else 0
        lines = evidence.body_lines[i] if evidence.body_lines is not None else 1
        for fid, (count, in_lines) in found.items():
            j = column.get(fid)
            if j is None:
                continue
            out[i, j, mentions_at] = np.log1p(count)
            named = (fid in evidence.title_hits[i] or fid in evidence.lead_hits[i]
                     or bool(evidence.headline_hits and fid in evidence.headline_hits[i]))
            once = count <= 1 or (lines >= 3 and in_lines <= 1)
            out[i, j, passing_at] = float(not named and once and chars >= PASSING_CHARS)
