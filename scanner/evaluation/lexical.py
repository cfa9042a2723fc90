"""Lexical vectors for backtests on whole corpora: LSA, fitted on each cut-off's past.

Embedding 300,000 abstracts with the registry's model takes hours on two cores; the
topic backtest on a whole corpus needs vectors in minutes, because a sample leaves too
few items per topic for realised growth to rise above counting noise (docs/evaluation.md,
issue #17). LSA here: TF-IDF (sublinear, words and word pairs; a run of CJK characters
gives its single characters and character pairs, so Chinese needs no segmenter) then a
truncated SVD, rows L2-normalised, fitted on each cut-off's past only (`at_cutoff`).
Deterministic for a given corpus. An evaluation device only: the nightly run never sees
these vectors, and no field is assigned from them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Dimensions of the SVD, and the vocabulary bounds of the TF-IDF.
COMPONENTS = 128
MIN_DF = 5
MAX_DF = 0.5
MAX_TERMS = 300_000
_CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: A CJK run, or a word that starts with a letter and holds no CJK character ("AI芯片"
#: is "ai" and a CJK run, not one token).
_TOKENS = re.compile(rf"[{_CJK_RANGES}]+|[^\W\d_{_CJK_RANGES}][^\W{_CJK_RANGES}]*"
                     rf"(?:-[^\W{_CJK_RANGES}]+)*")
_CJK = re.compile(rf"[{_CJK_RANGES}]")


def analyse(text: str) -> list[str]:
    """Terms of a text: lower-cased words and adjacent word pairs; in a CJK run, each
    character and each pair of adjacent characters."""
    terms: list[str] = []
    words: list[str] = []
    for match in _TOKENS.finditer(text.lower()):
        token = match.group()
        if _CJK.match(token):
            terms += list(token) + [token[i:i + 2] for i in range(len(token) - 1)]
            words = []
            continue
        if len(token) > 1:
            terms.append(token)
            if words:
                terms.append(f"{words[-1]} {token}")
            words.append(token)
    return terms


def lsa_vectors(texts: Sequence[str], components: int = COMPONENTS, seed: int = 0,
                fit_rows: np.ndarray | None = None) -> np.ndarray:
    """[texts x components] float32 LSA vectors, L2-normalised (a text with no kept term
    stays all zeros; fewer components when the vocabulary is smaller). `fit_rows`: the
    vocabulary, weights and SVD are fitted on those texts only (the items before a
    backtest's cut-off) and applied to all, so the space knows nothing of the future."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    fit = list(texts) if fit_rows is None else [texts[i] for i in np.flatnonzero(fit_rows)]
    if len(fit) < 2:
        raise ValueError(f"LSA needs at least 2 texts to fit on, got {len(fit)}")
    min_df = MIN_DF if len(fit) >= 20 * MIN_DF else 1
    tfidf = TfidfVectorizer(analyzer=analyse, min_df=min_df, max_df=MAX_DF,
                            sublinear_tf=True, max_features=MAX_TERMS, dtype=np.float32)
    fitted = tfidf.fit_transform(fit)
    k = max(1, min(components, fitted.shape[1] - 1, len(fit) - 1))
    svd = TruncatedSVD(k, random_state=seed).fit(fitted)
    matrix = fitted if fit_rows is None else tfidf.transform(texts)
    return normalize(svd.transform(matrix)).astype(np.float32)


def at_cutoff(corpus: Any, cutoff: str, components: int = COMPONENTS) -> Any:
    """The corpus with LSA vectors fitted on its items before `cutoff` (needs the
    corpus's texts: load_corpus(..., vectors="lsa") keeps them)."""
    from dataclasses import replace

    if corpus.texts is None:
        raise ValueError("the corpus holds no texts: load it with vectors='lsa'")
    return replace(corpus, vectors=lsa_vectors(corpus.texts, components,
                                               fit_rows=corpus.dates < cutoff))
