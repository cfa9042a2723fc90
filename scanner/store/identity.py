"""Which stored item an incoming item is: ids shared through a URL, kept apart by entry key.

An item's id comes from its arXiv id, DOI, canonical URL, guid or text (see
scanner.normalize.stable_id). arXiv ids and DOIs are the same paper everywhere; a
guid or text id is its source's own. A canonical URL is neither: a homepage link,
`page#1` and `page#2`, or one article linked from two sources share it. `place`
decides, for one item of a batch, which id it takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Holder:
    """Who holds an item id: the stored row (or this batch's item) that has it."""

    source_id: str
    entry_key: str | None
    content_hash: str | None = None
    record_hash: str | None = None
    title: str | None = None


def slots(item: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The ids an item may take, in order, each with the entry key it is held under.

    Its id; for an id from a URL or from title and date, `alt_id` (its source and entry
    key); for a link without a guid, `title_alt_id` (link and title) as well.
    """
    key = item.get("entry_key")
    out = [(item["id"], key)]
    if item.get("alt_id"):
        out.append((item["alt_id"], key))
    if item.get("title_alt_id"):
        out.append((item["title_alt_id"], item.get("title_key")))
    return out


def _titled(holder: Holder, item: dict[str, Any]) -> bool:
    """Whether a holder has the item's title (its text, when the item has no title)."""
    return holder.title == item["title"] and (
        bool(item["title"]) or holder.content_hash == item["content_hash"])


def _same_entry(holder: Holder, item: dict[str, Any], key: str | None) -> bool:
    """Whether the holder of an id is this very entry (not a sibling, not another source)."""
    if holder.source_id != item["source_id"]:
        return False
    if holder.entry_key is None:  # stored before entry keys: the same title claims it
        return _titled(holder, item)
    return holder.entry_key == key


def _place_weak(item: dict[str, Any], stored: dict[str, Holder], taken: dict[str, Holder]
                ) -> tuple[str | None, str | None, str]:
    """An entry whose link is its only key (no guid): siblings are told apart by title.

    Among the rows its source holds for the link: the one with its title is it; else,
    when the source holds just one row for the link and no entry of this batch took
    it, that row is this entry edited (a URL without a guid is the item); else it takes
    its first free slot, so a newcomer under a shared homepage link never overwrites
    an entry that has left the feed.
    """
    options = slots(item)
    mine: list[tuple[str, str | None, Holder, bool]] = []  # this source's, and taken?
    free: tuple[str, str | None] | None = None
    elsewhere = False
    for candidate, key in options:
        holder, in_batch = taken.get(candidate), True
        if holder is None:
            holder, in_batch = stored.get(candidate), False
        if holder is None:
            free = free or (candidate, key)
        elif holder.source_id == item["source_id"]:
            if holder.entry_key in (None, key) and _titled(holder, item):
                return candidate, key, "duplicate" if in_batch else "stored"
            mine.append((candidate, key, holder, in_batch))
        elif holder.content_hash == item["content_hash"]:
            elsewhere = True
    if len(mine) == 1 and not mine[0][3] and mine[0][2].entry_key in (None, mine[0][1]):
        return mine[0][0], mine[0][1], "stored"
    if elsewhere and not mine:
        return None, None, "elsewhere"
    if free:
        return free[0], free[1], "new"
    return None, None, "duplicate"


def place(item: dict[str, Any], stored: dict[str, Holder], taken: dict[str, Holder]
          ) -> tuple[str | None, str | None, str]:
    """Where an item goes: (id, entry key, 'new' | 'stored' | 'duplicate'), or
    (None, None, 'elsewhere').

    An id from an arXiv id, a DOI or a guid is the item's whatever holds it. An id
    from a URL is held by one entry only: not by another source's item, nor by another
    entry of the same source (another guid, another fragment, or, for a link without
    a guid, another title); the others take their next slot, which is their own. A
    stored item without an entry key (stored before keys existed) is claimed by the
    entry of its source with its title, so existing ids are kept (a link without a guid:
    see _place_weak); another source's
    item with the very same text is not stored twice ('elsewhere'). `taken` holds the
    ids this batch has placed so far.
    """
    if item.get("weak_key"):
        return _place_weak(item, stored, taken)
    options = slots(item)
    shared = len(options) > 1  # the id may be another entry's
    for candidate, key in options:
        holder = taken.get(candidate)
        if holder is not None:
            if not shared or _same_entry(holder, item, key):
                return candidate, key, "duplicate"
            continue
        holder = stored.get(candidate)
        if holder is None:
            return candidate, key, "new"
        if not shared or _same_entry(holder, item, key):
            return candidate, key, "stored"
        if holder.source_id != item["source_id"] and \
                holder.content_hash == item["content_hash"]:
            return None, None, "elsewhere"
    return None, None, "duplicate"  # every slot holds this entry's siblings
