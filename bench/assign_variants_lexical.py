"""Lexical learners for bench/assign_ablation.py: per-field linear models on TF-IDF n-grams
of the item's own text (English words, Chinese characters), learned from the labels."""

from __future__ import annotations

import numpy as np
from assign_variants import Global, Learned


def _vectorizer(kind: str):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2,
                            sublinear_tf=True, max_features=60000, lowercase=True)
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                            token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b", lowercase=True)
    if kind == "chars":
        return chars
    if kind == "words":
        return words
    return FeatureUnion([("c", chars), ("w", words)])


def lexical_probes(alpha: float = 1.0, kind: str = "both", margin: bool = True):
    """Ridge regressions (targets +-1, one per field and one for no field) on TF-IDF of the
    item's text: their output, the margin over the best other field's, the no-field output."""
    def learner(ev, labels):
        from sklearn.linear_model import Ridge

        from scanner.assign.features import _margin

        vec = _vectorizer(kind)
        x = vec.fit_transform(ev.texts)
        none = labels.sum(axis=1, keepdims=True) == 0
        y = 2.0 * np.hstack([labels, none]).astype(float) - 1.0
        model = Ridge(alpha=alpha).fit(x, y)

        def score(e):
            z = model.predict(vec.transform(e.texts))
            f, no = z[:, :-1], z[:, -1:]
            cols = [f, _margin(f)] if margin else [f]
            return np.stack([*cols, np.broadcast_to(no, f.shape)], axis=2).astype(np.float32)
        return score
    return learner


def _dual_ridge(x, y, alpha):
    """Kernel (dual) ridge on sparse rows: returns predict(x_new); intercept = mean of y."""
    mean = y.mean(axis=0)
    k = (x @ x.T).toarray()
    a = np.linalg.solve(k + alpha * np.eye(k.shape[0]), y - mean)
    return lambda xn: np.asarray((xn @ x.T) @ a) + mean


def split_probes(alpha: float = 1.0, kind: str = "both", langs=("en", "zh")):
    """A lexical ridge per language (items of that language only); each item's outputs go
    into its language's columns (probe, margin, no-field), the other language's are zero."""
    def learner(ev, labels):
        from scanner.assign.features import _margin

        models = {}
        for lang in langs:
            mask = (ev.is_zh == (1.0 if lang == "zh" else 0.0))
            if mask.sum() < 20:
                continue
            vec = _vectorizer(kind)
            texts = [t for t, m in zip(ev.texts, mask, strict=True) if m]
            x = vec.fit_transform(texts)
            lab = labels[mask]
            none = lab.sum(axis=1, keepdims=True) == 0
            y = 2.0 * np.hstack([lab, none]).astype(float) - 1.0
            models[lang] = (vec, _dual_ridge(x, y, alpha))

        def score(e):
            n, m = len(e.texts), labels.shape[1]
            out = np.zeros((n, m, 6), dtype=np.float32)
            for slot, lang in enumerate(("en", "zh")):
                if lang not in models:
                    continue
                mask = (e.is_zh == (1.0 if lang == "zh" else 0.0))
                if not mask.any():
                    continue
                vec, predict = models[lang]
                z = predict(vec.transform([t for t, k in zip(e.texts, mask, strict=True) if k]))
                f, no = z[:, :-1], z[:, -1:]
                out[mask, :, 3 * slot] = f
                out[mask, :, 3 * slot + 1] = _margin(f)
                out[mask, :, 3 * slot + 2] = np.broadcast_to(no, f.shape)
            return out
        return score
    return learner


def with_split(**kw):
    def fit(evidence, labels, field_ids):
        return Learned(split_probes(**kw), C=0.3).fit(evidence, labels, field_ids)
    return fit


def with_lexical(**kw):
    def fit(evidence, labels, field_ids):
        return Learned(lexical_probes(**kw), C=0.3).fit(evidence, labels, field_ids)
    return fit


LEXICAL = {
    "lex_split": (with_split(), Global()),
    "lex_en": (with_split(langs=("en",)), Global()),
    "lex_split_a0.3": (with_split(alpha=0.3), Global()),
    "lex_split_a3": (with_split(alpha=3.0), Global()),
    "lex": (with_lexical(), Global()),
    "lex_a0.3": (with_lexical(alpha=0.3), Global()),
    "lex_a3": (with_lexical(alpha=3.0), Global()),
    "lex_chars": (with_lexical(kind="chars"), Global()),
    "lex_words": (with_lexical(kind="words"), Global()),
}
