"""Lexical vectors for backtests on whole corpora: LSA, fitted on the corpus itself.

Embedding 300,000 abstracts with the registry's model takes hours on two cores; the
topic backtest on a whole corpus needs vectors in minutes, because a sample leaves too
few items per topic for realised growth to rise above counting noise (docs/evaluation.md,
issue #17). LSA here: TF-IDF (sublinear, words and word pairs; a run of CJK characters
gives its single characters and character pairs, so Chinese needs no segmenter) then a
truncated SVD, rows L2-normalised. Deterministic for a given corpus. An evaluation
device only: the nightly run never sees these vectors, and no field is assigned from them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

#: Dimensions of the SVD, and the vocabulary bounds of the TF-IDF.
COMPONENTS = 128
MIN_DF = 5
MAX_DF = 0.5
MAX_TERMS = 300_000
_TOKENS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\W\d_][\w-]*", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


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


def lsa_vectors(texts: Sequence[str], components: int = COMPONENTS, seed: int = 0
                ) -> np.ndarray:
    """[texts x components] float32 LSA vectors of unit length (fewer components when the
    vocabulary is smaller)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    min_df = MIN_DF if len(texts) >= 20 * MIN_DF else 1
    tfidf = TfidfVectorizer(analyzer=analyse, min_df=min_df, max_df=MAX_DF,
                            sublinear_tf=True, max_features=MAX_TERMS, dtype=np.float32)
    matrix = tfidf.fit_transform(texts)
    k = max(1, min(components, matrix.shape[1] - 1, len(texts) - 1))
    vectors = TruncatedSVD(k, random_state=seed).fit_transform(matrix)
    return normalize(vectors).astype(np.float32)
