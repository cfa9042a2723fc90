"""Shared fixtures: temp stores, a written config, item factories and the local feed
server. Helpers the fixtures use live in tests/support/ (never import this file)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scanner.config import Config, load_config
from scanner.ingest import make_item
from scanner.store import Store
from scanner.testing.feedserver import FeedServer


@pytest.fixture(autouse=True)
def _no_int8_build_in_the_default_suite(request: pytest.FixtureRequest,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests not marked slow never ask for a model's int8 build (e5-small's default
    since #22): on a fresh model cache that quantises for minutes. Name backend="openvino", use
    a stand-in, or mark the test slow."""
    if request.node.get_closest_marker("slow"):
        return
    import scanner.embed.int8 as embed_int8

    def refused(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("a test not marked slow asked for an int8 model build")

    monkeypatch.setattr(embed_int8, "build_int8_folder", refused)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in a temp folder."""
    db = Store(tmp_path / "scanner.db")
    yield db
    db.close()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Config]:
    """Write scanner.toml in the temp folder (db in it, hashing-test model unless given)
    and load it: `write_config(model="...", extra="[topics]\\nwindow_days = 30\\n")`."""

    def write(model: str = "hashing-test", extra: str = "", **keys: str) -> Config:
        lines = [f'db_path = "{tmp_path / "s.db"}"', f'model = "{model}"',
                 f'report_dir = "{tmp_path / "reports"}"',
                 *(f'{k} = "{v}"' for k, v in keys.items())]
        path = tmp_path / "scanner.toml"
        path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
        return load_config(path, environ={})

    return write


@pytest.fixture
def make_items() -> Callable[..., list[dict[str, Any]]]:
    """Items for a store: `make_items(n, kind="paper", day="2026-01-05", words="...")`."""

    def items(n: int, kind: str = "news", day: str = "2026-01-05", words: str = "item",
              source_id: str = "test") -> list[dict[str, Any]]:
        published = datetime.fromisoformat(day).replace(tzinfo=UTC)
        return [make_item(source_id=source_id, kind=kind, title=f"{words} {i}",
                          summary=f"{words} number {i} about {words}",
                          url=f"https://example.org/{source_id}/{kind}/{day}/"
                              f"{zlib.crc32(words.encode())}/{i}",
                          published=published, fetched_at=published)
                for i in range(n)]

    return items


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A local HTTP server on 127.0.0.1 that serves recorded feeds and misbehaves on purpose."""
    server = FeedServer()
    server.start()
    yield server
    server.stop()
