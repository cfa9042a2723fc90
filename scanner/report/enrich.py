"""What the report adds to the ranked rows: reasons, topic labels in both languages.

Topic labels: the English label is the topic's keywords; the Chinese one comes from the
topic's Chinese keywords (its Chinese items) when it has any, else from the keywords of
its English items' Chinese summaries (a corpus's, kept at import), else from the
taxonomy's bilingual terms (the pathway or field whose English keywords the topic's
keywords name most), else there is none and the report says so rather than inventing one.
"""

from __future__ import annotations

import re
from typing import Any

from scanner.report.reasons import reason, short_reason


def topic_label_zh(ind: dict[str, Any], taxonomy: Any) -> tuple[str | None, str]:
    """(Chinese label, basis) of a topic; basis is keywords, summaries, taxonomy or none."""
    words = ind.get("keywords") or {}
    zh = [w for w in words.get("zh") or [] if w]
    if zh:
        return "、".join(zh[:3]), "keywords"
    from_summaries = _singulars(w for w in words.get("zh_summaries") or [] if w)
    if from_summaries:
        return "、".join(from_summaries[:3]), "summaries"
    text = " ".join(words.get("en") or []).lower()
    if not text:
        return None, "none"
    best: tuple[int, str] | None = None
    for f in taxonomy.active_fields:
        # a pathway's name on one matching term, the (broader) field's on two
        for name_zh, terms, needed in [(p.zh, p.keywords_en, 1) for p in f.pathways] + \
                [(f.zh, f.keywords_en + f.aliases_en, 2)]:
            hits = sum(1 for t in terms if t and re.search(
                rf"(?<![a-z0-9]){re.escape(t.lower())}(?![a-z0-9])", text))
            if hits >= needed and (best is None or hits > best[0]):
                best = (hits, name_zh)
    if best:
        return best[1], "taxonomy"
    return None, "none"


def distinct_labels(labels: dict[str, tuple[str | None, str]],
                    indicators: dict[str, dict[str, Any]]) -> dict[str, tuple[str | None, str]]:
    """Taxonomy-based labels that several topics share (nine topics once all read
    "超大模型") get each topic's leading English keyword that the others lack after them
    (its first keyword when it has none of its own), so the panel can tell them apart; a
    label from keywords or summaries is the topic's own and is kept."""
    shared: dict[str, list[str]] = {}
    for topic, (label, basis) in labels.items():
        if label and basis == "taxonomy":
            shared.setdefault(label, []).append(topic)
    out = dict(labels)
    for label, topics in shared.items():
        if len(topics) < 2:
            continue
        words = {t: [w for w in (indicators[t].get("keywords") or {}).get("en") or []
                     if w and w.lower() not in label.lower()] for t in topics}
        for topic in topics:
            others = {w.lower() for t in topics if t != topic for w in words[t]}
            own = next((w for w in words[topic] if w.lower() not in others),
                       words[topic][0] if words[topic] else None)
            if own:
                out[topic] = (f"{label} · {own}", "taxonomy")
    return out


def _singulars(words: Any) -> list[str]:
    """The words, less a Latin plural after its singular or before it (LLMs beside LLM)."""
    out: list[str] = []
    seen: set[str] = set()
    for word in words:
        stem = word.lower()[:-1] if word.isascii() and word.lower().endswith("s") else \
            word.lower()
        if stem not in seen:
            seen.add(stem)
            out.append(word)
    return out


def enrich(data: dict[str, Any], taxonomy: Any) -> None:
    """Add `reason` {zh, en} to every ranked row and Chinese labels to topics, in place."""
    for rows in data["lists"].values():
        for row in rows:
            row["reason"] = {"zh": reason(row, data, "zh"), "en": reason(row, data, "en")}
            row["reason_short"] = {"zh": short_reason(row, "zh"), "en": short_reason(row, "en")}
    first: dict[str, dict[str, Any]] = {}  # a topic's indicators, as the topics list has them
    for name in ("topics", "watchlist"):
        for row in data["lists"][name]:
            first.setdefault(row["entity_id"], row["indicators"])
    labelled = distinct_labels({t: topic_label_zh(ind, taxonomy) for t, ind in first.items()},
                               first)
    for name in ("topics", "watchlist"):
        for row in data["lists"][name]:
            ind = row["indicators"]
            ind["label_zh"], ind["label_zh_basis"] = labelled[row["entity_id"]]
            best = ind.get("best_field")
            if best in taxonomy.fields:
                ind["best_field_zh"] = taxonomy.fields[best].zh
                ind["best_field_en"] = taxonomy.fields[best].en
