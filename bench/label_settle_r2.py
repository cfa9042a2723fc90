"""Settle the labels of round 2 or later (issue #21): agreement of the two passes, the settled
labels appended to data/labels/labels.jsonl and the agreement section for agreement.md.

Run: python bench/label_settle_r2.py [--round 2] [--write]

Reads data/labels/routes_rN.jsonl (ids and the frozen-test split drawn with the candidates,
before any labelling) and data/labels/pass_{a,b}_rN.jsonl (the two independent passes: n,
corpus, item_id, lang, fields, note; a pass labelled in parts, pass_a_rN_1.jsonl,
pass_a_rN_2.jsonl, ..., is read as one). Disagreements are settled by SETTLED below (fields
and the reason, by the guide in ../shared/data/labels/README.md and the agreed precedents of
round 1). Without --write it only prints the agreement figures and the section.
"""

# ruff: noqa: E501, E741  (the label scripts; long literal rows)

from __future__ import annotations

import argparse
import collections
import json
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LABELS = REPO / "data" / "labels"

# n -> (settled fields, why). Precedents: n of round 1 (labels.jsonl rows without "round").
SETTLED_R2: dict[int, tuple[list[str], str]] = {
    15: ([], "guide: 2D materials count as non-silicon chip materials for their electronics "
             "('graphene physics with no electronic angle is []'); a continual-learning "
             "classifier of flake layers names the material only as its data"),
    22: (["general-ai"], "AI for biology is general-ai (agreed precedents n 600, 617, 723); "
                         "predicting enzyme-substrate interactions with a KG model is its subject"),
    45: (["intelligent-computing", "general-ai"],
         "survey of LLM spatial intelligence whose title names embodied agents and earth "
         "science (agents and AI for science: general-ai) besides LLM cognition "
         "(intelligent-computing)"),
    59: (["brain-computer-interface"],
         "non-invasive decoding of seen images from brain recordings: agreed precedent n 14 "
         "counts visual-stimulus decoding from EEG/MEG as BCI; fMRI is the same task"),
    89: (["intelligent-computing", "general-ai"],
         "tokenisation for materials-science language models: language-model adaptation "
         "(intelligent-computing) for AI for materials (general-ai; agreed precedents n 395, 595)"),
    103: ([], "programmable-matter particle algorithms: 'agents' of a physical model, not AI "
              "agents or swarm AI (settled precedent n 464, agreed n 413, 567)"),
    104: (["aerospace"], "on-board navigation system of a fixed-wing aircraft, not remote-sensing "
                         "image analysis (settled precedent n 608, on-board sense-and-avoid)"),
    137: ([], "guide: a method that uses pretrained models as one component is not "
              "intelligent-computing; the subject is subset selection (precedents n 53, 124)"),
    142: (["brain-computer-interface"],
          "EEG decoding of a mental state (auditory attention), not clinical diagnosis: "
          "settled precedent n 570 and the dev set's cognitive-workload decoding"),
    157: ([], "guide: 6g needs 6G/beyond-5G framing, THz, RIS, ISAC or cell-free MIMO; "
              "rotatable-antenna MIMO capacity with none of them is generic MIMO (fluid-antenna "
              "items n 58, 438 counted for ISAC)"),
    176: (["intelligent-computing"],
          "LoRA adaptation of Stable Diffusion is the work (guide: adaptation of large "
          "diffusion generators); dev precedents fine-tuning Stable Diffusion for satellite "
          "and photovoltaic-defect images are intelligent-computing"),
    190: (["intelligent-computing", "general-ai"],
          "LLM-era agentic system: agents under general-ai and the agreed practice adds "
          "intelligent-computing (settled n 396, 495); safety of LLM coding agents' actions"),
    201: ([], "governance design of a personal knowledge wiki: the LLM hosts it but is not the "
              "subject (settled precedent n 151)"),
    234: ([], "statistical anomaly detection on an enrichment facility's shipment data: no "
              "reactor, fuel or materials technology (like the guide's statistical methods "
              "that only use epidemic data)"),
}

