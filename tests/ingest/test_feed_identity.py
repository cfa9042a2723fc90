"""Item identity (issue #20): no entry lost to a shared URL, no source overwriting another,
every entry not stored counted on its fetch row, ids of an existing store kept.

The feeds are tests/fixtures/identity_*.xml; store_v8.sql is the store the code before
this change left after fetching them once (schema 8, see the file's header).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from scanner.config import FetchSettings
from scanner.ingest.parse import parse_feed
from scanner.ingest.pull import pull_sources
from scanner.ingest.sources import Source
from scanner.store import Store
from scanner.testing.feedserver import FeedServer, body

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SETTINGS = FetchSettings(timeout_s=2.0, retries=0, default_host_delay_s=0.0, host_delay_s={})
BLOG = (FIXTURES / "identity_blog.xml").read_bytes()
OTHER = (FIXTURES / "identity_other.xml").read_bytes()
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
#: Entry counts that every fetch row must add up to.
ACCOUNTED = ("items_new", "items_changed", "items_unchanged", "items_duplicate",
             "items_elsewhere", "items_rejected")


def _rss(items: str) -> bytes:
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
            "</channel></rss>").encode()


def _pull(store: Store, server: FeedServer, feeds: dict[str, bytes]) -> list[dict]:
    sources = [Source(id=sid, name=sid, kind="feed", url=server.route(f"/{sid}.xml", body(
        data, "application/rss+xml")), language="en", item_kind="news")
        for sid, data in feeds.items()]
    before = len(store.recent_fetches())
    pull_sources(store, sources, SETTINGS)
    return store.recent_fetches()[before:]


def _accounted(*rows: dict) -> None:
    """Every entry of a fetch is stored or counted with its reason."""
    for row in rows:
        assert row["entries"] == sum(row.get(k) or 0 for k in ACCOUNTED), row


def _texts(store: Store) -> set[tuple[str, str]]:
    return {(r["title"], r["summary"]) for r in store.db["items"].rows}


def test_distinct_guids_fragments_and_a_shared_homepage_stay_distinct(
        store: Store, feed_server: FeedServer) -> None:
    (row,) = _pull(store, feed_server, {"blog": BLOG})
    titles = {r["title"] for r in store.db["items"].rows}
    assert {"Fragment a", "Fragment b", "Fragment c", "Home x", "Home y", "Home z"} <= titles
    assert (row["entries"], row["items_new"], row.get("items_duplicate")) == (9, 9, 0)
    (again,) = _pull(store, feed_server, {"blog": BLOG})
    assert (again["items_new"], again["items_unchanged"]) == (0, 9)
    _accounted(row, again)
    # the order of the entries does not change which stored item each one is
    parsed = parse_feed(BLOG, {}, source_id="blog", item_kind="news", fetched_at=NOW)
    counts = store.upsert_items(list(reversed(parsed.items)))
    assert (counts.new, counts.changed, counts.duplicates) == (0, 0, 0)
    assert store.db["items"].count == 9


def test_links_with_fragments_and_no_guid_stay_distinct(store: Store,
                                                         feed_server: FeedServer) -> None:
    items = "".join(f"<item><title>Section {s}</title><link>https://e.org/report#{s}</link>"
                    f"<description>part {s}</description></item>" for s in "abcd")
    (row,) = _pull(store, feed_server, {"frag": _rss(items)})
    assert row["items_new"] == 4 and store.db["items"].count == 4
    _accounted(row)


def test_a_shared_link_without_guids_keeps_titles_apart_night_after_night(
        store: Store, feed_server: FeedServer) -> None:
    def feed(*entries: tuple[str, str]) -> bytes:
        return _rss("".join(f"<item><title>{t}</title><link>https://gov.example/</link>"
                            f"<description>{d}</description></item>" for t, d in entries))

    a, b, c, d, e = ((f"Notice {x}", f"text {x}") for x in "ABCDE")
    nights = [feed(a, b, c), feed(d, a, b), feed(e), feed(("Notice A", "text A, corrected"))]
    rows = [_pull(store, feed_server, {"gov": night})[0] for night in nights]
    assert [(r["items_new"], r["items_unchanged"], r["items_changed"]) for r in rows] == [
        (3, 0, 0), (1, 2, 0), (1, 0, 0), (0, 0, 1)]
    assert _texts(store) == {("Notice A", "text A, corrected"), ("Notice B", "text B"),
                             ("Notice C", "text C"), ("Notice D", "text D"),
                             ("Notice E", "text E")}  # nothing overwritten by a newcomer
    _accounted(*rows)


def test_entries_with_only_a_description_stay_distinct(store: Store,
                                                       feed_server: FeedServer) -> None:
    items = "".join(f"<item><description>only text {n}</description></item>" for n in range(4))
    (row,) = _pull(store, feed_server, {"bare": _rss(items)})
    assert store.db["items"].count == 4 and row["items_new"] == 4
    (again,) = _pull(store, feed_server, {"bare": _rss(items)})
    assert again["items_unchanged"] == 4
    _accounted(row, again)


def test_another_source_never_overwrites_an_item(store: Store,
                                                 feed_server: FeedServer) -> None:
    first = _pull(store, feed_server, {"blog": BLOG})
    blog_items = {r["id"]: dict(r) for r in store.db["items"].rows}
    (row,) = _pull(store, feed_server, {"other": OTHER})
    for item_id, before in blog_items.items():  # every blog item is as it was
        after = store.item(item_id)
        assert after is not None and after["source_id"] == "blog"
        assert (after["title"], after["summary"]) == (before["title"], before["summary"])
    # its own text under a shared link is a new item; the same text is not stored twice
    assert ("Blog post one, as summarised here", "the aggregator's own summary") in \
        _texts(store)
    assert (row["items_new"], row.get("items_elsewhere")) == (2, 1)
    (again,) = _pull(store, feed_server, {"other": OTHER})
    assert (again["items_new"], again["items_unchanged"], again["items_elsewhere"]) == (0, 2, 1)
    _accounted(*first, row, again)


def test_duplicates_within_a_feed_are_counted_on_the_fetch_row(
        store: Store, feed_server: FeedServer) -> None:
    item = ("<item><title>{t}</title><guid>same</guid><link>https://e.org/s</link>"
            "<description>d</description></item>")
    (row,) = _pull(store, feed_server, {"dup": _rss(item.format(t="one") + item.format(t="two"))})
    assert (row["entries"], row["items_new"], row.get("items_duplicate")) == (2, 1, 1)
    _accounted(row)


def test_a_store_built_by_the_old_code_keeps_its_ids_and_recovers_lost_entries(
        tmp_path: Path, feed_server: FeedServer) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "store_v8.sql").read_text())
    conn.close()
    old = sqlite3.connect(path)
    old_ids = {r[0] for r in old.execute("SELECT id FROM items")}
    assert old.execute("SELECT max(version) FROM migrations").fetchone()[0] == 8
    old.close()
    assert len(old_ids) == 6  # the old code kept 6 of the 12 entries' 11 distinct texts

    store = Store(path)  # migrates to the current schema
    assert store.schema_version() >= 9
    blog, other = _pull(store, feed_server, {"blog": BLOG, "other": OTHER})
    ids = {r["id"] for r in store.db["items"].rows}
    assert old_ids <= ids  # no stored item changed its id
    assert blog["items_unchanged"] == 4  # the stored blog items are recognised
    assert blog["items_new"] == 5  # the entries the old identity merged away
    assert other["items_new"] == 0 and other["items_elsewhere"] == 1
    feeds = [parse_feed(data, {}, source_id=sid, item_kind="news", fetched_at=NOW)
             for sid, data in (("blog", BLOG), ("other", OTHER))]
    assert len(_texts(store)) == len({(i["title"], i["summary"]) for f in feeds
                                      for i in f.items}) == 11
    blog2, other2 = _pull(store, feed_server, {"blog": BLOG, "other": OTHER})
    assert blog2["items_new"] == other2["items_new"] == 0  # stable from now on
    assert blog2["items_unchanged"] == 9
    _accounted(blog, other, blog2, other2)
    store.close()
