"""The real HTTP path against a local server on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from scanner.config import FetchSettings
from scanner.ingest.fetch import HostThrottle, fetch_url, make_client
from scanner.ingest.pull import pull_sources
from scanner.ingest.sources import Source
from scanner.store import Store
from scanner.testing.feedserver import FeedServer, body, conditional, endless, redirect, slow
from tests.support.paths import shared_path

SETTINGS = FetchSettings(timeout_s=1.0, max_bytes=300_000, retries=1, backoff_s=0.01,
                         default_host_delay_s=0.0, host_delay_s={})

ZH_RSS = (
    '<?xml version="1.0" encoding="gb2312"?><rss version="2.0"><channel><title>科技</title>'
    "<item><title>脑机接口新进展</title><link>http://news.example.cn/1</link>"
    "<description>上海发布未来产业集群行动方案</description>"
    "<pubDate>Mon, 23 Nov 2026 01:00:00 GMT</pubDate></item></channel></rss>"
).encode("gb2312")


def _source(sid: str, url: str, language: str = "en") -> Source:
    return Source(id=sid, name=sid, kind="feed", url=url, language=language, item_kind="news")


@pytest.fixture
def recorded_feed() -> bytes:
    return shared_path("feeds", "feedjira_sample_feeds", "TechCrunch.xml").read_bytes()


def test_conditional_get_then_304(feed_server: FeedServer, store: Store,
                                  recorded_feed: bytes) -> None:
    url = feed_server.route("/tc.xml", conditional(recorded_feed, '"v1"',
                                                   "application/rss+xml"))
    source = _source("tc", url)
    first = pull_sources(store, [source], SETTINGS).results[0]
    assert first.status == "ok" and first.counts.new == 20
    second = pull_sources(store, [source], SETTINGS).results[0]
    assert second.status == "not_modified" and second.counts.new == 0
    sent = feed_server.request_headers["/tc.xml"][1]
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 23 Nov 2026 01:00:00 GMT"
    assert sent["user-agent"].startswith("horizon-scanner/")
    assert store.db["items"].count == 20


def test_server_error_is_retried_then_recorded(feed_server: FeedServer) -> None:
    url = feed_server.route("/500", body(b"oops", "text/plain", status=500))
    with make_client(SETTINGS) as client:
        outcome = fetch_url(client, url, SETTINGS)
    assert outcome.status == "http_error" and outcome.http_code == 500
    assert outcome.attempts == 2 and feed_server.hits["/500"] == 2


def test_not_found_is_not_retried(feed_server: FeedServer) -> None:
    with make_client(SETTINGS) as client:
        outcome = fetch_url(client, feed_server.url("/missing"), SETTINGS)
    assert outcome.status == "http_error" and outcome.http_code == 404
    assert feed_server.hits["/missing"] == 1


def test_slow_response_times_out(feed_server: FeedServer, recorded_feed: bytes) -> None:
    url = feed_server.route("/slow", slow(recorded_feed, delay_s=3.0))
    started = time.monotonic()
    with make_client(SETTINGS) as client:
        outcome = fetch_url(client, url, SETTINGS)
    assert outcome.status == "timeout"
    assert time.monotonic() - started < 5.0  # two attempts of 1 s each, not the 3 s answer


def test_oversized_bodies_are_cut(feed_server: FeedServer) -> None:
    streamed = feed_server.route("/endless", endless(b"<!-- padding -->" * 4096, 1000))
    declared = feed_server.route("/declared", body(b"x" * 400_000))
    bomb = feed_server.route("/bomb", body(b"<rss>" + b" " * 50_000_000 + b"</rss>",
                                           gzip_it=True))
    with make_client(SETTINGS) as client:
        for url in (streamed, declared, bomb):
            outcome = fetch_url(client, url, SETTINGS)
            assert outcome.status == "too_large", url
            assert len(outcome.body) == 0


def test_gzip_and_redirect(feed_server: FeedServer, recorded_feed: bytes) -> None:
    feed_server.route("/gz", body(recorded_feed, "application/rss+xml", gzip_it=True))
    url = feed_server.route("/old", redirect("/gz"))
    with make_client(SETTINGS) as client:
        outcome = fetch_url(client, url, SETTINGS)
    assert outcome.status == "ok" and outcome.body == recorded_feed
    assert outcome.final_url and outcome.final_url.endswith("/gz")


def test_a_url_that_cannot_be_parsed_is_a_row_not_a_crash() -> None:
    with make_client(SETTINGS) as client:
        for url in ("http://[::1/feed", "http://xn--a.com/feed"):
            outcome = fetch_url(client, url, SETTINGS)
            assert (outcome.status, outcome.error_class) == ("http_error", "BadURL"), url


def test_a_304_with_a_location_header_is_not_modified(feed_server: FeedServer) -> None:
    """Only a redirect's Location is checked: a 304 may carry one and is not followed."""
    url = feed_server.route("/nm", body(b"", status=304,
                                        headers={"Location": "javascript:alert(1)"}))
    with make_client(SETTINGS) as client:
        outcome = fetch_url(client, url, SETTINGS)
    assert outcome.status == "not_modified", outcome