# Round 3: n of items_r3.jsonl -> (settled fields, why); precedents as above, and round 2's n
# written "r2 n".
SETTLED_R3: dict[int, tuple[list[str], str]] = {
    8: ([], "category-theoretic derivation of quantum theory from a process ontology: quantum "
            "foundations (precedents n 475, 32); the protocols illustrate the formalism"),
    19: ([], "vacuum apparatus for a Ca+ ion trap with no quantum-computing or metrology framing "
             "in the text: atomic-physics instrument (dev precedent: diode-laser system); n 491 "
             "counted because it is trapped-ion quantum simulation"),
    74: (["biosafety"], "vaccine delivery is the problem modelled, not data used as an example "
                        "(guide: vaccines; r2 n 126 vaccination plans)"),
    105: (["quantum-technology"], "SiC as the host of spin qubits with no electronic-device angle "
                                  "(guide: non-silicon is SiC electronics; precedent n 721, "
                                  "NV diamond = quantum only)"),
    136: (["quantum-technology"], "diamond nanocavities as spin-photon interfaces for qubits: no "
                                  "photonic circuit or interconnect on silicon (precedent n 721)"),
    166: ([], "semantic-communication survey with no 6G/beyond-5G framing in the text "
              "(precedents n 23, 705)"),
    181: ([], "'next-generation wireless' names neither 6G nor beyond-5G, and no space-air-ground "
              "network is described (precedent n 46, UAV network without that framing)"),
    190: (["biosafety"], "biosecurity is in the field (guide table): the story is wholly about "
                         "dangerous-pathogen research, unlike war news that names a nuclear plant"),
    295: (["6g"], "the framework is presented for '5G and beyond' and the abstract discusses "
                  "beyond-5G evolution: the guide's beyond-5G framing (n 250 had none)"),
}

SETTLED = {2: SETTLED_R2, 3: SETTLED_R3}


def field_order() -> list[str]:
    tax = sorted((REPO / "data" / "taxonomy").glob("*.toml"))[-1]
    return [f["id"] for f in tomllib.loads(tax.read_text(encoding="utf-8"))["field"]]


def kappa(a: list[bool], b: list[bool]) -> float:
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


