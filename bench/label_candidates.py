"""Choose the items to be hand-labelled for field assignment (issue #21), before anyone labels.

Run: .venv/bin/python bench/label_candidates.py [--total 720] [--seed 20261201]   (about 8 minutes on 2 cores)

Reads ../shared/data/corpus/{arxiv_2010_2019,arxiv_cs_2025_2026,news_zh_2022_2024}.parquet,
../shared/data/labels/dev.jsonl (and its README's field table), data/taxonomy/*.toml, and
writes data/labels/candidates.jsonl: one object per line, no texts:

    {"n", "corpus", "item_id", "lang", "route", "split"}

Routes (none uses the project's embedding model or calibrator, so the selection is not
biased toward what the current model already gets right):

- keyword:<field>       taxonomy keywords/aliases/pathway terms (en and zh) in the title or
                        at least twice in the text the model sees (title + first 1,500 chars);
- tfidf:<field>         TF-IDF cosine (en: word 1-2 grams; zh: char 2-3 grams) between the
                        item and the field's description/name/"covers" text from the guide,
                        restricted to items with no keyword hit for that field;
- hard-negative:<field> items that carry a trap term for the field (quantum yield, feature
                        fusion, GAN, CART, membrane computing, 卫星城, 核酸, autoregressive,
                        5G, remote sensing, ...) or name a field keyword once in passing in a
                        long text (news round-ups, general AI / general science papers);
- random                uniform draws from each corpus/language;
- min-content           a few near-empty items (< 40 chars of text), kept deliberately.

Language and text per corpus follow the labelling guide: arxiv_2010_2019 -> en
(title/abstract); arxiv_cs_2025_2026 -> en (title/summary_en) or zh (title/tldr_zh), never
the same paper in both and never a paper dev.jsonl uses; news_zh_2022_2024 -> zh
(title/text, item_id = url). Every dev.jsonl item is excluded.

The split is a frozen test fifth, drawn at random and stratified by route, before any
labelling. The order is shuffled (seeded) so labellers do not see items grouped by field.
"""

# ruff: noqa: E501, E741, UP031  (the label-selection scripts as they ran; long literal lists)

from __future__ import annotations

import argparse
import collections
import json
import math
import random
import re
import sys
import tomllib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
CORPUS = SHARED / "corpus"
DEV = SHARED / "labels" / "dev.jsonl"
GUIDE = SHARED / "labels" / "README.md"
TAXONOMY_DIR = REPO / "data" / "taxonomy"
OUT = REPO / "data" / "labels" / "candidates.jsonl"

MAX_CHARS = 1500
MIN_CHARS = 40
TARGET_POS = 15
LANGS = ("en", "zh")

# Assumed share of candidates that turn out positive, used only to size the draws and to
# estimate shortfalls (the labels decide).
PREC_KEYWORD = 0.8
PREC_TFIDF = 0.4
TFIDF_OLD_SAMPLE = 100_000

