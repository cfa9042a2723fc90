"""Feed hardening figures (issue #20): items lost, unsafe links, hangs. Part of
`make reliability`; alone: .venv/bin/python bench/feed_hardening.py [--no-corpus].

1. Generated hostile feeds, served from a local HTTP server (tests/feedserver.py) and
   pulled through the real path (scanner.ingest.pull_sources) into a fresh store:
   identity traps (guids differing after '#', one homepage link for distinct guids,
   fragments without guids, two sources sharing links), a JSON Feed of wrongly typed
   items, unsafe and relative links, bidi controls, dates that cannot exist, 60,000
   and 100,000 categories in one entry, a body past the element cap, a 503 with
   Retry-After: 86400, a gzip body that is not gzip, RSS served as JSON, redirects to
   javascript: and to an invalid IDNA host, a Chinese source's GBK bytes labelled
   UTF-8. Each feed's
   generator knows the titles it wrote: a title not stored is an item lost.
2. The shared feed corpus (../shared/data/feeds) plus tests/test_hostile.py's bodies,
   each as its own source through the ingest path (parse, then the fetch row and items
   in one transaction): distinct texts parsed but not stored, entries not accounted for
   on their fetch row, unsafe links stored.

Unsafe links: stored item URLs that are not absolute http(s), and hrefs that the
report's link function (scanner.links.safe_href, used by the templates) would make of
every stored URL and of a list of hostile URLs as an old store could hold them.
Hangs: a source whose fetch-and-parse takes over HANG_S, or a source with no fetch row.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
HANG_S = 30.0
BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ACCOUNTED = ("items_new", "items_changed", "items_unchanged", "items_duplicate",
             "items_elsewhere", "items_rejected")
OLD_STORE_URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
                  "vbscript:msgbox(1)", "data:text/html,<script>", " javascript:x",
                  "\x01javascript:x", "x", "example.com", "https://ok.example/"]


def _rss(items: list[str], base: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"{base}><channel>'
            f"<title>t</title>{''.join(items)}</channel></rss>").encode()


def _item(title: str, guid: str | None = None, link: str | None = None,
          date: str = "Mon, 23 Nov 2026 01:00:00 GMT") -> str:
    return (f"<item><title>{title}</title>" + (f"<guid>{guid}</guid>" if guid else "")
            + (f"<link>{link}</link>" if link else "")
            + f"<description>text of {title}</description><pubDate>{date}</pubDate></item>")


def _atom(categories: int) -> bytes:
    cats = "".join(f'<category term="c{i}"/>' for i in range(categories))
    return ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'
            f"<entry><id>urn:cat:{categories}</id><title>cats {categories}</title>"
            f"<updated>2026-11-23T00:00:00Z</updated>{cats}</entry>"
            f"<entry><id>urn:cat:{categories}:b</id><title>after cats {categories}</title>"
            "<updated>2026-11-23T00:00:00Z</updated></entry></feed>").encode()


UNSAFE_LINKS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java&#9;script:alert(1)",
                "java&#10;script:alert(1)", " javascript:alert(1)", "vbscript:msgbox(1)",
                "data:text/html;base64,PHNjcmlwdD4=", "DATA:text/html,x", "x", "example.com"]
IMPOSSIBLE = ["2003-13-01T15:51:30-0500", "-0001-01-01T00:00:00Z", "--01-01",
              "2026-11-32T00:00:00Z", "Mon, 23 Nov 2026 01:00:00 +9999",
              "Mon, 32 Nov 2026 01:00:00 GMT", "2026-02-29T00:00:00Z"]


def hostile_feeds() -> dict[str, dict[str, Any]]:
    """name -> {body, type, titles (that must be stored), headers?, status?}."""
    feeds: dict[str, dict[str, Any]] = {}

    def add(name: str, body: bytes, titles: list[str], kind: str = "application/rss+xml",
            **extra: Any) -> None:
        feeds[name] = {"body": body, "type": kind, "titles": titles, **extra}

    t = [f"frag guid {i}" for i in range(9)]
    add("guids differing after #", _rss([_item(x, guid=f"https://h.example/p#{i}")
                                          for i, x in enumerate(t)]), t)
    t = [f"home {i}" for i in range(5)]
    add("distinct guids, one homepage link",
        _rss([_item(x, guid=f"home-{i}", link="https://h.example/") for i, x in enumerate(t)]),
        t)
    t = [f"homepage, no guid {i}" for i in range(5)]
    add("one homepage link, no guids", _rss([_item(x, link="https://h.example/")
                                             for x in t]), t)
    feeds["entries with only a description"] = {
        "body": _rss([f"<item><description>only text {i}</description></item>"
                      for i in range(4)]),
        "type": "application/rss+xml", "titles": [], "texts": [f"only text {i}"
                                                               for i in range(4)]}
    t = [f"fragment link {i}" for i in range(4)]
    add("fragments, no guid", _rss([_item(x, link=f"https://h.example/r#s{i}")
                                    for i, x in enumerate(t)]), t)
    t = [f"source a {i}" for i in range(3)]
    add("two sources, shared links (a)", _rss([_item(x, guid=f"a{i}",
                                                     link=f"https://s.example/{i}")
                                               for i, x in enumerate(t)]), t)
    t = [f"source b {i}" for i in range(3)]
    add("two sources, shared links (b)", _rss([_item(x, guid=f"b{i}",
                                                     link=f"https://s.example/{i}")
                                               for i, x in enumerate(t)]), t)
    add("JSON Feed, wrongly typed items", json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": ["j"], "items": [
            {"id": "1", "title": "json good", "url": "https://j.example/1"},
            {"id": "2", "title": "json url list", "url": ["https://j.example/2", 5]},
            {"id": "3", "title": "json authors 5", "authors": 5},
            {"id": "4", "title": ["json", "title", "list"]},
            {"id": "5", "title": "json int date", "date_published": 1795000000},
            "json not an object", 7, None,
            {"id": {"x": 1}, "title": "json id object", "tags": "t", "url": {"u": 1}},
            {"id": "9", "title": "json good after", "content_html": ["<p>a</p>", "b"]}]}
    ).encode(), ["json good", "json url list", "json authors 5", "json title list",
                 "json int date", "json id object", "json good after"], "application/json")
    t = [f"unsafe link {i}" for i in range(len(UNSAFE_LINKS))]
    add("unsafe and relative links", _rss([_item(x, guid=f"u{i}", link=link)
                                           for i, (x, link) in enumerate(
                                               zip(t, UNSAFE_LINKS, strict=True))]), t)
    t = ["bidi \u202eesrever\u202c title", "bidi \u2067isolate\u2069", "bidi \u200fmark"]
    add("bidi controls", _rss([_item(x, guid=f"b{i}", link=f"https://b.example/{i}")
                               for i, x in enumerate(t)]), [BIDI.sub("", x) for x in t])
    t = [f"impossible date {i}" for i in range(len(IMPOSSIBLE))]
    add("dates that cannot exist", _rss([_item(x, guid=f"d{i}", date=d) for i, (x, d) in
                                         enumerate(zip(t, IMPOSSIBLE, strict=True))]),
        t, impossible=len(IMPOSSIBLE))
    add("60,000 categories in one entry", _atom(60_000), ["cats 60000", "after cats 60000"],
        "application/atom+xml")
    add("100,000 categories in one entry", _atom(100_000),
        ["cats 100000", "after cats 100000"], "application/atom+xml")
    add("1.2 million elements (past the cap)",
        _rss([_item("element bomb", guid="eb").replace(
            "<description>", "<description>" + "<b/>" * 1_200_000)]), [],
        expect="too_large")
    add("503, Retry-After: 86400", b"", [], status=503, headers={"Retry-After": "86400"},
        expect="http_error")
    add("gzip header, body not gzip", b"not gzip" * 50, [], headers={
        "Content-Encoding": "gzip"}, expect="decode_error")
    add("RSS served as application/json", _rss([_item("rss as json", guid="rj")]),
        ["rss as json"], "application/json")
    add("302 to javascript: (the night stopped here)", b"", [], status=302,
        headers={"Location": "javascript:alert(1)"}, expect="http_error")
    add("302 to an invalid IDNA host", b"", [], status=302,
        headers={"Location": "http://xn--a.com/feed"}, expect="http_error")
    t = ["量子计算取得新突破", "脑机接口临床试验启动"]
    add("GBK bytes labelled UTF-8, Chinese source",
        _rss([_item(x, guid=f"g{i}") for i, x in enumerate(t)]).decode("utf-8").encode("gbk"),
        t, language="zh")
    return feeds


def pulled_feeds() -> dict[str, Any]:
    """Serve hostile_feeds() locally, pull them all, count lost items, unsafe links, hangs."""
    from scanner.config import FetchSettings
    from scanner.ingest.links import safe_href
    from scanner.ingest.pull import pull_sources
    from scanner.ingest.sources import Source
    from scanner.store import Store
    from scanner.testing.feedserver import FeedServer

    feeds = hostile_feeds()
    server = FeedServer()
    sources = []
    for n, (name, feed) in enumerate(feeds.items()):
        def handler(request: Any, feed: dict[str, Any] = feed) -> None:
            request.send_response(feed.get("status", 200))
            request.send_header("Content-Type", feed["type"])
            for key, value in feed.get("headers", {}).items():
                request.send_header(key, value)
            request.send_header("Content-Length", str(len(feed["body"])))
            request.end_headers()
            request.wfile.write(feed["body"])

        url = server.route(f"/f{n}", handler)
        sources.append(Source(id=f"h{n:02d}", name=name, kind="feed", url=url,
                              language=feed.get("language", "en"), item_kind="news"))
    settings = FetchSettings(timeout_s=5.0, retries=2, backoff_s=0.2,
                             default_host_delay_s=0.0, host_delay_s={})
    seconds: dict[str, float] = {}
    last = [time.monotonic()]

    def tick(result: Any) -> None:
        now = time.monotonic()
        seconds[result.source_id] = now - last[0]
        last[0] = now

    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "s.db")
            started = time.monotonic()
            summary = pull_sources(store, sources, settings, on_source=tick)
            total_s = time.monotonic() - started
            rows = {r["source_id"]: r for r in store.recent_fetches()}
            items = list(store.db["items"].rows)
            store.close()
    finally:
        server.stop()
    titles = {i["title"] for i in items}
    summaries = {i["summary"] for i in items}
    out: dict[str, Any] = {"feeds": len(feeds), "total_s": total_s, "per_feed": []}
    lost = unaccounted = 0
    for source, (name, feed) in zip(sources, feeds.items(), strict=True):
        row = rows.get(source.id)
        missing = [t for t in feed["titles"] if t not in titles]
        missing += [t for t in feed.get("texts", []) if t not in summaries]
        lost += len(missing)
        if row:
            unaccounted += row["entries"] - sum(row[k] or 0 for k in ACCOUNTED)
        out["per_feed"].append({
            "name": name, "status": row["status"] if row else "NO ROW",
            "expected": feed.get("expect", "ok"), "seconds": round(seconds.get(source.id, 0), 2),
            "entries": row["entries"] if row else 0,
            "stored": len(feed["titles"]) + len(feed.get("texts", [])) - len(missing),
            "of": len(feed["titles"]) + len(feed.get("texts", [])),
            "attempts": row["attempts"] if row else 0,
            "notes": (row["notes"] or row["error_message"] or "")[:90] if row else ""})
    unsafe_stored = sum(1 for i in items if i["url"] and safe_href(i["url"]) != i["url"])
    hrefs = [safe_href(u) for u in [i["url"] for i in items] + OLD_STORE_URLS]
    unsafe_rendered = sum(1 for h in hrefs if h and not re.match(r"https?://[^/\s]", h))
    flagged = sum(1 for i in items if i["title"].startswith("impossible date")
                  and i["published_flag"] == "implausible")
    out.update(
        items_expected=sum(len(f["titles"]) + len(f.get("texts", [])) for f in feeds.values()),
        items_lost=lost,
        unaccounted=unaccounted, unsafe_links_stored=unsafe_stored,
        unsafe_hrefs=unsafe_rendered, hrefs_checked=len(hrefs),
        bidi_left=sum(1 for i in items if BIDI.search(f"{i['title']} {i['summary']}")),
        dates_flagged=flagged, dates_impossible=len(IMPOSSIBLE),
        hangs=sum(1 for s in seconds.values() if s > HANG_S) + len(sources) - len(rows),
        wrong_status=[p["name"] for p in out["per_feed"] if p["status"] != p["expected"]],
        sources_ok=summary.ok)
    return out


def corpus(inputs: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Each input as its own source through the ingest path: texts lost, entries unaccounted."""
    from scanner.config import FetchSettings
    from scanner.ingest.fetch import FetchOutcome
    from scanner.ingest.links import safe_href
    from scanner.ingest.pull import _fetch_row, parse_outcome
    from scanner.ingest.sources import Source
    from scanner.store import Store

    settings = FetchSettings()
    lost_texts = unaccounted = entries = stored_texts = dup_counted = 0
    slowest = ("", 0.0)
    lost_in: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s.db")
        for n, (name, body) in enumerate(inputs):
            source = Source(id=f"c{n:05d}", name=name[:60], kind="feed", language="en",
                            url=f"https://corpus.example/{n}.xml", item_kind="news")
            store.sync_sources([source.as_row()])
            outcome = FetchOutcome(url=source.url, status="ok", started_at=datetime.now(UTC),
                                   attempts=1, http_code=200, body=body,
                                   headers={"content-type": "application/xml"},
                                   final_url=source.url)
            started = time.monotonic()
            with contextlib.suppress(Exception):  # a crash is counted by bad_inputs
                status, parsed, message = parse_outcome(outcome, source, settings)
                row = _fetch_row(outcome, source, status, parsed, message, None)
                items = parsed.items if parsed and status == "ok" else []
                _, counts = store.record_fetch(row, items)
                entries += row["entries"]
                unaccounted += row["entries"] - (counts.new + counts.changed + counts.unchanged
                                                 + counts.duplicates + counts.elsewhere
                                                 + row["items_rejected"])
                dup_counted += counts.duplicates
                texts = {(i["title"], i["summary"]) for i in items}
                kept = {(r[0], r[1]) for r in store.db.execute(
                    "SELECT title, summary FROM items WHERE content_hash IN ({})".format(
                        ",".join("?" * len(items))), [i["content_hash"] for i in items])
                        } if items else set()
                if texts - kept:
                    lost_in.append(f"{name} ({len(texts - kept)})")
                lost_texts += len(texts - kept)
                stored_texts += len(texts & kept)
            elapsed = time.monotonic() - started
            if elapsed > slowest[1]:
                slowest = (name, elapsed)
        unsafe = sum(1 for (url,) in store.db.execute("SELECT url FROM items WHERE url IS "
                                                      "NOT NULL") if safe_href(url) != url)
        store.close()
    return {"inputs": len(inputs), "entries": entries, "texts_kept": stored_texts,
            "texts_lost": lost_texts, "duplicates_counted": dup_counted,
            "unaccounted": unaccounted, "unsafe_links_stored": unsafe, "slowest": slowest,
            "lost_in": lost_in}


