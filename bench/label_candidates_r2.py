"""Choose the round-2 items to be hand-labelled for field assignment (issue #21), before anyone labels.

Run: .venv/bin/python bench/label_candidates_r2.py [--total 240] [--seed 20261202]   (about 15 minutes on the shared 2-core machine)
     .venv/bin/python bench/label_candidates_r2.py --round 3 --total 360 --seed 20261203   (round 3, as run)

Round 2 fills the (field, language) cells that still have fewer than 15 positives after
dev.jsonl plus round 1 (data/labels/labels.jsonl). It reads the same corpora, the guide and
the taxonomy as bench/label_candidates.py (and reuses its text, matching and TF-IDF code), and
writes two files, no texts:

- data/labels/items_r2.jsonl  {"n", "corpus", "item_id", "lang"}  (what labellers see);
- data/labels/routes_r2.jsonl {"n", "corpus", "item_id", "lang", "route", "split"}  (never shown
  to labellers; the split is a seeded frozen-test fifth stratified by route).

Routes, for each thin cell (budget proportional to its shortfall, at least 3):

- keyword:<field>    taxonomy terms in the title or twice in the text (title-and-text hits first);
- tfidf:<field>      TF-IDF nearness to the field's definition, items with no keyword hit for it;
- embed:<field>      multilingual-e5-small cosine between the item (passage) and the field's
                     definition (query), over a pool of the cell's TF-IDF top and keyword hits;
                     it uses the embedding only, never the calibrator or the labels;
- hard-negative:<field>  a trap term of the field or one passing mention in a long text;
- general-science / general-ai  random physics/q-bio/cond-mat/eess abstracts and cs papers (both
                     languages): hard negatives for "no field";
- random             uniform draws per corpus/language.

English TF-IDF runs on the arxiv_2010_2019 physics/q-bio/cond-mat/eess/nucl papers (where the
biology, membrane, storage, nuclear, aerospace and deep-sea items are) plus all 2025-26 papers.
Items in items.jsonl or dev.jsonl, and papers used there in the other language, are excluded.

**Round 3** (`--round 3`) counts positives over dev and every labelled round before it, excludes
the items of every earlier round (items.jsonl, items_r2.jsonl, ...), and changes two things from
what round 2's yields showed (positives for the targeted field: embedding 64%, keyword 26%,
TF-IDF 17%): a cell's positive budget goes 60% to the embedding route, 25% to keywords and 15% to
TF-IDF, over an embedding pool of 150 TF-IDF top items plus up to 75 keyword hits; and a cell
whose keyword supply (title hit or two text hits) is under 3 items, where round 2 found no new
positive, gets at most 3 candidates, so the budget goes where positives can still be found.
It writes items_r3.jsonl and routes_r3.jsonl.
"""

# ruff: noqa: E501, E741  (the label-selection scripts as they ran)

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from label_candidates import (
    CORPUS,
    DEV,
    GUIDE,
    LANGS,
    MIN_CHARS,
    REPO,
    Matcher,
    load_fields,
    load_items,
    tfidf_scores,
)

ROUND1 = REPO / "data" / "labels" / "labels.jsonl"
ITEMS1 = REPO / "data" / "labels" / "items.jsonl"
LABELS = REPO / "data" / "labels"
TARGET_POS = 15
SCIENCE = ("physics", "q-bio", "cond-mat", "eess", "nucl-", "quant-ph", "astro-ph")
# per round: (embedding share, TF-IDF share) of a cell's positive budget, the rest keywords;
# TF-IDF items in the embedding pool; cap for a cell whose keyword supply is under 3 (None: none)
MIX = {2: (0.25, 0.25, 60, None), 3: (0.60, 0.15, 150, 3)}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]


def science_ids() -> set[str]:
    """arxiv_2010_2019 ids with a physics / q-bio / cond-mat / eess / nucl category."""
    import pyarrow.parquet as pq

    t = pq.read_table(CORPUS / "arxiv_2010_2019.parquet", columns=["arxiv_id", "categories"]).to_pydict()
    return {
        i
        for i, c in zip(t["arxiv_id"], t["categories"], strict=False)
        if any(x.strip().startswith(SCIENCE) for x in (c or "").split(","))
    }


