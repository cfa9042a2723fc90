"""Config: file, SCANNER_* environment and CLI overrides, with errors naming file/line/key."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner import PROJECT_ROOT
from scanner.config import load_config
from scanner.errors import ConfigError, SourceError
from scanner.ingest.sources import load_sources, select_sources


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.config_file is None
    assert config.sources_file == PROJECT_ROOT / "data" / "sources.toml"
    assert config.fetch.host_delay_s["export.arxiv.org"] == 3.0


def test_precedence_file_env_override(tmp_path: Path) -> None:
    path = tmp_path / "scanner.toml"
    path.write_text('db_path = "store/x.db"\nmodel = "m1"\n[fetch]\ntimeout_s = 5\n')
    config = load_config(path, environ={})
    assert config.db_path == tmp_path / "store" / "x.db"  # relative to the file
    assert config.fetch.timeout_s == 5.0
    env = {"SCANNER_MODEL": "m2", "SCANNER_FETCH_TIMEOUT_S": "7"}
    config = load_config(path, environ=env)
    assert (config.model, config.fetch.timeout_s) == ("m2", 7.0)
    topics = load_config(path, environ={"SCANNER_TOPICS_WINDOW_DAYS": "90",
                                        "SCANNER_TOPICS_TOGETHER": "false"}).topics
    assert (topics.window_days, topics.together, topics.min_topic_size) == (90, False, 8)
    config = load_config(path, {"model": "m3", "db_path": None}, environ=env)
    assert config.model == "m3" and config.db_path == tmp_path / "store" / "x.db"


@pytest.mark.parametrize(("text", "match"), [
    ('db_path = "a.db"\nmodle = "x"\n', r"line 2, key 'modle': unknown key"),
    ('[fetch]\ntimeout_s = "soon"\n', r"line 2, key 'timeout_s': expected a number"),
    ('[fetch]\nretries = -1\n', r"must not be negative"),
    # TOML has nan and inf: a timeout of nan crashed the fetch, a host delay of inf the sleep
    ('[fetch]\ntimeout_s = nan\n', r"line 2, key 'timeout_s': expected a finite number"),
    ('[fetch]\ndefault_host_delay_s = inf\n', r"expected a finite number, got inf"),
    ('[fetch.host_delay_s]\n"a.org" = -inf\n', r"expected a finite number"),
    ('[terms]\nemerged_share = 0\n', r"emerged_share must be above 0"),
    ('db_path = \n', r"not valid TOML"),
    ('[topics]\nwindow_days = 30\nwindow = 5\n',
     r"line 3, key 'window': unknown key in \[topics\]"),
    ('[topics]\ntogether = "yes"\n', r"line 2, key 'together': expected true or false"),
    ('[topics]\nkinds = ["paper", "tweets"]\n', r"\[topics\] kinds: .* must name some of"),
    ('[topics]\nseries_period = "day"\n', r"series_period: 'day' is not"),
    ('[fetch]\nspeed = 3\n', r"unknown key in \[fetch\]"),
])
def test_bad_config_names_file_line_and_key(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        load_config(path, environ={})
    assert str(path) in str(info.value)


def test_missing_and_undecodable_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})
    path = tmp_path / "latin.toml"
    path.write_bytes(b'model = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(path, environ={})


def test_bad_env_value() -> None:
    with pytest.raises(ConfigError, match="SCANNER_FETCH_RETRIES"):
        load_config(None, environ={"SCANNER_FETCH_RETRIES": "many"})


def test_project_sources_file_is_valid() -> None:
    sources = load_sources(PROJECT_ROOT / "data" / "sources.toml",
                           PROJECT_ROOT / "data" / "taxonomy" / "taxonomy-2025.1.toml")
    kinds = {(s.item_kind, s.language) for s in sources if s.enabled}
    assert {("paper", "en"), ("news", "en"), ("news", "zh"), ("policy", "zh")} <= kinds
    arxiv_api = [s for s in sources if s.kind == "arxiv_api"]
    assert arxiv_api and all(s.host == "export.arxiv.org" for s in arxiv_api)
    assert any(not s.enabled for s in sources)
    assert select_sources(sources) == [s for s in sources if s.enabled]
    with pytest.raises(SourceError, match="unknown source id"):
        select_sources(sources, ["no-such-source"])


@pytest.mark.parametrize(("text", "match"), [
    ('[[source]]\nid = "aa"\nkind = "feed"\nurl = "https://x"\nlanguage = "fr"\n'
     'item_kind = "news"\n', "key 'language' is 'fr'"),
    ('[[source]]\nid = "aa"\nkind = "feed"\nurl = "ftp://x"\nlanguage = "en"\n'
     'item_kind = "news"\n', "http"),
    # a bad IPv6 literal passed the load and crashed the fetch with a traceback
    ('[[source]]\nid = "aa"\nkind = "feed"\nurl = "http://[::1/feed"\nlanguage = "en"\n'
     'item_kind = "news"\n', r"key 'url' is not a valid URL \(Invalid IPv6 URL\)"),
    ('[[source]]\nid = "aa"\nkind = "feed"\nurl = "http:///feed"\nlanguage = "en"\n'
     'item_kind = "news"\n', "an http\\(s\\) URL with a host"),
    ('[[source]]\nid = "aa"\nkind = "feed"\nurl = "https://x"\nlanguage = "en"\n'
     'item_kind = "news"\ncolour = 1\n', "unknown key 'colour'"),
    ('[[source]]\nid = "aa"\nkind = "feed"\nurl = "https://x"\nlanguage = "en"\n'
     'item_kind = "news"\n[[source]]\nid = "aa"\nkind = "feed"\nurl = "https://y"\n'
     'language = "en"\nitem_kind = "news"\n', "duplicate source id"),
])
def test_bad_sources_file(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        load_sources(path)
    assert "line" in str(info.value) and str(path) in str(info.value)


def test_arxiv_queries_are_built_from_the_taxonomy(tmp_path: Path) -> None:
    taxonomy = PROJECT_ROOT / "data" / "taxonomy" / "taxonomy-2025.1.toml"
    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nid = "fusion"\nkind = "arxiv_api"\n'
                    'field = "controlled-nuclear-fusion"\nlanguage = "en"\nitem_kind = "paper"\n'
                    '[[source]]\nid = "sixg"\nkind = "arxiv_api"\nfield = "6g"\n'
                    'language = "en"\nitem_kind = "paper"\n')
    fusion, sixg = load_sources(path, taxonomy)
    assert "abs%3Atokamak" in fusion.url and fusion.host == "export.arxiv.org"
    assert "abs%3A6G" in sixg.url and "abs%3ARIS" not in sixg.url
    with pytest.raises(ConfigError, match="needs the taxonomy file"):
        load_sources(path)
    path.write_text(path.read_text().replace('"6g"', '"weather"'))
    with pytest.raises(ConfigError, match=r"not a field of taxonomy 2025\.1"):
        load_sources(path, taxonomy)
