"""Normalizing untrusted feed text into the one item shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanner.ingest.normalize import (
    arxiv_id,
    canonical_url,
    clean_text,
    detect_language,
    make_item,
    normalize_doi,
    resolve_published,
    restore_arxiv_zeros,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_clean_text_strips_markup_scripts_and_controls() -> None:
    hostile = '<p onclick="x()">Hi <b>there</b><script>alert(1)</script>\x00\x07 &amp; you</p>'
    assert clean_text(hostile) == "Hi there & you"


def test_plain_text_keeps_angle_brackets() -> None:
    assert clean_text("for x<y and z>w", html=False) == "for x<y and z>w"


@pytest.mark.parametrize(("text", "lang"), [
    ("上海发布加快推进未来产业的若干措施", "zh"),
    ("A tokamak with high-temperature superconducting magnets", "en"),
    ("脑机接口 brain-computer interface 临床试验进展顺利", "zh"),
    ("We study 量子 error correction codes for superconducting qubits in depth", "en"),
    ("", "und"),
])
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(("value", "expected"), [
    ("http://arxiv.org/abs/2104.12255v1", ("2104.12255", 1)),
    ("https://arxiv.org/pdf/2104.12255v3", ("2104.12255", 3)),
    ("oai:arXiv.org:2501.01234v2", ("2501.01234", 2)),
    ("http://arxiv.org/abs/cond-mat/0603029v1", ("cond-mat/0603029", 1)),
    ("1001.0225", ("1001.0225", None)),
    ("https://example.org/abs/1234", (None, None)),
])
def test_arxiv_id(value: str, expected: tuple) -> None:
    assert arxiv_id(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("1801.0485", "1801.04850"),      # five digits from 1501 on
    ("1501.001", "1501.00100"),
    ("1912.1234v2", "1912.12340v2"),
    ("1412.123", "1412.1230"),        # four digits from 0704 to 1412
    ("0704.0001", "0704.0001"),       # complete ids are kept
    ("2503.13531", "2503.13531"),
    ("1001.0225", "1001.0225"),
    ("0612.123", "0612.123"),         # before 0704 there were no such ids: left alone
    ("1813.0485", "1813.0485"),       # no month 13: not an arXiv id
    ("cond-mat/0603029", "cond-mat/0603029"),
    ("12345", "12345"),
])
def test_restore_arxiv_zeros(value: str, expected: str) -> None:
    assert restore_arxiv_zeros(value) == expected


def test_canonical_url_drops_trackers_and_fragments() -> None:
    assert canonical_url("HTTP://Example.ORG:80/a/b/?utm_source=x&id=3#top") == \
        "https://example.org/a/b?id=3"


def test_doi_normalized() -> None:
    assert normalize_doi("https://doi.org/10.1103/PhysRevB.74.144509.") == \
        "10.1103/physrevb.74.144509"


def test_dates_missing_future_and_implausible_are_flagged() -> None:
    assert resolve_published(None, NOW) == (NOW, "missing")
    assert resolve_published(NOW + timedelta(days=30), NOW) == (NOW, "future")
    assert resolve_published(datetime(1, 1, 1, tzinfo=UTC), NOW) == (NOW, "implausible")
    real = datetime(2025, 9, 26, tzinfo=UTC)
    assert resolve_published(real, NOW) == (real, "ok")


def test_id_precedence_arxiv_doi_url_guid() -> None:
    base = dict(source_id="s", kind="paper", title="t", summary="s", fetched_at=NOW)
    assert make_item(**base, url="http://arxiv.org/abs/2104.12255v2", doi="10.1234/x")["id"] == \
        "arxiv:2104.12255"
    assert make_item(**base, url="https://j.org/p", doi="10.1234/X")["id"] == "doi:10.1234/x"
    by_url = make_item(**base, url="https://j.org/p?utm_medium=rss")
    assert by_url["id"] == make_item(**base, url="https://J.org/p")["id"]
    assert make_item(**base, guid="tag:1")["id"].startswith("guid:")
    assert make_item(**base)["id"].startswith("hash:")


def test_versions_share_one_item_but_change_the_record() -> None:
    base = dict(source_id="s", kind="paper", title="t", summary="s", fetched_at=NOW)
    v1 = make_item(**base, url="http://arxiv.org/abs/2104.12255v1")
    v2 = make_item(**base, url="http://arxiv.org/abs/2104.12255v2")
    assert v1["id"] == v2["id"] and v1["content_hash"] == v2["content_hash"]
    assert v1["record_hash"] != v2["record_hash"]


def test_lengths_are_bounded() -> None:
    item = make_item(source_id="s", kind="news", title="x" * 5000, summary="y" * 100_000,
                     fetched_at=NOW, url="https://e.org/" + "z" * 10_000)
    assert len(item["title"]) == 1000 and len(item["summary"]) == 20_000
    assert len(item["url"]) <= 2048


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_bidi_controls_are_removed_from_stored_text() -> None:
    item = make_item(source_id="s", kind="news", title=f"abc\u202edcba{BIDI}end",
                     summary=f"<p>sum\u2067mary</p>{BIDI}", fetched_at=NOW, guid="g",
                     authors=["Ann\u202e Lee", {"name": "x"}], categories=["c\u2066at"])
    assert item["title"] == "abcdcbaend" and item["summary"] == "summary"
    assert item["authors"] == ["Ann Lee"] and item["categories"] == ["cat"]


def test_bidi_controls_are_removed_from_source_names(tmp_path) -> None:
    from scanner.ingest.sources import load_sources

    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nid = "s1"\nname = "Daily \u202eswen\u202c"\nkind = "feed"\n'
                    'url = "https://e.org/rss"\nlanguage = "en"\nitem_kind = "news"\n',
                    encoding="utf-8")
    (source,) = load_sources(path)
    assert source.name == "Daily swen"


IMPOSSIBLE_DATES = [
    ("atom", "2003-13-01T15:51:30-0500"),  # month 13 (was stored as 2004-01-01, flag ok)
    ("atom", "-0001-01-01T00:00:00Z"),  # a negative year (was 2000-01-01)
    ("atom", "--01-01"),  # truncated: no year (was the current year)
    ("atom", "2026-11-32T00:00:00Z"),
    ("atom", "2026-02-29T00:00:00Z"),  # 2026 is no leap year
    ("atom", "2026-11-23T25:00:00Z"),
    ("atom", "2026-11-23T01:00:00+99:99"),
    ("atom", "2026-11-23T01:00:00+15:00"),
    ("rss", "Mon, 23 Nov 2026 01:00:00 +9999"),  # was shifted by days
    ("rss", "Mon, 32 Nov 2026 01:00:00 GMT"),
    ("rss", "Mon, 23 Nov 0000 01:00:00 GMT"),
    ("rss", "Mon, 23 Nov 2026 01:61:00 GMT"),
]
FINE_DATES = [
    ("atom", "2026-11-23T01:00:00+14:00"), ("atom", "2026-11-22T01:00:00-12:00"),
    ("atom", "2024-02-29T00:00:00Z"), ("atom", "2026-11-23"), ("atom", "2026-11-23T01:00Z"),
    ("atom", "2026-11-23T01:00:00.123456+08:00"), ("rss", "Mon, 23 Nov 2026 01:00:00 GMT"),
    ("rss", "23 Nov 2026 01:00 +0800"), ("rss", "Mon, 23 Nov 26 01:00:00 EST"),
    ("rss", "Mon, 23 Nov 2026 01:00:00 -1200"),
]


def _dated_feed(kind: str, raw: str) -> bytes:
    if kind == "atom":
        return ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t'
                f"</title><entry><id>urn:1</id><title>x</title><updated>{raw}</updated>"
                "</entry></feed>").encode()
    return ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
            f"<title>x</title><guid>1</guid><pubDate>{raw}</pubDate></item></channel></rss>"
            ).encode()


@pytest.mark.parametrize(("kind", "raw"), IMPOSSIBLE_DATES)
def test_dates_that_cannot_exist_are_implausible_with_the_raw_text_kept(kind: str,
                                                                         raw: str) -> None:
    from scanner.ingest.parse import parse_feed

    (item,) = parse_feed(_dated_feed(kind, raw), {}, source_id="s", item_kind="news",
                         fetched_at=NOW).items
    assert item["published_flag"] == "implausible", item["published"]
    assert item["published_raw"] == raw
    assert item["published"] == NOW.isoformat()  # the fetch time stands in


@pytest.mark.parametrize(("kind", "raw"), FINE_DATES)
def test_real_dates_stay_ok(kind: str, raw: str) -> None:
    from scanner.ingest.parse import parse_feed

    (item,) = parse_feed(_dated_feed(kind, raw), {}, source_id="s", item_kind="news",
                         fetched_at=NOW).items
    assert item["published_flag"] == "ok", raw


@pytest.mark.parametrize(("raw", "day"), [
    ("2025/06/10", "2025-06-10"), ("2025.6.1", "2025-06-01"), ("2025年6月10日", "2025-06-10"),
    ("June 10, 2025", "2025-06-10"), ("10 Jun 2025", "2025-06-10"), (20150101, "2015-01-01"),
    (1749513600, "2025-06-10"), (1749513600000, "2025-06-10"),
])
def test_dump_date_layouts_are_read(raw: object, day: str) -> None:
    """Dumps write dates these ways too; all of them were stored as "missing"."""
    from scanner.ingest.datecheck import parse_date_text

    parsed = parse_date_text(raw)
    assert parsed is not None and parsed.date().isoformat() == day


@pytest.mark.parametrize("raw", ["2025/13/45", "2025年2月30日", "abc", "12345678", True])
def test_a_date_that_cannot_exist_in_those_layouts_is_none(raw: object) -> None:
    from scanner.ingest.datecheck import parse_date_text

    assert parse_date_text(raw) is None
