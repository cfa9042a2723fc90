"""`scanner sources`, `import`, `fetch` and `db stats` on real and served feeds."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import cli
from scanner.store import Store
from scanner.testing.feedserver import FeedServer, body
from tests.support.paths import shared_path


def test_sources_list_and_unknown_source(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(tmp_path / "x.db"), "sources", "list", "--all"])
    assert result.exit_code == 0 and "nsf-news" in result.output
    result = runner.invoke(cli, ["--db", str(tmp_path / "x.db"), "fetch", "--source", "nope"])
    assert result.exit_code == 1 and "unknown source id(s): nope" in result.output


def test_import_and_stats(tmp_path: Path) -> None:
    path = shared_path("corpus", "news_zh_2022_2024.parquet")
    db = tmp_path / "s.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "import", str(path), "--limit", "500"])
    assert result.exit_code == 0, result.output
    assert "500 rows read as 'news-zh'" in result.output and "500 new" in result.output
    again = runner.invoke(cli, ["--db", str(db), "import", str(path), "--limit", "500"])
    assert "already imported" in again.output
    stats = runner.invoke(cli, ["--db", str(db), "db", "stats", "--json"])
    assert json.loads(stats.output)["items_by_kind"] == {"news": 500}
    bad = runner.invoke(cli, ["--db", str(db), "import", str(path), "--map", "oops"])
    assert bad.exit_code == 2 and "FIELD=COLUMN" in bad.output


def test_fetch_command_against_local_server(tmp_path: Path, feed_server: FeedServer) -> None:
    feed = shared_path("feeds", "zh_real_feeds", "rss_meituan.xml").read_bytes()
    url = feed_server.route("/meituan.xml", body(feed, "application/rss+xml"))
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nid = "meituan"\nkind = "feed"\nurl = "{url}"\nlanguage = "zh"\n'
        'item_kind = "news"\n'
        '[[source]]\nid = "dead"\nkind = "feed"\nurl = "http://127.0.0.1:9/x"\n'
        'language = "en"\nitem_kind = "news"\n'
    )
    config = tmp_path / "scanner.toml"
    config.write_text(f'sources_file = "{sources}"\ndb_path = "s.db"\n'
                      "[fetch]\nretries = 0\ndefault_host_delay_s = 0\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "fetch"])
    assert result.exit_code == 0, result.output
    assert "1 of 2 sources ok; 10 new" in result.output
    store = Store(tmp_path / "s.db")
    assert store.db["items"].count == 10
    assert {r["status"] for r in store.recent_fetches()} == {"ok", "network_error"}


def test_sources_check_tries_each_source_and_stores_nothing(tmp_path: Path,
                                                            feed_server: FeedServer) -> None:
    feed = shared_path("feeds", "zh_real_feeds", "atom_v2ex.xml").read_bytes()
    url = feed_server.route("/v2ex.xml", body(feed, "application/atom+xml"))
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nid = "v2ex"\nkind = "feed"\nurl = "{url}"\n'
                       'language = "zh"\nitem_kind = "news"\n')
    config = tmp_path / "scanner.toml"
    config.write_text(f'sources_file = "{sources}"\ndb_path = "s.db"\n'
                      "[fetch]\nretries = 0\ndefault_host_delay_s = 0\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "sources", "check"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 sources answered with a feed" in result.output and "50" in result.output
    assert not (tmp_path / "s.db").exists()


