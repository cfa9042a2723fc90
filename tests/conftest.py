"""Shared fixtures: the ../shared data beside the repo, temp stores, the local feed server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.store import Store
from tests.feedserver import FeedServer

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SCANNER_SHARED", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or a skip naming what is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data {path} is missing (expected ../shared beside the repo root)")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in a temp folder."""
    db = Store(tmp_path / "scanner.db")
    yield db
    db.close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A local HTTP server on 127.0.0.1 that serves recorded feeds and misbehaves on purpose."""
    server = FeedServer()
    server.start()
    yield server
    server.stop()
