"""Hostile feed bodies (entity bombs, external entities, broken encodings, huge or
endless documents) shared by the tests and bench/reliability.py."""

from __future__ import annotations

import gzip
from pathlib import Path

SECRET = Path("/etc/hostname")


def _rss(items: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{head}<rss version="2.0"><channel>'
            f"<title>t</title>{items}</channel></rss>").encode()


def _item(title: str, guid: str = "g", date: str = "Mon, 23 Nov 2026 01:00:00 GMT",
          link: str = "https://example.org/a", description: str = "d") -> str:
    return (f"<item><title>{title}</title><guid>{guid}</guid><link>{link}</link>"
            f"<pubDate>{date}</pubDate><description>{description}</description></item>")


LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;'
          '&lol;&lol;&lol;&lol;&lol;">' + "".join(
              f'<!ENTITY lol{n} "' + f"&lol{n - 1};" * 10 + '">' for n in range(2, 10)) + "]>")
XXE = f'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file://{SECRET}">]>'

HOSTILE: dict[str, bytes] = {
    "malformed xml": b"<?xml version='1.0'?><rss><channel><item><title>x</titl></item>",
    "billion laughs": _rss(_item("&lol9;"), LAUGHS),
    "external entity": _rss(_item("&xxe;", description="&xxe;"), XXE),
    "invalid utf-8": _rss(_item("ok")).replace(b"ok", b"\xff\xfe\xfa ok \xc3\x28"),
    "declared gb2312, really utf-8": _rss(_item("量子计算")).replace(b"utf-8", b"gb2312"),
    "year 1": _rss(_item("old", date="Mon, 01 Jan 0001 00:00:00 GMT")),
    "year 9999": _rss(_item("future", date="Fri, 31 Dec 9999 23:59:59 GMT")),
    "10,000 entries": _rss("".join(_item(f"t{i}", guid=f"g{i}") for i in range(10_000))),
    "empty titles": _rss(_item("") + _item("   ", guid="g2")),
    "script and handlers": _rss(_item("&lt;script&gt;alert(1)&lt;/script&gt;x",
                                      description="&lt;img src=x onerror=alert(1)&gt;y")),
    "control characters": _rss(_item("a\x01\x02\x1b[31mred\x7f")),
    "very long url": _rss(_item("u", link="https://example.org/" + "a" * 100_000)),
    "duplicate ids, different content": _rss(_item("first", guid="same")
                                            + _item("second", guid="same")),
    "html page": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "gzip bytes (undecoded)": gzip.compress(_rss(_item("zipped"))),
    "binary": bytes(range(256)) * 100,
}


def feed_inputs(shared_data: Path) -> list[tuple[str, bytes]]:
    """The hostile bodies and every recorded feed under `shared_data`/feeds (arXiv API
    responses unwrapped from their JSON), as (name, bytes)."""
    import contextlib
    import json

    inputs: list[tuple[str, bytes]] = list(HOSTILE.items())
    for path in sorted(p for p in (shared_data / "feeds").rglob("*") if p.is_file()):
        raw = path.read_bytes()
        if path.suffix == ".json":
            with contextlib.suppress(ValueError, KeyError, TypeError):
                raw = json.loads(raw)["body"].encode()
        inputs.append((str(path.relative_to(shared_data)), raw))
    return inputs

