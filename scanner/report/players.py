"""Key players per field and topic: sources, venues, authors and organisations.

Counted over the items behind each ranked row since the start of the run's periods, with
a trend: the player's share of the entity's items in the active window against the base
window ("new" when it had none before). Venues are arXiv primary categories; authors
only where items name them; organisations are jieba's `nt` (organisation) words in the
titles and summary openings of Chinese items, when jieba is installed. Kinds a corpus
does not have are left out, never shown as zero.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from scanner.signals.indicators import thirds

TOP = 5
#: jieba's organisation words (`nt`) are kept when they end like an organisation's name
#: or are at least MIN_ORG_CHARS long ("新进展" is tagged nt too).
MIN_ORG_CHARS = 4
ORG_ENDINGS = ("公司", "集团", "大学", "学院", "研究院", "研究所", "科学院", "工程院", "委员会",
               "部", "局", "院", "中心", "银行", "协会", "学会", "实验室", "厅", "署", "办",
               "基金会", "联盟", "所")
#: Words jieba tags nt that name no organisation.
ORG_STOP = frozenset({"新兴产业", "未来产业", "新进展", "科研院所", "研究机构", "有关部门"})
#: Organisations and authors are shown from this many items (one mention is noise).
MIN_MENTIONS = 2


def period_start(label: str) -> str:
    """The first day of a period label: 2024-Q3, 2024-H2, 2024-05 or 2024."""
    year = label[:4]
    rest = label[5:]
    if rest.startswith("Q"):
        return f"{year}-{(int(rest[1]) - 1) * 3 + 1:02d}-01"
    if rest.startswith("H"):
        return f"{year}-{'01' if rest[1] == '1' else '07'}-01"
    if len(rest) == 2 and rest.isdigit():
        return f"{year}-{rest}-01"
    return f"{year}-01-01"


def active_start(row: dict[str, Any]) -> str | None:
    """The first day of a row's active window (its first used stream's)."""
    ind = row["indicators"]
    periods = ind.get("periods") or []
    streams = ind.get("streams") or {}
    used = [k for k in ind.get("streams_used") or [] if k in streams]
    first = int(streams[used[0]].get("first_period") or 0) if used else 0
    own = periods[first:]
    if len(own) < 2:
        return None
    return period_start(own[thirds(len(own))[1].start])


def _organisations(titles: dict[str, str]) -> dict[str, list[str]]:
    """Organisation names (jieba `nt`) per item id; empty when jieba is missing."""
    try:
        import jieba
        import jieba.posseg as pseg
    except ImportError:
        return {}
    jieba.setLogLevel(logging.WARNING)
    out = {}
    for item_id, title in titles.items():
        words = {w.word for w in pseg.cut(title or "") if w.flag == "nt"
                 and (len(w.word) >= MIN_ORG_CHARS or w.word.endswith(ORG_ENDINGS))
                 and len(w.word) >= 2 and w.word not in ORG_STOP}
        if words:
            out[item_id] = sorted(words)
    return out


def _authors(value: Any) -> list[str]:
    if not value:
        return []
    try:
        names = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return [str(n) for n in names if n] if isinstance(names, list) else []


def _trend(recent: int, earlier: int, n_recent: int, n_earlier: int) -> str:
    if not earlier:
        return "new" if recent else "="
    if not n_recent:
        return "down"
    ratio = (recent / n_recent) / (earlier / n_earlier)
    return "up" if ratio > 1.25 else "down" if ratio < 0.8 else "="


def _top(counter_recent: Counter[str], counter_earlier: Counter[str], n_recent: int,
         n_earlier: int, least: int = 1) -> list[dict[str, Any]]:
    total = counter_recent + counter_earlier
    return [{"name": name, "items": n,
             "trend": _trend(counter_recent[name], counter_earlier[name], n_recent, n_earlier)}
            for name, n in total.most_common(TOP) if n >= least]


def aggregate(facts: Iterable[dict[str, Any]], starts: dict[str, str | None],
              orgs: dict[str, list[str]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per entity: top sources, venues, authors and organisations with counts and trend."""
    counters: dict[str, dict[str, list[Counter[str]]]] = defaultdict(
        lambda: {k: [Counter(), Counter()] for k in ("sources", "venues", "authors", "orgs")})
    sizes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in facts:
        entity = f["entity_id"]
        if entity not in starts:
            continue
        start = starts[entity]
        slot = 0 if start is None or (f["published"] or "") >= start else 1
        sizes[entity][slot] += 1
        c = counters[entity]
        if f["source_id"]:
            c["sources"][slot][str(f["source_id"])] += 1
        if f["primary_category"]:
            c["venues"][slot][str(f["primary_category"])] += 1
        for name in _authors(f["authors"]):
            c["authors"][slot][name] += 1
        for name in orgs.get(f["item_id"], []):
            c["orgs"][slot][name] += 1
    out = {}
    for entity, c in counters.items():
        n_recent, n_earlier = sizes[entity]
        tops = {k: _top(v[0], v[1], n_recent, n_earlier,
                        MIN_MENTIONS if k in ("orgs", "authors") else 1) for k, v in c.items()}
        out[entity] = {k: v for k, v in tops.items() if v}
    return out


def key_players(store: Any, lists: dict[str, list[dict[str, Any]]], since: str | None,
                until: str) -> dict[str, dict[str, dict[str, list[dict[str, Any]]]]]:
    """{"fields": {id: players}, "topics": {id: players}} for the ranked rows, over the
    items published from `since` to the run date `until`."""
    fields, topics = lists.get("fields") or [], (lists.get("topics") or []) + \
        (lists.get("watchlist") or [])
    since = since or "0000"
    out: dict[str, dict[str, Any]] = {"fields": {}, "topics": {}}
    groups = []
    if fields:
        groups.append(("fields", fields, store.field_player_facts(
            fields[0]["taxonomy"], fields[0]["model"], since, until)))
    if topics:
        groups.append(("topics", topics, store.topic_player_facts(topics[0]["model"], since,
                                                                  until)))
    titles = {f["item_id"]: f"{f['title'] or ''}。{f.get('lead') or ''}"
              for _, _, facts in groups for f in facts
              if (f["language"] or "").startswith("zh")}
    orgs = _organisations(titles) if titles else {}
    for name, rows, facts in groups:
        starts = {r["entity_id"]: active_start(r) for r in rows}
        out[name] = aggregate(facts, starts, orgs)
    return out