# Trap terms per field (the guide's classic confusions). Each entry: (regex, flags); a
# case-sensitive pattern has flags 0. Items matching them but with no strong keyword hit in
# the title are hard-negative candidates.
I = re.IGNORECASE
TRAPS: dict[str, list[tuple[str, int]]] = {
    "cell-gene-therapy": [
        (r"\bCART\b", 0),
        (r"classification and regression tree", I),
        (r"CRISPR", 0),
        (r"基因检测", 0),
    ],
    "brain-computer-interface": [
        (r"epilep|seizure|sleep stag", I),
        (r"\bbrain network", I),
        (r"脑电图", 0),
    ],
    "bio-manufacturing": [
        (r"舆论发酵|持续发酵|发酵期", 0),
        (r"\bfermion", I),
        (r"\bmanufacturing\b", I),
    ],
    "embodied-intelligence": [
        (r"工业机器人", 0),
        (r"\brobust control", I),
        (r"\bchatbot", I),
        (r"机器人", 0),
    ],
    "fourth-gen-semiconductors": [(r"\bdiamond\b", I), (r"\bnitride\b", I), (r"钻石|金刚石", 0)],
    "silicon-photonics": [(r"optical flow", I), (r"\bphotonic crystal", I), (r"光伏|光纤", 0)],
    "6g": [(r"\b5G\b", 0), (r"\bMIMO\b", 0), (r"5G", 0)],
    "brain-inspired-intelligence": [
        (r"\bneural network", I),
        (r"\bcortex|cortical\b", I),
        (r"\bneurons?\b", I),
        (r"神经网络", 0),
    ],
    "quantum-technology": [
        (r"quantum yield", I),
        (r"quantum chemi", I),
        (r"quantum-inspired", I),
        (r"density functional", I),
        (r"quantum mechanic", I),
        (r"量子点", 0),
    ],
    "controlled-nuclear-fusion": [
        (
            r"(feature|sensor|data|multimodal|multi-modal|late|early|"
            r"information|score) fusion",
            I,
        ),
        (r"fusion (module|network)", I),
        (r"solar wind", I),
        (r"融合", 0),
    ],
    "regenerative-medicine": [
        (r"regenerat", I),
        (r"\bscaffold", I),
        (r"\bstem\b", I),
        (r"再生", 0),
    ],
    "biosafety": [
        (r"核酸", 0),
        (r"computer virus|malware", I),
        (r"epidemic model|\bSIR\b|\bSEIR\b", 0),
        (r"COVID", I),
        (r"疫情", 0),
    ],
    "synthetic-biology": [
        (r"synthetic data", I),
        (r"DNA computing", I),
        (r"genetic algorithm", I),
        (r"人工合成|合成数据", 0),
    ],
    "intelligent-computing": [
        (r"pre-?trained|\bCLIP\b|backbone", I),
        (r"convolutional|deep learning", I),
        (r"\btransformer", I),
        (r"人工智能|深度学习|神经网络", 0),
    ],
    "general-ai": [
        (r"reinforcement learning", I),
        (r"path planning|motion planning", I),
        (r"multi-agent (system|consensus)|consensus of multi", I),
        (r"\bagents?\b", I),
        (r"智能化|人工智能", 0),
    ],
    "extended-reality": [
        (r"autoregressive|\bAR\(|\bAR model", 0),
        (r"video restoration", I),
        (r"\bimmersive\b", I),
        (r"沉浸式", 0),
    ],
    "advanced-nuclear-energy": [
        (r"nuclear (norm|physics|magnetic|segmentation)|cell nucle", I),
        (r"扎波罗热|核污染|核污染水|核武", 0),
        (r"\bnuclear\b", I),
        (r"核酸", 0),
    ],
    "new-energy-storage": [
        (r"battery[- ](life|powered|constrained)|battery-free", I),
        (r"energy harvesting", I),
        (r"充电桩|新能源汽车", 0),
    ],
    "deep-sea": [
        (r"polar code", I),
        (r"underwater image|underwater acoustic", I),
        (r"\bpolar\b", I),
        (r"水下图像|海洋", 0),
    ],
    "aerospace": [
        (r"satellite image|remote sensing|satellite imagery", I),
        (r"\bUAVs?\b|\bdrones?\b", I),
        (r"\borbit(al)?\b", I),
        (r"卫星城|民航|遥感", 0),
    ],
    "high-end-membranes": [
        (r"cell membrane|lipid|membrane (computing|protein|potential|tank)|plasma membrane", I),
        (r"\bthin films?\b", I),
        (r"覆膜|地膜|细胞膜|薄膜", 0),
    ],
    "high-performance-composites": [
        (r"composite (likelihood|pulse|fermion|hypothesis|model|image|score)", I),
        (r"\bcomposite\b", I),
        (r"\bfib(er|re)s?\b", I),
        (r"复合|光纤", 0),
    ],
    "non-silicon-chip-materials": [
        (r"\bGANs?\b", 0),
        (r"generative adversarial", I),
        (r"phonon|thermal conductiv", I),
        (r"石墨", 0),
    ],
}


# --------------------------------------------------------------------------------- texts


def model_text(corpus: str, lang: str, raw: str | None) -> str:
    """The item's text as dev.jsonl stores it (what the model sees): first 1,500 chars."""
    raw = raw or ""
    if lang == "en":  # arXiv abstracts: hard line breaks folded, as in dev.jsonl
        raw = re.sub(r"\s+", " ", raw).strip()
    return raw[:MAX_CHARS]


