"""Print label candidates for a labeller: the item's title and text exactly as the model sees them.

Run: .venv/bin/python bench/label_show.py --from N --to M [--candidates data/labels/items.jsonl]

Prints candidates N..M (by "n") of data/labels/items.jsonl (the labelled items) as plain-text blocks: n, corpus,
item_id, lang, title and the text truncated to 1,500 characters (as in dev.jsonl). The route
and the split are never shown. Texts are read from ../shared/data/corpus at run time; the
first call reads the candidates' rows once into .cache/labels/ (not committed), later calls
read only that small cache.
"""

# ruff: noqa: E501, E741  (the label-selection scripts as they ran; long literal lists)

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
SHARED = REPO.parent / "shared" / "data"
CORPUS = SHARED / "corpus"
CANDIDATES = REPO / "data" / "labels" / "items.jsonl"
CACHE = REPO / ".cache" / "labels"

from label_candidates import model_text, model_title  # noqa: E402  (one definition of the text)

ID_COLUMN = {"arxiv_2010_2019": "arxiv_id", "arxiv_cs_2025_2026": "id", "news_zh_2022_2024": "url"}
TEXT_COLUMN = {
    ("arxiv_2010_2019", "en"): "abstract",
    ("arxiv_cs_2025_2026", "en"): "summary_en",
    ("arxiv_cs_2025_2026", "zh"): "tldr_zh",
    ("news_zh_2022_2024", "zh"): "text",
}


def _read_texts(rows: list[dict]) -> dict[str, dict]:
    """(corpus|item_id|lang) -> {title, text}, reading only the candidates' rows."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out: dict[str, dict] = {}
    for corpus, id_col in ID_COLUMN.items():
        mine = [r for r in rows if r["corpus"] == corpus]
        if not mine:
            continue
        path = CORPUS / f"{corpus}.parquet"
        ids = pq.read_table(path, columns=[id_col]).column(id_col)
        wanted = pa.array(sorted({r["item_id"] for r in mine}))
        where = pc.indices_nonzero(pc.is_in(ids, value_set=wanted))
        cols = sorted({TEXT_COLUMN[(corpus, r["lang"])] for r in mine})
        t = pq.read_table(path, columns=[id_col, "title", *cols]).take(where).to_pylist()
        first = {}
        for rec in t:
            first.setdefault(rec[id_col], rec)  # the first row of a repeated id, as in selection
        for r in mine:
            rec = first.get(r["item_id"])
            if rec is None:
                sys.exit(f"item {r['item_id']} not found in {path}")
            key = f"{r['corpus']}|{r['item_id']}|{r['lang']}"
            out[key] = {
                "title": model_title(rec["title"])
                if r["corpus"] != "news_zh_2022_2024"
                else (rec["title"] or ""),
                "text": model_text(corpus, r["lang"], rec[TEXT_COLUMN[(corpus, r["lang"])]]),
            }
    return out


def load(candidates: Path) -> tuple[list[dict], dict[str, dict]]:
    if not CORPUS.is_dir():
        sys.exit(
            f"shared corpora not found at {CORPUS} (expected ../shared beside the project root)"
        )
    if not candidates.exists():
        sys.exit(f"{candidates} not found: run bench/label_candidates.py first")
    raw = candidates.read_bytes()
    rows = [json.loads(l) for l in raw.decode("utf-8").splitlines() if l.strip()]
    cache = CACHE / f"texts-{hashlib.sha1(raw).hexdigest()[:16]}.json"
    if cache.exists():
        texts = json.loads(cache.read_text(encoding="utf-8"))
    else:
        texts = _read_texts(rows)
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        tmp.replace(cache)
    return rows, texts


def main() -> int:
    ap = argparse.ArgumentParser(description="Print label candidates N..M (by n) as plain text.")
    ap.add_argument("--from", dest="first", type=int, required=True)
    ap.add_argument("--to", dest="last", type=int, required=True)
    ap.add_argument("--candidates", type=Path, default=CANDIDATES)
    args = ap.parse_args()
    rows, texts = load(args.candidates)
    picked = [r for r in rows if args.first <= r["n"] <= args.last]
    if not picked:
        sys.exit(f"no candidates with n in {args.first}..{args.last} (there are {len(rows)})")
    out = []
    for r in sorted(picked, key=lambda r: r["n"]):
        t = texts[f"{r['corpus']}|{r['item_id']}|{r['lang']}"]
        out.append(
            f"=== n {r['n']}\ncorpus: {r['corpus']}\nitem_id: {r['item_id']}\nlang: {r['lang']}\n"
            f"title: {t['title']}\ntext ({len(t['text'])} chars):\n{t['text']}\n"
        )
    sys.stdout.write("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