def test_host_throttle_spaces_requests() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = HostThrottle({"export.arxiv.org": 3.0}, 0.5, clock=lambda: now[0], sleep=sleep)
    throttle.wait("export.arxiv.org")
    now[0] += 1.0
    throttle.wait("export.arxiv.org")
    throttle.wait("other.example")
    assert slept == [2.0]


def test_misbehaving_sources_each_get_a_row_and_the_run_goes_on(
    feed_server: FeedServer, store: Store, recorded_feed: bytes, tmp_path: Path
) -> None:
    html = b"<!DOCTYPE html><html><head><title>Login</title></head><body>hi</body></html>"
    routes = {
        "good": feed_server.route("/good", body(recorded_feed, "application/rss+xml")),
        "html": feed_server.route("/html", body(html, "text/html; charset=utf-8")),
        "error": feed_server.route("/err", body(b"", status=503)),
        "slow": feed_server.route("/slow", slow(recorded_feed, 3.0)),
        "huge": feed_server.route("/huge", endless(b"A" * 65536, 100)),
        "charset": feed_server.route(
            "/charset", body(ZH_RSS, "application/rss+xml; charset=utf-8")),
        "gzip": feed_server.route("/gzip", body(ZH_RSS.replace(b"cn/1", b"cn/2"),
                                                "application/rss+xml", gzip_it=True)),
        "empty": feed_server.route("/empty", body(b"", "application/rss+xml")),
        "garbage": feed_server.route("/garbage", body(b"\x00\xff\xfe binary", "text/xml")),
        "refused": "http://127.0.0.1:9/feed.xml",
        # a redirect to a script URL made httpx raise InvalidURL, which stopped the pull
        "js_redirect": feed_server.route("/js", redirect("javascript:alert(1)")),
        "mail_redirect": feed_server.route("/mail", redirect("mailto:someone@example.org")),
        # an http URL whose host is no valid IDNA name: httpx raises an idna error
        "idna_redirect": feed_server.route("/idna", redirect("http://xn--a.com/feed")),
    }
    sources = [_source(sid, url) for sid, url in routes.items()]
    summary = pull_sources(store, sources, SETTINGS)
    status = {r.source_id: r for r in summary.results}
    assert status["good"].status == "ok" and status["good"].counts.new == 20
    assert status["html"].status == "not_a_feed" and "HTML" in (status["html"].message or "")
    assert status["error"].status == "http_error" and status["error"].http_code == 503
    assert status["slow"].status == "timeout"
    assert status["huge"].status == "too_large"
    assert status["charset"].status == "ok" and status["charset"].bozo
    assert status["charset"].counts.new == 1
    assert status["gzip"].status == "ok" and status["gzip"].counts.new == 1
    assert status["empty"].status == "not_a_feed"
    assert status["garbage"].status == "not_a_feed"
    assert status["refused"].status == "network_error"
    for bad in ("js_redirect", "mail_redirect"):
        assert status[bad].status == "http_error", status[bad]
        assert "not an http(s) URL: not followed" in (status[bad].message or "")
    (item,) = [store.item(i["id"]) for i in store.db["items"].rows_where("source_id = 'gzip'")]
    assert item is not None
    assert item["title"] == "脑机接口新进展" and item["language"] == "zh"
    rows = {r["source_id"]: r for r in store.recent_fetches()}
    assert set(rows) == set(routes)
    assert rows["charset"]["bozo_class"] == "CharacterEncodingOverride"
    assert rows["huge"]["error_class"] == "ResponseTooLarge"
    assert rows["html"]["error_message"]
    assert store.db["sources"].get("good")["etag"] is None  # no validator sent, none kept
    assert rows["js_redirect"]["error_class"] == "BadRedirect"
    assert status["idna_redirect"].status == "http_error"
    assert rows["idna_redirect"]["error_class"] == "BadURL"
    assert summary.ok == 3 and summary.failed == 10


def test_failed_fetch_keeps_what_was_stored(feed_server: FeedServer, store: Store,
                                            recorded_feed: bytes) -> None:
    feed_server.route("/flaky", body(recorded_feed, "application/rss+xml"))
    source = _source("flaky", feed_server.url("/flaky"))
    pull_sources(store, [source], SETTINGS)
    before = store.item_fingerprint()
    feed_server.route("/flaky", body(b"<html>maintenance</html>", "text/html"))
    result = pull_sources(store, [source], SETTINGS).results[0]
    assert result.status == "not_a_feed"
    assert store.item_fingerprint() == before
    assert store.db["sources"].get("flaky")["last_status"] == "not_a_feed"
    assert store.db["sources"].get("flaky")["last_ok_at"]



