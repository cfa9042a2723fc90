"""Links from feeds (issue #20): only absolute http(s) URLs become hrefs, relative ones are
resolved against xml:base or the feed's URL, everything else is shown as text.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scanner.ingest.normalize import make_item
from scanner.ingest.parse import parse_feed

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
FEED = "https://news.example/feeds/all.xml"

UNSAFE = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
          "java\nscript:alert(1)", "  javascript:alert(1)", "\x01\x02javascript:alert(1)",
          "\u202ejavascript:alert(1)", "vbscript:msgbox(1)", "VBScript:msgbox(1)",
          "data:text/html;base64,PHNjcmlwdD4=", " DATA:text/html,<script>", "file:///etc/passwd",
          "mailto:a@b.example", "http:no-host", "https://", "http://[::1", ""]


@pytest.mark.parametrize("url", UNSAFE)
def test_unsafe_links_are_no_links(url: str) -> None:
    from scanner.ingest.links import safe_href

    assert safe_href(url, FEED) is None
    item = make_item(source_id="s", kind="news", title="t", summary="", fetched_at=NOW,
                     url=url, guid="g", base_url=FEED)
    assert item["url"] is None and item["title"] == "t"  # the entry is kept, as text


@pytest.mark.parametrize(("url", "base", "expected"), [
    ("x", FEED, "https://news.example/feeds/x"),
    ("example.com", FEED, "https://news.example/feeds/example.com"),
    ("/a/b?c=1#d", FEED, "https://news.example/a/b?c=1#d"),
    ("//cdn.example/p", FEED, "https://cdn.example/p"),
    ("x", None, None),
    ("x", "javascript:alert(1)", None),
    ("HTTPS://News.Example/A", None, "https://News.Example/A"),
    (" https://e.example/a b\t", None, "https://e.example/a%20b"),
    ("https://e.example/\u202ex", None, "https://e.example/x"),
])
def test_links_are_resolved_and_normalized(url: str, base: str | None,
                                           expected: str | None) -> None:
    from scanner.ingest.links import safe_href

    assert safe_href(url, base) == expected


def test_unsafe_feed_links_are_not_stored_and_the_entries_are() -> None:
    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
           b"<item><title>script</title><guid>3</guid><link>JaVaScRiPt:alert(1)</link></item>"
           b"<item><title>tabbed</title><guid>4</guid><link>java&#9;script:alert(1)</link>"
           b"</item><item><title>data</title><guid>5</guid><link> data:text/html,x</link>"
           b"</item><item><title>vb</title><guid>6</guid><link>vbscript:x</link></item>"
           b"</channel></rss>")
    parsed = parse_feed(rss, {}, source_id="s", item_kind="news", fetched_at=NOW)
    assert {i["title"]: i["url"] for i in parsed.items} == {
        "script": None, "tabbed": None, "data": None, "vb": None}


def test_feed_links_use_xml_base_then_the_feed_url() -> None:
    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
           b"<item><title>relative</title><guid>2</guid><link>y</link></item>"
           b'<item xml:base="https://base.example/dir/"><title>based</title><guid>1</guid>'
           b"<link>x</link></item>"
           b"</channel></rss>")
    parsed = parse_feed(rss, {}, source_id="s", item_kind="news", fetched_at=NOW,
                        base_url=FEED)
    urls = {i["title"]: i["url"] for i in parsed.items}
    assert urls == {"based": "https://base.example/dir/x",
                    "relative": "https://news.example/feeds/y"}


def test_json_feed_links_are_checked_too() -> None:
    import json

    data = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "1", "title": "a", "url": "javascript:alert(1)"},
        {"id": "2", "title": "b", "url": "p/2"}]}).encode()
    parsed = parse_feed(data, {}, source_id="s", item_kind="news", fetched_at=NOW,
                        base_url=FEED)
    assert [i["url"] for i in parsed.items] == [None, "https://news.example/feeds/p/2"]
