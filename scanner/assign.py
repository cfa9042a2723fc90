"""Field and pathway assignment: every item scored against every field, multi-label.

Two kinds of evidence are combined:

- embedding similarity between the item and field prototypes written from the
  taxonomy in both languages (names, descriptions, keywords), and
- exact keyword evidence: English on word boundaries (acronyms case-sensitive),
  Chinese on jieba word segmentation with the taxonomy's words added, after the
  field's exclusion phrases are taken out ("feature fusion" is not fusion).

A calibrator (one logistic regression shared by all fields, on field-normalised
features) turns them into probabilities, so one threshold means the same for every
field. Expert verdicts train per-field classifiers on the embeddings once a field has
enough of them (see `VerdictModels`); below that the zero-shot score stands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from scanner.taxonomy import Field, Taxonomy

#: Feature names, in column order, of the calibrator's input.
FEATURES = ("cos_top4", "cos_item_centred", "cos_margin", "cos_field_z", "kw_title", "kw_body",
            "kw_any", "kw_lead", "kw_share", "fields_hit", "is_zh", "is_zh_x_cos_margin",
            "is_zh_x_kw_any", "kw_headline")
#: Characters of the body that count as its lead (where a story says what it is about).
LEAD_CHARS = 300
#: A body line this short, in a body of three lines or more, is a sub-headline: news
#: briefs (国内联播快讯) are a headline per sub-story, each followed by its paragraph.
HEADLINE_CHARS = 40
#: A field's similarity is the mean of its this many best prototypes: one best match can
#: be a single ambiguous term ("scaffold"), several agreeing ones are not (measured in
#: docs/evaluation.md: 0.81 -> 0.84 macro-F1 against the best prototype alone).
TOP_PROTOTYPES = 4
_CJK = re.compile(r"[\u3400-\u9fff]")


# -- keyword evidence --------------------------------------------------------------------


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


# -- prototypes and similarity ---------------------------------------------------------------


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


# -- features and calibration -------------------------------------------------------------------


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

    def subset(self, index: Sequence[int]) -> Evidence:
        """The evidence of some items only."""
        return Evidence(self.similarity[index], [self.title_hits[i] for i in index],
                        [self.body_hits[i] for i in index], [self.lead_hits[i] for i in index],
                        self.is_zh[index], self.vectors[index],
                        None if self.nearest is None else self.nearest[index],
                        None if self.headline_hits is None
                        else [self.headline_hits[i] for i in index])


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


def build_features(evidence: Evidence, field_ids: Sequence[str], field_mean: np.ndarray,
                   field_std: np.ndarray) -> np.ndarray:
    """[items x fields x FEATURES] array; mean/std are [2 languages x fields]."""
    sim = evidence.similarity
    n, m = sim.shape
    out = np.zeros((n, m, len(FEATURES)), dtype=np.float32)
    language = evidence.is_zh.astype(int)
    out[:, :, 0] = sim
    out[:, :, 1] = sim - sim.mean(axis=1, keepdims=True)
    for j in range(m):
        others = np.delete(sim, j, axis=1).max(axis=1) if m > 1 else np.zeros(n)
        out[:, j, 2] = sim[:, j] - others
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
    return out


@dataclass
class Calibrator:
    """One logistic regression over all (item, field) pairs; learned state ends in `_`."""

    C: float = 1.0
    threshold: float = 0.35
    coef_: np.ndarray | None = None
    intercept_: float = 0.0
    field_mean_: np.ndarray | None = None
    field_std_: np.ndarray | None = None
    field_ids_: list[str] = field(default_factory=list)
    taxonomy_version_: str = ""
    model_: str = ""

    def fit(self, evidence: Evidence, labels: np.ndarray, field_ids: Sequence[str]) -> Calibrator:
        """Learn feature weights from labelled items (labels: [items x fields] of 0/1)."""
        from sklearn.linear_model import LogisticRegression

        self.field_ids_ = list(field_ids)
        self.field_mean_, self.field_std_ = field_statistics(evidence)
        x = build_features(evidence, field_ids, self.field_mean_, self.field_std_)
        model = LogisticRegression(C=self.C, max_iter=3000)
        model.fit(x.reshape(-1, x.shape[2]), labels.reshape(-1))
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        return self

    def predict_proba(self, evidence: Evidence) -> np.ndarray:
        """[items x fields] probabilities."""
        if self.coef_ is None or self.field_mean_ is None or self.field_std_ is None:
            raise ValueError("the calibrator is not fitted")
        x = build_features(evidence, self.field_ids_, self.field_mean_, self.field_std_)
        logits = x @ self.coef_ + self.intercept_
        return 1.0 / (1.0 + np.exp(-logits))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able parameters (the trained artifact's content)."""
        return {
            "features": list(FEATURES), "C": self.C, "threshold": self.threshold,
            "coef": [round(float(c), 6) for c in (self.coef_ if self.coef_ is not None else [])],
            "intercept": round(self.intercept_, 6),
            "field_ids": self.field_ids_,
            "field_mean": np.round(self.field_mean_, 6).tolist()
            if self.field_mean_ is not None else [],
            "field_std": np.round(self.field_std_, 6).tolist()
            if self.field_std_ is not None else [],
            "taxonomy_version": self.taxonomy_version_, "model": self.model_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Rebuild from to_dict output."""
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError("calibrator features differ from this version's; retrain it")
        return cls(C=data["C"], threshold=data["threshold"], coef_=np.array(data["coef"]),
                   intercept_=data["intercept"], field_mean_=np.array(data["field_mean"]),
                   field_std_=np.array(data["field_std"]), field_ids_=list(data["field_ids"]),
                   taxonomy_version_=data["taxonomy_version"], model_=data["model"])

    def save(self, path: Path) -> None:
        """Write the parameters as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        """Read parameters written by save()."""
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


# -- putting it together --------------------------------------------------------------------------


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


# -- expert verdicts ---------------------------------------------------------------------------

#: Verdicts of each kind (relevant and not) a field needs before its classifier is trained.
MIN_VERDICTS_EACH = 10


@dataclass
class VerdictModels:
    """Per-field classifiers on the embeddings, trained from the panel's verdicts."""

    min_each: int = MIN_VERDICTS_EACH
    models_: dict[str, Any] = field(default_factory=dict)
    counts_: dict[str, tuple[int, int]] = field(default_factory=dict)

    def fit(self, verdicts: Sequence[dict[str, Any]], vectors: dict[str, np.ndarray]
            ) -> VerdictModels:
        """Train one logistic regression per field with enough verdicts of each kind."""
        from sklearn.linear_model import LogisticRegression

        by_field: dict[str, list[tuple[np.ndarray, int]]] = {}
        for verdict in verdicts:
            vector = vectors.get(verdict["item_id"])
            if vector is not None:
                by_field.setdefault(verdict["field_id"], []).append(
                    (vector, int(verdict["verdict"])))
        for field_id, pairs in by_field.items():
            labels = np.array([y for _, y in pairs])
            self.counts_[field_id] = (int(labels.sum()), int((1 - labels).sum()))
            if min(self.counts_[field_id]) < self.min_each:
                continue
            x = np.stack([v for v, _ in pairs])
            self.models_[field_id] = LogisticRegression(C=1.0, max_iter=2000).fit(x, labels)
        return self

    def adjust(self, probabilities: np.ndarray, vectors: np.ndarray,
               field_ids: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """Average the zero-shot probability with the field's classifier where one exists."""
        out = probabilities.copy()
        trained = [f for f in field_ids if f in self.models_]
        for field_id in trained:
            j = list(field_ids).index(field_id)
            out[:, j] = 0.5 * out[:, j] + 0.5 * self.models_[field_id].predict_proba(vectors)[:, 1]
        return out, trained


# -- the assign stage --------------------------------------------------------------------------


def calibrator_path(taxonomy_version: str, model_id: str) -> Path:
    """Where the trained calibrator of a taxonomy version and model lives."""
    from scanner import PROJECT_ROOT

    return PROJECT_ROOT / "models" / "assign" / f"calibrator-{taxonomy_version}-{model_id}.json"


@dataclass
class AssignResult:
    """What one assign stage did."""

    assigned: int
    with_fields: int
    verdict_fields: list[str]
    seconds: float


def assign_items(store: Any, scorer: Scorer, calibrator: Calibrator, taxonomy_key: str,
                 chunk_size: int = 1000, limit: int | None = None,
                 progress: Any = None) -> AssignResult:
    """Score every embedded item without a current assignment; store scores and evidence."""
    import time

    started = time.monotonic()
    model_id = scorer.embedder.spec.id
    verdicts = store.latest_verdicts()
    verdict_models = VerdictModels()
    if verdicts:
        ids, matrix = store.item_embeddings(model_id, [v["item_id"] for v in verdicts])
        verdict_models.fit(verdicts, dict(zip(ids, matrix, strict=True)))
    todo = store.count_items_needing_assignment(taxonomy_key, model_id)
    todo = min(todo, limit) if limit is not None else todo
    done = with_fields = 0
    field_ids = scorer.field_ids
    while done < todo:
        batch = store.items_needing_assignment(taxonomy_key, model_id,
                                               min(chunk_size, todo - done))
        if not batch:
            break
        ids, matrix = store.item_embeddings(model_id, [b["id"] for b in batch])
        by_id = dict(zip(ids, matrix, strict=True))
        vectors = np.stack([by_id[b["id"]] for b in batch])
        evidence = scorer.evidence([b["title"] or "" for b in batch],
                                   [b["summary"] or "" for b in batch], vectors)
        probabilities, trained = verdict_models.adjust(
            calibrator.predict_proba(evidence), vectors, field_ids)
        rows = []
        for i, item in enumerate(batch):
            chosen = [f for j, f in enumerate(field_ids)
                      if probabilities[i, j] >= calibrator.threshold]
            texts = [f"{item['title']} {item['summary']}"]
            pathways = {f: scorer.pathway_scores(f, vectors[i:i + 1], texts)[0] for f in chosen}
            rows.append({
                "item_id": item["id"], "taxonomy": taxonomy_key, "model": model_id,
                "content_hash": item["content_hash"],
                "scores": {f: round(float(probabilities[i, j]), 4)
                           for j, f in enumerate(field_ids)},
                "fields": chosen,
                "evidence": {f: {"similarity": round(float(evidence.similarity[i, j]), 4),
                                 "prototypes": scorer.nearest_prototypes(evidence, i, j),
                                 "keywords_title": evidence.title_hits[i].get(f, []),
                                 "keywords_headline": (evidence.headline_hits[i].get(f, [])
                                                       if evidence.headline_hits else []),
                                 "keywords_body": evidence.body_hits[i].get(f, [])}
                             for j, f in enumerate(field_ids)
                             if f in chosen or f in evidence.title_hits[i]
                             or f in evidence.body_hits[i]},
                "pathways": pathways,
                "method": "zero-shot+verdicts" if set(trained) & set(chosen) else "zero-shot",
            })
            with_fields += bool(chosen)
        store.save_assignments(rows)
        done += len(batch)
        if progress:
            progress(done, todo)
    return AssignResult(assigned=done, with_fields=with_fields,
                        verdict_fields=sorted(verdict_models.models_),
                        seconds=round(time.monotonic() - started, 3))