def embed_rank(items: list[dict], pool: list[int], query: str, lang: str, cache: dict) -> list[int]:
    """The pool ranked by e5-small cosine to the field's definition (best first)."""
    from scanner.embed.service import load_embedder

    if "model" not in cache:
        cache["model"] = load_embedder("multilingual-e5-small", threads=2)
    todo = [i for i in pool if i not in cache]
    if todo:
        vecs = cache["model"].embed([items[i]["title"] + "\n" + items[i]["text"] for i in todo])
        for i, v in zip(todo, vecs, strict=True):
            cache[i] = np.asarray(v, dtype=np.float32)
    q = np.asarray(cache["model"].embed([query], role="query")[0], dtype=np.float32)
    sims = [(float(cache[i] @ q), i) for i in pool]
    return [i for _, i in sorted(sims, key=lambda t: -t[0])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--total", type=int, default=240)
    ap.add_argument("--round", type=int, default=2, choices=sorted(MIX))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    for p in (CORPUS, DEV, GUIDE, ROUND1, ITEMS1):
        if not p.exists():
            sys.exit(f"missing {p}")
    share_emb, share_tf, embed_pool, thin_cap = MIX[args.round]
    out_path = LABELS / f"items_r{args.round}.jsonl"
    routes_path = LABELS / f"routes_r{args.round}.jsonl"
    earlier = [ITEMS1] + [LABELS / f"items_r{k}.jsonl" for k in range(2, args.round)]

    fields = load_fields()
    fids = [f["id"] for f in fields]
    fmap = {f["id"]: f for f in fields}
    dev = _jsonl(DEV)
    r1 = [d for d in _jsonl(ROUND1) if d.get("round", 1) < args.round]
    known = {(d["corpus"], d["item_id"], d["lang"]) for d in dev} | {
        (d["corpus"], d["item_id"], d["lang"]) for p in earlier for d in _jsonl(p)
    }
    pos = collections.Counter((f, d["lang"]) for d in dev + r1 for f in d["fields"])
    need = {(f, l): TARGET_POS - pos[(f, l)] for f in fids for l in LANGS if pos[(f, l)] < TARGET_POS}

    print("loading corpora ...", file=sys.stderr)
    items = load_items()
    used_papers = {it["paper"] for it in items if (it["corpus"], it["item_id"], it["lang"]) in known}
    normal = [
        i
        for i, it in enumerate(items)
        if (it["corpus"], it["item_id"], it["lang"]) not in known
        and it["paper"] not in used_papers
        and len(it["text"].strip()) >= MIN_CHARS
    ]
    sci = science_ids()
    by_lang = {l: [i for i in normal if items[i]["lang"] == l] for l in LANGS}

    chosen: dict[int, str] = {}

    def take(i: int, route: str) -> bool:
        if i in chosen or items[i]["paper"] in used_papers:
            return False
        chosen[i] = route
        used_papers.add(items[i]["paper"])
        return True

    n_random = round(0.10 * args.total)
    n_hard = round(0.25 * args.total)
    n_pos = args.total - n_random - n_hard

    # random draws first, uniform per corpus/language
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

    print("keyword hits ...", file=sys.stderr)
    m = Matcher(fields)
    thin_f = {f for f, _ in need}
    strong: dict[tuple[str, str], list[int]] = collections.defaultdict(list)
    both: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    weak: dict[tuple[str, str], list[int]] = collections.defaultdict(list)
    anyhit: dict[str, set[int]] = collections.defaultdict(set)
    strong_any: set[int] = set()
    for i in normal:
        it = items[i]
        lang = it["lang"]
        th, xh = m.hits(lang, it["title"]), m.hits(lang, it["text"])
        for fid in set(th) | set(xh):
            a, b = th[fid], xh[fid]
            anyhit[fid].add(i)
            if a or b >= 2:
                strong_any.add(i)
                if fid in thin_f:
                    strong[(fid, lang)].append(i)
                    if a and b:
                        both[(fid, lang)].add(i)
            elif fid in thin_f and len(it["text"]) >= 600:
                weak[(fid, lang)].append(i)

    # per-cell budget: proportional to the shortfall, at least 3
    total_need = sum(need.values())
    budget = {k: max(3, round(n_pos * v / total_need)) for k, v in need.items()}
    if thin_cap is not None:
        budget = {k: min(b, thin_cap) if len(strong[k]) < 3 else b for k, b in budget.items()}
    print("thin cells:", {f"{k[0]}/{k[1]}": (pos[k], budget[k], len(strong[k])) for k in sorted(need)}, file=sys.stderr)

    # TF-IDF per language (restricted pools), top ranks per thin field
    tf_top: dict[tuple[str, str], list[int]] = {}
    for lang in LANGS:
        print(f"tf-idf ({lang}) ...", file=sys.stderr)
        idx = by_lang[lang]
        if lang == "en":
            idx = [i for i in idx if items[i]["corpus"] != "arxiv_2010_2019" or items[i]["item_id"] in sci]
        cells = [k for k in sorted(need) if k[1] == lang]
        queries = [fmap[f]["query_en" if lang == "en" else "query_zh"] for f, _ in cells]
        S = tfidf_scores(items, idx, queries, lang)
        for j, k in enumerate(cells):
            ranked = np.argsort(-S[:, j], kind="stable")[:400]
            tf_top[k] = [idx[r] for r in ranked]
        del S

    # per cell: half keyword, a quarter TF-IDF (no keyword hit), a quarter embedding
    emb_cache: dict = {}
    for k in sorted(need, key=lambda k: (len(strong[k]), k)):
        fid, lang = k
        b = budget[k]
        n_emb = max(1, int(b * share_emb))
        n_tf = max(1, int(b * share_tf))
        n_kw = b - n_emb - n_tf
        pool = sorted(both[k]) if len(both[k]) >= 2 * n_kw else sorted(strong[k])
        left = n_kw
        for i in rng.sample(pool, len(pool)) + rng.sample(strong[k], len(strong[k])):
            if left <= 0:
                break
            left -= take(i, f"keyword:{fid}")
        n_tf += left  # no keyword supply: more from TF-IDF
        tf_free = [i for i in tf_top[k] if i not in anyhit[fid]][: 4 * n_tf]
        head, tail = tf_free[: max(1, n_tf // 2)], tf_free[max(1, n_tf // 2) :]
        left = n_tf
        for i in head + rng.sample(tail, len(tail)):
            if left <= 0:
                break
            left -= take(i, f"tfidf:{fid}")
        n_emb += left
        kw_sample = rng.sample(strong[k], min(len(strong[k]), embed_pool // 2))
        pool = [i for i in dict.fromkeys(tf_top[k][:embed_pool] + kw_sample) if i not in chosen]
        if pool:
            f = fmap[fid]
            q = f["query_en"] if lang == "en" else f["query_zh"]
            left = n_emb
            for i in embed_rank(items, pool, q, lang, emb_cache):
                if left <= 0:
                    break
                left -= take(i, f"embed:{fid}")

    # hard negatives: three quarters trap terms / passing mentions of thin fields, one
    # quarter general science and general AI
    n_gen = n_hard // 4
    hard_q = collections.deque()
    trap_order = {l: rng.sample(by_lang[l], min(len(by_lang[l]), 60_000)) for l in LANGS}
    for k in sorted(need):
        fid, lang = k
        traps = []
        for i in trap_order[lang]:
            if i not in strong_any and i not in chosen and m.trap(fid, items[i]["title"] + " \n " + items[i]["text"]):
                traps.append(i)
                if len(traps) >= 20:
                    break
        passing = sorted(i for i in weak[k] if i not in strong_any)
        hard_q.append((fid, rng.sample(traps, len(traps)), rng.sample(passing, len(passing)), [0]))
    rng.shuffle(hard_q)
    got = 0
    while got < n_hard - n_gen and hard_q:
        fid, traps, passing, c = hard_q.popleft()
        src = traps if (c[0] % 2 == 0 and traps) or not passing else passing
        while src:
            if take(src.pop(), f"hard-negative:{fid}"):
                got += 1
                c[0] += 1
                break
        if traps or passing:
            hard_q.append((fid, traps, passing, c))
    gen_pools = {
        "general-science": [i for i in by_lang["en"] if items[i]["corpus"] == "arxiv_2010_2019" and items[i]["item_id"] in sci and i not in strong_any],
        "general-ai": [i for i in normal if items[i]["corpus"] == "arxiv_cs_2025_2026"],
    }
    for j in range(n_gen):
        route = "general-science" if j % 2 == 0 else "general-ai"
        pool = gen_pools[route]
        while not take(pool[rng.randrange(len(pool))], route):
            pass

    # top up (or trim) to the total with keyword candidates of the cells with the largest need
    order = sorted(need, key=lambda k: -need[k])
    j = 0
    while len(chosen) < args.total and j < 50 * len(order):
        k = order[j % len(order)]
        j += 1
        pool = [i for i in strong[k] if i not in chosen]
        if pool:
            take(rng.choice(pool), f"keyword:{k[0]}")

    rows = [
        {"corpus": items[i]["corpus"], "item_id": items[i]["item_id"], "lang": items[i]["lang"], "route": r}
        for i, r in sorted(chosen.items())
    ]
    by_route = collections.defaultdict(list)
    for r in rows:
        by_route[r["route"]].append(r)
    p = rng.randrange(5)
    for route in sorted(by_route):
        group = by_route[route]
        rng.shuffle(group)
        for r in group:
            r["split"] = "test" if p % 5 == 0 else "train"
            p += 1
    rng.shuffle(rows)
    with out_path.open("w", encoding="utf-8") as fo, routes_path.open("w", encoding="utf-8") as fr:
        for n, r in enumerate(rows, 1):
            base = {"n": n, "corpus": r["corpus"], "item_id": r["item_id"], "lang": r["lang"]}
            fo.write(json.dumps(base, ensure_ascii=False) + "\n")
            fr.write(json.dumps({**base, "route": r["route"], "split": r["split"]}, ensure_ascii=False) + "\n")

    C = collections.Counter
    print(f"wrote {len(rows)} candidates to {out_path} (routes in {routes_path})")
    print("per route kind:", dict(sorted(C(r["route"].split(":")[0] for r in rows).items())))
    print("per lang:", dict(C(r["lang"] for r in rows)), "split:", dict(C(r["split"] for r in rows)))
    print("per corpus/lang:", dict(sorted(C(f"{r['corpus']}/{r['lang']}" for r in rows).items())))
    tgt = C((r["route"].split(":")[1], r["lang"]) for r in rows if ":" in r["route"] and not r["route"].startswith("hard"))
    print(f"{'cell':34s} {'pos':>4s} {'cand':>5s} {'kwsupply':>8s}")
    for k in sorted(need):
        print(f"{k[0] + '/' + k[1]:34s} {pos[k]:4d} {tgt[k]:5d} {len(strong[k]):8d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