def model_title(title: str | None) -> str:
    return re.sub(r"\s+", " ", title or "").strip()


def load_items() -> list[dict]:
    """Every labellable (corpus, item, lang) with its model text, in file order."""
    import pyarrow.parquet as pq

    items: list[dict] = []
    t = pq.read_table(
        CORPUS / "arxiv_2010_2019.parquet", columns=["arxiv_id", "title", "abstract"]
    ).to_pydict()
    for i, ti, ab in zip(t["arxiv_id"], t["title"], t["abstract"], strict=False):
        items.append(
            {
                "corpus": "arxiv_2010_2019",
                "item_id": i,
                "lang": "en",
                "paper": i,
                "title": model_title(ti),
                "text": model_text("arxiv_2010_2019", "en", ab),
            }
        )
    t = pq.read_table(
        CORPUS / "arxiv_cs_2025_2026.parquet", columns=["id", "title", "summary_en", "tldr_zh"]
    ).to_pydict()
    for i, ti, en, zh in zip(t["id"], t["title"], t["summary_en"], t["tldr_zh"], strict=False):
        items.append(
            {
                "corpus": "arxiv_cs_2025_2026",
                "item_id": i,
                "lang": "en",
                "paper": "cs:" + i,
                "title": model_title(ti),
                "text": model_text("arxiv_cs_2025_2026", "en", en),
            }
        )
        if zh is not None:
            items.append(
                {
                    "corpus": "arxiv_cs_2025_2026",
                    "item_id": i,
                    "lang": "zh",
                    "paper": "cs:" + i,
                    "title": model_title(ti),
                    "text": model_text("arxiv_cs_2025_2026", "zh", zh),
                }
            )
    t = pq.read_table(
        CORPUS / "news_zh_2022_2024.parquet", columns=["url", "title", "text"]
    ).to_pydict()
    seen: set[str] = set()
    for u, ti, tx in zip(t["url"], t["title"], t["text"], strict=False):
        if not u or u in seen:  # no usable id (15 stories have an empty url)
            continue
        seen.add(u)
        items.append(
            {
                "corpus": "news_zh_2022_2024",
                "item_id": u,
                "lang": "zh",
                "paper": "news:" + u,
                "title": ti or "",
                "text": model_text("news_zh_2022_2024", "zh", tx),
            }
        )
    return items


# ------------------------------------------------------------------------------ taxonomy


def load_fields() -> list[dict]:
    paths = sorted(TAXONOMY_DIR.glob("*.toml"))
    tax = tomllib.loads(paths[-1].read_text(encoding="utf-8"))
    covers = {}
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*([a-z0-9-]+)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$", line)
        if m:
            covers[m.group(1)] = (m.group(2), m.group(3))
    fields = []
    for f in tax["field"]:
        en_terms = list(
            dict.fromkeys(
                f.get("keywords_en", [])
                + f.get("aliases_en", [])
                + [k for p in f.get("pathways", []) for k in p.get("keywords_en", [])]
            )
        )
        zh_terms = list(
            dict.fromkeys(
                f.get("keywords_zh", [])
                + f.get("aliases_zh", [])
                + [f["zh"]]
                + [k for p in f.get("pathways", []) for k in p.get("keywords_zh", [])]
            )
        )
        zh_name, cover = covers.get(f["id"], (f["zh"], ""))
        fields.append(
            {
                "id": f["id"],
                "en_terms": en_terms,
                "zh_terms": zh_terms,
                "exclude_en": f.get("exclude_en", []),
                "exclude_zh": f.get("exclude_zh", []),
                "query_en": " ".join([f["en"], f["description_en"], cover, *en_terms]),
                "query_zh": " ".join([f["zh"], zh_name, f["description_zh"], *zh_terms, cover]),
            }
        )
    return fields


def _sensitive(term: str) -> bool:
    """Case-sensitive when the term has capitals beyond its first letter (GaN, SiC, RIS,
    CAR-T, ITER, VLA) or is a short capitalised acronym, so that GAN, cart, iter, ris miss."""
    return any(c.isupper() for c in term[1:]) or (len(term) <= 4 and term[:1].isupper())


TOKEN = re.compile(r"[A-Za-z0-9\u0370-\u03ff]+")
SUFFIXES = ("s", "es")