def test_a_date_range_backfill_pages_through_the_arxiv_api_until_a_short_page(
        feed_server: FeedServer, store: Store) -> None:
    """Six recorded pages of ten arXiv entries, then an empty page: 60 items, seven fetch
    rows, the query restricted to the range; the source's ETag for the nightly is kept."""
    import json
    from urllib.parse import parse_qs, urlsplit

    from scanner.ingest.pull import pull_date_range
    from scanner.ingest.sources import arxiv_range_url

    source = Source(id="arxiv-testing", name="t", kind="arxiv_api", language="en",
                    item_kind="paper",
                    url=feed_server.url("/api/query?search_query=testing&start=0"))
    store.sync_sources([source.as_row()])
    store.db["sources"].update(source.id, {"etag": '"nightly"'})
    for page in range(6):
        recorded = json.loads(shared_path("feeds", "arxiv_api_responses").glob(
            f"q_testing_s{page * 10}_m10_*.json").__next__().read_text())
        url = arxiv_range_url(source.url, "2016-01-01", "2016-12-31", page * 10, 10)
        feed_server.route(url[len(feed_server.base):], body(recorded["body"].encode(),
                                                            "application/atom+xml"))
    empty = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
             b"<title>arXiv Query</title></feed>")
    last = arxiv_range_url(source.url, "2016-01-01", "2016-12-31", 60, 10)
    feed_server.route(last[len(feed_server.base):], body(empty, "application/atom+xml"))

    summary = pull_date_range(store, [source], SETTINGS, "2016-01-01", "2016-12-31",
                              page_size=10, max_pages=20)
    assert [r.entries for r in summary.results] == [10] * 6 + [0]
    assert summary.totals()["items_new"] == store.db["items"].count == 60
    query = parse_qs(urlsplit(last).query)
    assert query["search_query"] == ["(testing) AND submittedDate:[201601010000 TO "
                                     "201612312359]"] and query["sortOrder"] == ["ascending"]
    assert store.source_state(source.id)["etag"] == '"nightly"'

    capped = pull_date_range(store, [source], SETTINGS, "2016-01-01", "2016-12-31",
                             page_size=10, max_pages=2)
    assert len(capped.results) == 2 and capped.totals()["items_new"] == 0  # nothing twice


def test_backfill_takes_a_dump_or_a_date_range(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import cli
    from scanner.config import load_config
    from scanner.errors import ConfigError
    from scanner.run import RunContext
    from scanner.run.backfill import backfill_range_stage

    runner = CliRunner()
    neither = runner.invoke(cli, ["--db", str(tmp_path / "s.db"), "backfill", "--from",
                                  "2016-01-01"])
    assert neither.exit_code == 2 and "--from and --to" in neither.output
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nid = "feed-a"\nname = "a"\nkind = "feed"\n'
                       'url = "http://127.0.0.1:9/x"\nlanguage = "en"\nitem_kind = "news"\n')
    config = load_config(None, {"db_path": str(tmp_path / "s.db"),
                                "sources_file": str(sources)}, environ={})
    with pytest.raises(ConfigError, match="and none is enabled"):
        backfill_range_stage(RunContext(config), "2016-01-01", "2016-12-31")
    with pytest.raises(ConfigError, match="is after"):
        backfill_range_stage(RunContext(config), "2017-01-01", "2016-12-31")


def test_a_long_retry_after_is_not_waited_for(feed_server: FeedServer) -> None:
    """503 with Retry-After: 86400 cost 2 x 60 s per source; now no retry, and why."""
    url = feed_server.route("/later", body(b"", status=503, headers={"Retry-After": "86400"}))
    slept: list[float] = []
    settings = FetchSettings(timeout_s=1.0, retries=2, backoff_s=0.01,
                             default_host_delay_s=0.0, host_delay_s={})  # cap: 30 s
    with make_client(settings) as client:
        outcome = fetch_url(client, url, settings, sleep=slept.append)
    assert (outcome.status, outcome.attempts, slept) == ("http_error", 1, [])
    assert "Retry-After 86400 s is beyond retry_after_max_s" in (outcome.error_message or "")
    assert feed_server.hits["/later"] == 1


def test_a_short_retry_after_is_honoured(feed_server: FeedServer) -> None:
    url = feed_server.route("/soon", body(b"", status=503, headers={"Retry-After": "2"}))
    slept: list[float] = []
    settings = FetchSettings(timeout_s=1.0, retries=1, backoff_s=0.01,
                             default_host_delay_s=0.0, host_delay_s={})
    with make_client(settings) as client:
        outcome = fetch_url(client, url, settings, sleep=slept.append)
    assert outcome.attempts == 2 and slept == [2.0]


def test_a_body_that_fails_to_decode_is_not_retried(feed_server: FeedServer,
                                                     store: Store) -> None:
    def garbage_gzip(request) -> None:
        payload = b"this is not gzip at all" * 10
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Encoding", "gzip")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    url = feed_server.route("/badgz", garbage_gzip)
    settings = FetchSettings(timeout_s=1.0, retries=2, backoff_s=0.01,
                             default_host_delay_s=0.0, host_delay_s={})
    (result,) = pull_sources(store, [_source("badgz", url)], settings).results
    assert result.status == "decode_error" and feed_server.hits["/badgz"] == 1
    (row,) = store.recent_fetches()
    assert row["attempts"] == 1 and row["error_class"] == "DecodingError"
