"""One TOML reader: every file the project reads names a problem the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.config import load_config
from scanner.embed.registry import load_registry
from scanner.errors import ConfigError
from scanner.ingest.sources import load_sources
from scanner.taxonomy import load_taxonomy
from scanner.tomlfile import read_toml

SOURCE = 'id = "a"\nname = "a"\nkind = "feed"\nurl = "https://e.org/x"\nlanguage = "en"\n'


def _problem(loader, path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        loader(path)
    return str(info.value)


@pytest.mark.parametrize(("what", "loader", "text", "line", "key"), [
    ("config file", lambda p: load_config(p, environ={}), 'db_path = "a.db"\n\nmodle = 1\n',
     3, "modle"),
    ("sources file", load_sources, f'[[source]]\n{SOURCE}item_kind = "news"\n\ncolour = 1\n',
     None, "colour"),
    ("model registry", load_registry, 'default = "nope"\n\n[[model]]\nid = "m"\n'
     'loader = "hashing"\ndimension = 8\nmax_tokens = 0\nquery_prefix = ""\n'
     'passage_prefix = ""\nlicence = "x"\n', 1, "default"),
])
def test_each_file_names_what_it_is_its_path_line_and_key(
        tmp_path: Path, what: str, loader, text: str, line: int | None, key: str) -> None:
    path = tmp_path / "file.toml"
    path.write_text(text)
    message = _problem(loader, path)
    assert message.startswith(f"{what} {path}")
    assert f"key '{key}'" in message
    if line:
        assert f", line {line}," in message


def test_the_taxonomy_names_file_line_and_key(tmp_path: Path) -> None:
    original = load_config(environ={}).taxonomy_file.read_text(encoding="utf-8")
    path = tmp_path / "taxonomy.toml"
    path.write_text(original.replace('title_en = ', 'title_xx = ', 1), encoding="utf-8")
    message = _problem(load_taxonomy, path)
    assert re.match(rf"taxonomy file {re.escape(str(path))}, line \d+, .*key 'title_xx'",
                    message)


@pytest.mark.parametrize(("content", "expected"), [
    (None, "does not exist"), (b"\xff\xfe not utf-8", "cannot be read"),
    (b"key = = 1", "is not valid TOML"),
])
def test_unreadable_files_fail_alike(tmp_path: Path, content: bytes | None,
                                     expected: str) -> None:
    path = tmp_path / "x.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=f"^sources file {re.escape(str(path))} {expected}"):
        read_toml(path, "sources file")
    with pytest.raises(ConfigError, match=expected):
        load_sources(path)