def _tokens(s: str) -> list[str]:
    return TOKEN.findall(s)


class Matcher:
    """Term matching on Latin tokens (so "CAR-T" = "CAR T", word boundaries for free) plus
    substring counts for Chinese terms. Lower-case terms match case-insensitively and may
    take a plural on their last word; terms with inner capitals match case-sensitively."""

    def __init__(self, fields: list[dict]):
        self.lat: dict[tuple[str, ...], set[str]] = collections.defaultdict(set)  # lower-case key
        self.lat_cs: dict[tuple[str, ...], set[str]] = collections.defaultdict(set)
        self.han: dict[str, set[str]] = collections.defaultdict(set)
        self.ex: dict[tuple[str, ...], set[str]] = collections.defaultdict(set)
        self.ex_cs: dict[tuple[str, ...], set[str]] = collections.defaultdict(set)
        self.ex_han: dict[str, set[str]] = collections.defaultdict(set)
        for f in fields:
            for t in f["en_terms"] + f["zh_terms"]:
                self._add(t, f["id"], self.lat, self.lat_cs, self.han)
            for t in f["exclude_en"] + f["exclude_zh"]:
                self._add(t, f["id"], self.ex, self.ex_cs, self.ex_han)
        self.maxlen = max(len(k) for d in (self.lat, self.lat_cs, self.ex, self.ex_cs) for k in d)
        self.first = {k[0] for k in list(self.lat) + list(self.ex)}
        self.first_cs = {k[0] for k in list(self.lat_cs) + list(self.ex_cs)}
        self.traps = {fid: [re.compile(p, fl) for p, fl in pats] for fid, pats in TRAPS.items()}

    @staticmethod
    def _add(t, fid, lat, lat_cs, han):
        if not t:
            return
        if not t.isascii():
            han[t].add(fid)
            return
        toks = tuple(_tokens(t))
        if not toks:
            return
        if _sensitive(t):
            lat_cs[toks].add(fid)
        else:
            lat[tuple(x.lower() for x in toks)].add(fid)

    def _latin(
        self, toks: list[str], ci: dict, cs: dict, low: list[str]
    ) -> list[tuple[int, int, set[str]]]:
        out = []
        n = len(toks)
        for i in range(n):
            a, b = low[i] in self.first, toks[i] in self.first_cs
            if not (a or b):
                continue
            for L in range(1, min(self.maxlen, n - i) + 1):
                if a:
                    key = tuple(low[i : i + L])
                    fs = ci.get(key)
                    if fs is None:  # plural on the last word
                        w = key[-1]
                        for suf in SUFFIXES:
                            if w.endswith(suf) and len(w) > len(suf) + 2:
                                fs = ci.get((*key[:-1], w[:-len(suf)]))
                                if fs:
                                    break
                    if fs:
                        out.append((i, i + L, fs))
                if b:
                    fs = cs.get(tuple(toks[i : i + L]))
                    if fs:
                        out.append((i, i + L, fs))
        return out

    def hits(self, lang: str, s: str) -> collections.Counter:
        """Field -> occurrences of its terms in s, leaving out the field's exclusion phrases."""
        c: collections.Counter = collections.Counter()
        toks = _tokens(s)
        low = [t.lower() for t in toks]
        found = self._latin(toks, self.lat, self.lat_cs, low)
        if found:
            ex = self._latin(toks, self.ex, self.ex_cs, low)
            for i, _j, fs in found:
                for fid in fs:
                    if not any(a <= i < b and fid in o for a, b, o in ex):
                        c[fid] += 1
        if lang == "zh":
            blocked = collections.Counter()
            for t, fs in self.ex_han.items():
                k = s.count(t)
                if k:
                    for fid in fs:
                        blocked[(fid, t)] = k
            for t, fs in self.han.items():
                k = s.count(t)
                if k:
                    for fid in fs:
                        # an exclusion phrase containing the term cancels that many hits
                        k2 = k - sum(v for (f2, e), v in blocked.items() if f2 == fid and t in e)
                        if k2 > 0:
                            c[fid] += k2
        return c

    def trap(self, fid: str, s: str) -> bool:
        return any(p.search(s) for p in self.traps.get(fid, []))


# ------------------------------------------------------------------------------ selection