def _read(path: Path) -> dict[int, dict]:
    return {r["n"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def _read_pass(rnd: int, p: str) -> dict[int, dict]:
    """One pass of a round: its file, or its parts (pass_a_r3_1.jsonl, ...) read as one."""
    whole = LABELS / f"pass_{p}_r{rnd}.jsonl"
    if whole.exists():
        return _read(whole)
    rows: dict[int, dict] = {}
    for part in sorted(LABELS.glob(f"pass_{p}_r{rnd}_*.jsonl")):
        got = _read(part)
        if set(got) & set(rows):
            sys.exit(f"{part.name} repeats items of an earlier part")
        rows.update(got)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--round", type=int, default=2, choices=sorted(SETTLED))
    args = ap.parse_args()
    rnd = args.round
    settled_by_guide = SETTLED[rnd]
    fids = field_order()
    routes = _read(LABELS / f"routes_r{rnd}.jsonl")
    passes = {p: _read_pass(rnd, p) for p in ("a", "b")}
    for p, rows in passes.items():
        missing = sorted(set(routes) - set(rows))
        if missing:
            print(f"pass {p}: {len(missing)} items missing (first {missing[:5]})", file=sys.stderr)
    ns = sorted(n for n in routes if all(n in rows for rows in passes.values()))
    out, disagree, chosen = [], [], collections.Counter()
    for n in ns:
        r = routes[n]
        a, b = passes["a"][n], passes["b"][n]
        for other in (a, b):
            if (other["corpus"], other["item_id"], other["lang"]) != (r["corpus"], r["item_id"], r["lang"]):
                sys.exit(f"n {n}: pass row names another item")
        fa, fb = set(a["fields"]), set(b["fields"])
        if fa == fb:
            final, note, settled = fa, a.get("note", ""), False
        else:
            if n not in settled_by_guide:
                sys.exit(f"n {n}: passes disagree ({sorted(fa)} vs {sorted(fb)}) and it is not settled")
            final, note, settled = set(settled_by_guide[n][0]), settled_by_guide[n][1], True
            chosen["A" if final == fa else "B" if final == fb else "third"] += 1
            disagree.append((n, r["lang"], fa, fb, final, note))
        order = [f for f in fids if f in final]
        out.append({"n": n, "round": rnd, "corpus": r["corpus"], "item_id": r["item_id"],
                    "lang": r["lang"], "split": r["split"], "fields": order, "note": note,
                    "pass_a": [f for f in fids if f in fa], "pass_b": [f for f in fids if f in fb],
                    "settled": settled})
    stale = sorted(set(settled_by_guide) - {d[0] for d in disagree})
    if stale:
        sys.exit(f"SETTLED names items the passes agree on: {stale}")
    text = section(out, fids, disagree, chosen, len(routes), rnd)
    print(text)
    if args.write:
        path = LABELS / "labels.jsonl"
        kept = [l for l in path.read_text(encoding="utf-8").splitlines()
                if l.strip() and json.loads(l).get("round") != rnd]
        rows = kept + [json.dumps(r, ensure_ascii=False) for r in out]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        print(f"labels.jsonl: {len(kept)} earlier rows + {len(out)} round-{rnd} rows", file=sys.stderr)
    return 0


SHORT = {"intelligent-computing": "IC", "general-ai": "GA", "embodied-intelligence": "EI"}


def _fmt(fields: set[str], fids: list[str]) -> str:
    return ", ".join(SHORT.get(f, f) for f in fids if f in fields) or "[]"


def section(rows: list[dict], fids: list[str], disagree: list, chosen: collections.Counter,
            drawn: int, rnd: int = 2) -> str:
    n = len(rows)
    en = sum(r["lang"] == "en" for r in rows)
    test = sum(r["split"] == "test" for r in rows)
    exact = n - len(disagree)
    before = "round 1" if rnd == 2 else f"rounds 1–{rnd - 1}"
    lines = [f"## Round {rnd} (thin field/language cells)", "",
             f"- Items double-labelled: **{n}** of {drawn} drawn ({en} en, {n - en} zh; {test} "
             f"in the frozen test split, {n - test} train), chosen by `bench/label_candidates_r2.py"
             f"{'' if rnd == 2 else f' --round {rnd}'}` "
             f"for the (field, language) cells with fewer than 15 positives after {before}; the "
             f"route of each item is kept in `routes_r{rnd}.jsonl` (never shown to the labellers).",
             f"- Exact-set agreement: **{exact}/{n} = {exact / n:.1%}**; {len(disagree)} items "
             "disagreed and were settled by the guide.",
             ]
    ks, table = [], []
    for f in fids:
        a = [f in r["pass_a"] for r in rows]
        b = [f in r["pass_b"] for r in rows]
        fin = [r for r in rows if f in r["fields"]]
        k = kappa(a, b) if (any(a) or any(b)) else None
        if k is not None:
            ks.append(k)
        table.append(f"| {f} | {sum(a)} | {sum(b)} | {sum(x and y for x, y in zip(a, b, strict=True))} "
                     f"| {'-' if k is None else f'{k:.3f}'} | {len(fin)} | "
                     f"{sum(r['lang'] == 'en' for r in fin)} | {sum(r['lang'] == 'zh' for r in fin)} | "
                     f"{sum(r['split'] == 'test' for r in fin)} |")
    none = sum(not r["fields"] for r in rows)
    lines += [f"- Mean per-field Cohen's kappa: **{sum(ks) / len(ks):.3f}** (min {min(ks):.3f}; "
              f"over the {len(ks)} fields with a positive in either pass).",
              f"- Items with `[]` in the final labels: **{none}** ({none / n:.1%}).", "",
              "| field id | A positives | B positives | both | kappa | final | final en | final zh | final test |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", *table, "",
              f"### Settled items (round {rnd}; n of items_r{rnd}.jsonl)", "",
              "| n | lang | pass A | pass B | final | why |", "| ---: | --- | --- | --- | --- | --- |"]
    for n_, lang, fa, fb, final, why in disagree:
        lines.append(f"| {n_} | {lang} | {_fmt(fa, fids)} | {_fmt(fb, fids)} | {_fmt(final, fids)} | {why} |")
    lines += ["", f"Outcome: pass A's answer kept {chosen['A']} times, pass B's {chosen['B']} times, "
              f"a third answer {chosen['third']} times. The passes were again separate sessions of "
              "the same AI model with the same guide; the settling was done by the engineer "
              "session that chose the candidates (it read the items' texts and both notes, and "
              "knew each item's route), so the same caveats as round 1 apply.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