def corpus_inputs() -> list[tuple[str, bytes]]:
    """The shared feed files (arXiv API responses unwrapped) and the hostile test bodies."""
    from scanner.testing.hostile import feed_inputs

    return feed_inputs(SHARED)


def print_tables(pulled: dict[str, Any], corp: dict[str, Any] | None) -> None:
    print("\n| hostile feed (pulled from a local server) | status | seconds | entries | "
          "titles stored | attempts | note |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for p in pulled["per_feed"]:
        mark = "" if p["status"] == p["expected"] else f" (expected {p['expected']})"
        note = p["notes"].replace("|", "/").replace("\n", " ")
        print(f"| {p['name']} | {p['status']}{mark} | {p['seconds']:.2f} | {p['entries']} | "
              f"{p['stored']} of {p['of']} | {p['attempts']} | {note} |")
    print("\n| feed hardening check | tried | target | measured |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| items lost (hostile feeds: titles or texts written, not stored) | "
          f"{pulled['items_expected']} | 0 | {pulled['items_lost']} |")
    print(f"| entries not accounted for on their fetch row (hostile feeds) | "
          f"{sum(p['entries'] for p in pulled['per_feed'])} | 0 | {pulled['unaccounted']} |")
    print(f"| unsafe links stored (hostile feeds) | {len(UNSAFE_LINKS)} | 0 | "
          f"{pulled['unsafe_links_stored']} |")
    print(f"| unsafe hrefs (stored URLs + {len(OLD_STORE_URLS)} old-store URLs) | "
          f"{pulled['hrefs_checked']} | 0 | {pulled['unsafe_hrefs']} |")
    print(f"| bidi controls left in stored text | 3 | 0 | {pulled['bidi_left']} |")
    print(f"| impossible dates flagged implausible | {pulled['dates_impossible']} | "
          f"{pulled['dates_impossible']} | {pulled['dates_flagged']} |")
    print(f"| hangs (a source over {HANG_S:g} s, or no fetch row) | {pulled['feeds']} | 0 | "
          f"{pulled['hangs']} |")
    print(f"| feeds with another status than expected | {pulled['feeds']} | 0 | "
          f"{len(pulled['wrong_status'])} |")
    if corp:
        parsed_texts = corp["texts_kept"] + corp["texts_lost"]
        print(f"| corpus: distinct texts parsed, not stored | {parsed_texts} | 0 | "
              f"{corp['texts_lost']} |")
        print(f"| corpus: entries not accounted for | {corp['entries']} | 0 | "
              f"{corp['unaccounted']} |")
        print(f"| corpus: unsafe links stored | {corp['inputs']} inputs | 0 | "
              f"{corp['unsafe_links_stored']} |")
    print(f"\nall {pulled['feeds']} hostile feeds pulled in {pulled['total_s']:.1f} s")
    if corp:
        print(f"corpus: {corp['inputs']} inputs, {corp['entries']} entries, "
              f"{corp['duplicates_counted']} counted as duplicates within their feed; slowest "
              f"{corp['slowest'][0]} {corp['slowest'][1]:.2f} s; texts not stored in: "
              f"{', '.join(corp['lost_in'][:10]) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-corpus", action="store_true", help="only the hostile feeds")
    args = parser.parse_args()
    pulled = pulled_feeds()
    corp = None if args.no_corpus or not SHARED.is_dir() else corpus(corpus_inputs())
    print_tables(pulled, corp)


if __name__ == "__main__":
    main()