def dev_counts(dev: list[dict], field_ids: list[str]) -> dict[tuple[str, str], int]:
    c = collections.Counter()
    for d in dev:
        for f in d["fields"]:
            c[(f, d["lang"])] += 1
    return {(f, l): c[(f, l)] for f in field_ids for l in LANGS}


def tfidf_scores(items: list[dict], idx: list[int], queries: list[str], lang: str) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [items[i]["title"] + " \n " + items[i]["text"] for i in idx]
    if lang == "en":
        vec = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=3,
            max_df=0.3,
            sublinear_tf=True,
            stop_words="english",
            dtype=np.float32,
            max_features=600_000,
        )
    else:
        vec = TfidfVectorizer(
            analyzer="char",
            ngram_range=(2, 3),
            min_df=3,
            max_df=0.3,
            sublinear_tf=True,
            dtype=np.float32,
            max_features=600_000,
        )
    X = vec.fit_transform(docs)
    Q = vec.transform(queries)
    return (X @ Q.T).toarray()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--total", type=int, default=720)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    for p in (CORPUS, DEV, GUIDE):
        if not p.exists():
            sys.exit(f"missing {p}: the shared data must sit beside the project root (../shared)")
    fields = load_fields()
    fids = [f["id"] for f in fields]
    dev = [json.loads(l) for l in DEV.read_text(encoding="utf-8").splitlines() if l.strip()]
    dev_keys = {(d["corpus"], d["item_id"]) for d in dev}
    dev_pos = dev_counts(dev, fids)

    print("loading corpora ...", file=sys.stderr)
    items = load_items()
    eligible = [i for i, it in enumerate(items) if (it["corpus"], it["item_id"]) not in dev_keys]
    short = [i for i in eligible if len(items[i]["text"].strip()) < MIN_CHARS]
    short_set = set(short)
    normal = [i for i in eligible if i not in short_set]
    by_lang = {l: [i for i in normal if items[i]["lang"] == l] for l in LANGS}

    chosen: dict[int, str] = {}  # item index -> route
    used_papers: set[str] = set()  # a paper in one language only

    def take(i: int, route: str) -> bool:
        it = items[i]
        if i in chosen or it["paper"] in used_papers:
            return False
        chosen[i] = route
        used_papers.add(it["paper"])
        return True

    # (d) random draws first, so they stay uniform over each corpus/language
    n_random = round(0.10 * args.total)
    shares = {
        ("arxiv_2010_2019", "en"): 0.30,
        ("arxiv_cs_2025_2026", "en"): 0.18,
        ("arxiv_cs_2025_2026", "zh"): 0.22,
        ("news_zh_2022_2024", "zh"): 0.30,
    }
    for (corp, lang), share in shares.items():
        pool = [i for i in normal if items[i]["corpus"] == corp and items[i]["lang"] == lang]
        k = round(share * n_random)
        for i in rng.sample(pool, len(pool)):
            if k == 0:
                break
            k -= take(i, "random")

    # min-content probes
    for corp, lang, k in (
        ("news_zh_2022_2024", "zh", 3),
        ("arxiv_cs_2025_2026", "zh", 2),
        ("arxiv_2010_2019", "en", 1),
    ):
        pool = sorted(i for i in short if items[i]["corpus"] == corp and items[i]["lang"] == lang)
        for i in rng.sample(pool, len(pool)):
            if k == 0:
                break
            k -= take(i, "min-content")

    # keyword hits of every field
    print("keyword hits ...", file=sys.stderr)
    m = Matcher(fields)
    strong: dict[tuple[str, str], list[int]] = collections.defaultdict(list)  # title hit or >= 2
    weak: dict[tuple[str, str], list[int]] = collections.defaultdict(list)  # exactly 1, in text
    anyhit: dict[str, set[int]] = collections.defaultdict(set)
    strong_any: set[int] = set()
    both: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for i in normal:
        it = items[i]
        lang = it["lang"]
        th, xh = m.hits(lang, it["title"]), m.hits(lang, it["text"])
        for fid in set(th) | set(xh):
            a, b = th[fid], xh[fid]
            anyhit[fid].add(i)
            if a or b >= 2:
                strong[(fid, lang)].append(i)
                strong_any.add(i)
                if a and b:
                    both[(fid, lang)].add(i)
            else:
                weak[(fid, lang)].append(i)
    for k in strong:
        strong[k].sort()

    # how many positives each field/language still needs after dev.jsonl
    need = {k: max(0, TARGET_POS - v) for k, v in dev_pos.items()}
    n_hard = round(0.20 * args.total)
    n_pos = args.total - len(chosen) - n_hard
    # keyword ask: the need at PREC_KEYWORD (at least 3, at most the supply); TF-IDF adds
    # about a fifth of the need on top (keyword-free positives), at least 1
    want_kw = {k: min(len(strong[k]), max(3, math.ceil(v / PREC_KEYWORD))) for k, v in need.items()}
    want_tf = {k: max(1, round(0.2 * v)) for k, v in need.items()}
    scale = n_pos / max(1, sum(want_kw.values()) + sum(want_tf.values()))
    if scale < 1:  # shrink proportionally, never below 3 keyword candidates
        want_kw = {k: min(v, max(3, math.ceil(v * scale))) for k, v in want_kw.items()}

    # (a) keyword candidates: uniform among strong hits, scarcest field/language first
    order = sorted(want_kw, key=lambda k: (len(strong[k]), k))
    for k in order:
        fid, lang = k
        left = want_kw[k]
        # title hit and a text hit when that pool is deep enough (higher precision), else all strong
        best = [i for i in strong[k] if i in both[k]]
        pool = best if len(best) >= 3 * left else strong[k]
        for i in rng.sample(pool, len(pool)) + rng.sample(strong[k], len(strong[k])):
            if left == 0:
                break
            left -= take(i, f"keyword:{fid}")
        want_kw[k] -= left  # record shortfall

    # (b) TF-IDF candidates with no keyword hit for the field
    for lang in LANGS:
        print(f"tf-idf ({lang}) ...", file=sys.stderr)
        idx = by_lang[lang]
        if lang == "en":  # all 2025-26 papers plus a fixed 100k sample of 2010-19 (time/memory)
            old = [i for i in idx if items[i]["corpus"] == "arxiv_2010_2019"]
            keep = set(random.Random(args.seed + 1).sample(old, min(len(old), TFIDF_OLD_SAMPLE)))
            idx = [i for i in idx if items[i]["corpus"] != "arxiv_2010_2019" or i in keep]
        queries = [f["query_en"] if lang == "en" else f["query_zh"] for f in fields]
        S = tfidf_scores(items, idx, queries, lang)
        for j, fid in enumerate(fids):
            k = (fid, lang)
            left = want_tf[k]
            ranked = np.argsort(-S[:, j], kind="stable")
            top = [idx[r] for r in ranked[: 40 * max(1, left)] if idx[r] not in anyhit[fid]][
                : 4 * max(1, left)
            ]
            # the best-ranked first half, then a random part of the rest of the top
            head, tail = top[: max(1, left // 2)], top[max(1, left // 2) :]
            for i in head + rng.sample(tail, len(tail)):
                if left == 0:
                    break
                left -= take(i, f"tfidf:{fid}")
            want_tf[k] -= left
        del S

    # (c) hard negatives: alternately a trap term and a passing mention (one hit in the text)
    hard_q = collections.deque()
    trap_order = {l: rng.sample(by_lang[l], min(len(by_lang[l]), 60_000)) for l in LANGS}
    for fid in fids:
        for lang in LANGS:
            # trap terms, checked lazily on a seeded random order (the full scan is slow)
            traps = []
            for i in trap_order[lang]:
                if (
                    i not in strong_any
                    and i not in chosen
                    and m.trap(fid, items[i]["title"] + " \n " + items[i]["text"])
                ):
                    traps.append(i)
                    if len(traps) >= 40:
                        break
            passing = sorted(i for i in weak[(fid, lang)] if i not in strong_any)
            hard_q.append(
                (fid, lang, rng.sample(traps, len(traps)), rng.sample(passing, len(passing)))
            )
    got = collections.Counter()
    while sum(got.values()) < n_hard and hard_q:
        fid, lang, traps, passing = hard_q.popleft()
        src = traps if (got[(fid, lang)] % 2 == 0 and traps) or not passing else passing
        while src:
            if take(src.pop(), f"hard-negative:{fid}"):
                got[(fid, lang)] += 1
                break
        if traps or passing:
            hard_q.append((fid, lang, traps, passing))

    # top up to the total with more keyword candidates for the thinnest fields
    budget = args.total - len(chosen)
    exp = {k: dev_pos[k] + PREC_KEYWORD * want_kw[k] + PREC_TFIDF * want_tf[k] for k in need}
    while budget > 0:
        k = min(
            (
                k
                for k in exp
                if exp[k] < 1e9
                and any(i not in chosen and items[i]["paper"] not in used_papers for i in strong[k])
            ),
            key=lambda k: exp[k],
            default=None,
        )
        if k is None:
            break
        for i in rng.sample(strong[k], len(strong[k])):
            if take(i, f"keyword:{k[0]}"):
                want_kw[k] += 1
                budget -= 1
                break
        exp[k] += PREC_KEYWORD
        if exp[k] >= 40:
            exp[k] = 1e9

    # frozen test fifth, stratified by route; then a seeded shuffle of the order
    rows = [
        {
            "corpus": items[i]["corpus"],
            "item_id": items[i]["item_id"],
            "lang": items[i]["lang"],
            "route": r,
        }
        for i, r in sorted(chosen.items())
    ]
    by_route = collections.defaultdict(list)
    for r in rows:
        by_route[r["route"]].append(r)
    pos = rng.randrange(5)
    for route in sorted(by_route):
        group = by_route[route]
        rng.shuffle(group)
        for r in group:
            r["split"] = "test" if pos % 5 == 0 else "train"
            pos += 1
    rng.shuffle(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for n, r in enumerate(rows, 1):
            fh.write(json.dumps({"n": n, **r}, ensure_ascii=False) + "\n")

    report(rows, fids, dev_pos, strong, want_kw, want_tf, args.out)
    return 0


def report(rows, fids, dev_pos, strong, want_kw, want_tf, out):
    C = collections.Counter
    print(f"wrote {len(rows)} candidates to {out}")
    for name, key in (
        ("route kind", lambda r: r["route"].split(":")[0]),
        ("lang", lambda r: r["lang"]),
        ("corpus", lambda r: r["corpus"]),
        ("split", lambda r: r["split"]),
        ("corpus/lang", lambda r: f"{r['corpus']}/{r['lang']}"),
    ):
        print(
            f"\nper {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(C(map(key, rows)).items()))
        )
    tgt = C()
    for r in rows:
        kind, _, fid = r["route"].partition(":")
        if fid:
            tgt[(fid, r["lang"], kind)] += 1
    print(
        "\nper field/lang: dev positives, candidates targeting it (kw / tfidf / hard-neg), "
        f"strong keyword supply, expected positives = dev + {PREC_KEYWORD:.1f}*kw + {PREC_TFIDF:.1f}*tfidf"
    )
    print(
        f"{'field':30s} {'lang':4s} {'dev':>4s} {'kw':>4s} {'tf':>4s} {'hn':>4s} {'supply':>7s} {'expect':>7s}"
    )
    short = []
    for fid in fids:
        for lang in LANGS:
            kw, tf, hn = (
                tgt[(fid, lang, "keyword")],
                tgt[(fid, lang, "tfidf")],
                tgt[(fid, lang, "hard-negative")],
            )
            e = dev_pos[(fid, lang)] + PREC_KEYWORD * kw + PREC_TFIDF * tf
            print(
                f"{fid:30s} {lang:4s} {dev_pos[(fid, lang)]:4d} {kw:4d} {tf:4d} {hn:4d} "
                f"{len(strong[(fid, lang)]):7d} {e:7.1f}"
            )
            if e < TARGET_POS:
                short.append((fid, lang, e, len(strong[(fid, lang)])))
    print(
        "\nexpected shortfall (estimate < %d positives; random draws and other fields' "
        "candidates may add a few):" % TARGET_POS
    )
    for fid, lang, e, sup in short:
        print(
            f"  {fid:30s} {lang}: ~{e:.0f} expected (short ~{TARGET_POS - e:.0f}); strong keyword supply {sup}"
        )
    if not short:
        print("  none")


if __name__ == "__main__":
    raise SystemExit(main())
