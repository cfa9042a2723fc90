"""The assign stage's store loop: score items that need it, apply the panel's verdict
models, store assignments; plus the per-field verdict classifiers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scanner.assign.calibrator import Calibrator
from scanner.assign.scorer import Scorer

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



@dataclass
class AssignResult:
    """What one assign stage did."""

    assigned: int
    with_fields: int
    verdict_fields: list[str]
    seconds: float
    recalibrated: int = 0  # of those, assignments another calibrator had made



def assign_items(store: Any, scorer: Scorer, calibrator: Calibrator, taxonomy_key: str,
                 chunk_size: int = 1000, limit: int | None = None,
                 progress: Any = None, digest: str | None = None) -> AssignResult:
    """Score every embedded item without a current assignment; store scores and evidence.
    An item without the minimum content (scanner.assign.content) is stored with no field
    and method "minimum-content", whatever the verdict models say. `digest`: the
    calibrator's digest when the caller has computed it (else computed here)."""
    import time

    started = time.monotonic()
    # what the vectors are stored under: MODEL, or MODEL+int8 (scanner.embed.key_of)
    model_id = str(getattr(scorer.embedder, "key", "") or scorer.embedder.spec.id)
    verdicts = store.latest_verdicts()
    verdict_models = VerdictModels()
    if verdicts:
        ids, matrix = store.item_embeddings(model_id, [v["item_id"] for v in verdicts])
        verdict_models.fit(verdicts, dict(zip(ids, matrix, strict=True)))
    digest = digest or calibrator.digest()
    recalibrated = store.assignments_by_other_calibrators(taxonomy_key, model_id, digest)
    todo = store.count_items_needing_assignment(taxonomy_key, model_id, digest)
    todo = min(todo, limit) if limit is not None else todo
    done = with_fields = 0
    field_ids = scorer.field_ids
    while done < todo:
        batch = store.items_needing_assignment(taxonomy_key, model_id,
                                               min(chunk_size, todo - done), digest)
        if not batch:
            break
        ids, matrix = store.item_embeddings(model_id, [b["id"] for b in batch])
        by_id = dict(zip(ids, matrix, strict=True))
        vectors = np.stack([by_id[b["id"]] for b in batch])
        evidence = scorer.evidence([b["title"] or "" for b in batch],
                                   [b["summary"] or "" for b in batch], vectors)
        probabilities, trained = verdict_models.adjust(
            calibrator.predict_proba(evidence), vectors, field_ids)
        judged = (evidence.has_content if evidence.has_content is not None
                  else np.ones(len(batch), dtype=bool))
        probabilities[~judged] = 0.0  # the minimum-content rule: too little to judge
        rows = []
        for i, item in enumerate(batch):
            chosen = [f for j, f in enumerate(field_ids)
                      if probabilities[i, j] >= calibrator.threshold]
            texts = [f"{item['title']} {item['summary']}"]
            pathways = {f: scorer.pathway_scores(f, vectors[i:i + 1], texts)[0] for f in chosen}
            rows.append({
                "item_id": item["id"], "taxonomy": taxonomy_key, "model": model_id,
                "content_hash": item["content_hash"], "calibrator": digest,
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
                "method": ("minimum-content" if not judged[i] else "zero-shot+verdicts"
                           if set(trained) & set(chosen) else "zero-shot"),
            })
            with_fields += bool(chosen)
        store.save_assignments(rows)
        done += len(batch)
        if progress:
            progress(done, todo)
    return AssignResult(assigned=done, with_fields=with_fields,
                        verdict_fields=sorted(verdict_models.models_),
                        seconds=round(time.monotonic() - started, 3),
                        recalibrated=min(recalibrated, done))
