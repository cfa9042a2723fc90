"""Labels kept by id only (data/labels/labels.jsonl): the texts are joined at run time from
the shared corpora, exactly as the labellers saw them (bench/label_show.py), and the label
sets are combined and their vectors cached for evaluation."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from scanner.embed import item_text, key_of
from scanner.errors import ConfigError
from scanner.evaluation.assignment import LabelledItems, _display_path

#: Characters of an item's text the model (and the labeller) sees.
MAX_CHARS = 1500

#: Per corpus: its id column and the text column of each language.
CORPORA: dict[str, tuple[str, dict[str, str]]] = {
    "arxiv_2010_2019": ("arxiv_id", {"en": "abstract"}),
    "arxiv_cs_2025_2026": ("id", {"en": "summary_en", "zh": "tldr_zh"}),
    "news_zh_2022_2024": ("url", {"zh": "text"}),
}


def model_title(corpus: str, title: str | None) -> str:
    """The title as labelled: whitespace folded for papers, as stored for news."""
    if corpus.startswith("news"):
        return title or ""
    return re.sub(r"\s+", " ", title or "").strip()


def model_text(lang: str, raw: str | None) -> str:
    """The text as labelled: English abstracts' line breaks folded, first 1,500 chars."""
    raw = raw or ""
    if lang == "en":
        raw = re.sub(r"\s+", " ", raw).strip()
    return raw[:MAX_CHARS]


def read_texts(rows: list[dict[str, Any]], corpus_dir: Path) -> list[tuple[str, str]]:
    """(title, text) of each row, read from the corpora in `corpus_dir`."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    found: dict[tuple[str, str, str], tuple[str, str]] = {}
    for corpus in sorted({str(r.get("corpus")) for r in rows}):
        if corpus not in CORPORA:
            raise ConfigError(f"labels name an unknown corpus '{corpus}' "
                              f"(known: {', '.join(CORPORA)})")
        path = corpus_dir / f"{corpus}.parquet"
        if not path.is_file():
            raise ConfigError(f"corpus {corpus} not found at {path}: id-only labels read "
                              "their texts from ../shared/data/corpus")
        id_col, text_cols = CORPORA[corpus]
        mine = [r for r in rows if r["corpus"] == corpus]
        bad = sorted({r["lang"] for r in mine} - set(text_cols))
        if bad:
            raise ConfigError(f"labels of corpus {corpus} use languages {bad}; it has "
                              f"{sorted(text_cols)}")
        ids = pq.read_table(path, columns=[id_col]).column(id_col)
        wanted = pa.array(sorted({str(r["item_id"]) for r in mine}))
        where = pc.indices_nonzero(pc.is_in(ids, value_set=wanted))
        columns = [id_col, "title", *sorted({text_cols[r["lang"]] for r in mine})]
        first: dict[str, dict[str, Any]] = {}
        for record in pq.read_table(path, columns=columns).take(where).to_pylist():
            first.setdefault(str(record[id_col]), record)  # a repeated id: its first row
        for r in mine:
            record = first.get(str(r["item_id"]))
            if record is None:
                raise ConfigError(f"item {r['item_id']} of the labels is not in {path}")
            found[(corpus, str(r["item_id"]), r["lang"])] = (
                model_title(corpus, record["title"]),
                model_text(r["lang"], record[text_cols[r["lang"]]]))
    return [found[(r["corpus"], str(r["item_id"]), r["lang"])] for r in rows]


def load_id_labels(path: Path, field_ids: list[str], corpus_dir: Path,
                   splits: tuple[str, ...] | None = None) -> LabelledItems:
    """Read an id-only labels JSONL (corpus, item_id, lang, split, fields), keeping the rows
    of the given splits (all by default), with texts from the corpora."""
    try:
        raw = path.read_bytes()
        rows = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"labels file {path} cannot be read: {exc}") from exc
    missing = [i for i, r in enumerate(rows, 1)
               if not {"corpus", "item_id", "lang", "fields"} <= set(r)]
    if missing:
        raise ConfigError(f"labels file {path}, line {missing[0]}: needs corpus, item_id, "
                          "lang and fields")
    if splits is not None:
        rows = [r for r in rows if r.get("split", "train") in splits]
    unknown = sorted({f for r in rows for f in r["fields"] if f not in field_ids})
    if unknown:
        raise ConfigError(f"labels file {path} uses fields not in the taxonomy: {unknown}")
    texts = read_texts(rows, corpus_dir)
    kinds = ["news" if r["corpus"].startswith("news") else "paper" for r in rows]
    return LabelledItems(
        titles=[t for t, _ in texts], bodies=[b for _, b in texts],
        texts=[item_text({"kind": k, "title": t, "summary": b})
               for k, (t, b) in zip(kinds, texts, strict=True)],
        languages=np.array([r["lang"] for r in rows]),
        labels=np.array([[f in r["fields"] for f in field_ids] for r in rows],
                        dtype=int).reshape(len(rows), len(field_ids)),
        field_ids=field_ids, source=_display_path(path) + (
            f" ({'+'.join(splits)})" if splits else ""),
        digest=hashlib.sha256(raw).hexdigest()[:16],
        splits=np.array([r.get("split", "train") for r in rows]),
    )


def combine(*sets: LabelledItems) -> LabelledItems:
    """Several label sets as one (same fields), in order."""
    first = sets[0]
    if any(s.field_ids != first.field_ids for s in sets):
        raise ValueError("label sets with different fields cannot be combined")
    return replace(
        first, titles=[t for s in sets for t in s.titles],
        bodies=[b for s in sets for b in s.bodies], texts=[t for s in sets for t in s.texts],
        languages=np.concatenate([s.languages for s in sets]),
        labels=np.vstack([s.labels for s in sets]),
        source=" + ".join(s.source for s in sets),
        digest=hashlib.sha256("".join(s.digest for s in sets).encode()).hexdigest()[:16],
        splits=np.concatenate([s.splits for s in sets]))


def cached_vectors(embedder: Any, texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """The texts' passage vectors; with `cache_dir`, each text's vector is kept there
    (one file per stored-vector key: the model, or MODEL+int8; each vector keyed by a hash
    of the text) so reruns embed only new texts."""
    if cache_dir is None:
        return np.asarray(embedder.embed(texts), dtype=np.float32)
    keys = [hashlib.sha256(t.encode("utf-8")).hexdigest()[:24] for t in texts]
    path = cache_dir / f"{key_of(embedder)}.npz"  # MODEL or MODEL+int8: never shared
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path) as stored:
            known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if todo:
        fresh = np.asarray(embedder.embed([t for _, t in todo]), dtype=np.float32)
        known.update(zip([k for k, _ in todo], fresh, strict=True))
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.stem + ".partial.npz")
        np.savez(partial, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
        partial.replace(path)
    return np.stack([known[k] for k in keys]).astype(np.float32)
