"""A night's new items include those a killed (failed) run of the same night stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

import scanner.store as store_package
from scanner.report.build import new_items
from scanner.store import Store


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A store clock that moves a second at each reading (the store keeps seconds)."""
    import pkgutil
    from importlib import import_module

    now = [datetime(2026, 1, 5, tzinfo=UTC)]

    def tick() -> str:
        now[0] += timedelta(seconds=1)
        return now[0].isoformat()

    for info in pkgutil.iter_modules(store_package.__path__):
        module = import_module(f"scanner.store.{info.name}")
        if hasattr(module, "utcnow"):
            monkeypatch.setattr(module, "utcnow", tick)
    yield


def _run(store: Store, kind: str, day: str, status: str, items: list | None = None,
         new: int = 0) -> dict:
    run_id = store.start_run(kind, day, {})
    if items:
        store.upsert_items(items)
    summary = {"stages": [{"stage": "pull", "status": "ok", "items_new": new}]}
    store.finish_run(run_id, status, summary if status == "ok" else None)
    return store.get_run(run_id)


def test_a_rerun_after_a_killed_night_counts_the_killed_nights_items(store: Store,
                                                                      make_items) -> None:
    _run(store, "nightly", "2026-01-04", "ok", make_items(5, day="2026-01-04"), new=5)
    # the night of the 5th is killed after its pull stored 7 items; the rerun adds 2
    _run(store, "nightly", "2026-01-05", "failed", make_items(7, words="killed"))
    rerun = _run(store, "nightly", "2026-01-05", "ok", make_items(2, words="rerun"), new=2)
    assert new_items(rerun, store) == 9
    assert new_items(rerun) == 2  # without the store: the run's own pull only
    # a later night that fails and reruns adds only what came in since
    _run(store, "nightly", "2026-01-06", "ok", [], new=0)
    quiet = store.get_run(store.start_run("nightly", "2026-01-07", {}))
    assert new_items(quiet, store) == 0
    assert new_items(None, store) is None


def test_only_failed_runs_of_the_same_kind_and_date_just_before_count(store: Store,
                                                                      make_items) -> None:
    _run(store, "nightly", "2026-01-05", "failed", make_items(3, words="older"))
    _run(store, "nightly", "2026-01-05", "ok", [], new=3)  # an ok run ends the chain
    _run(store, "backfill", "2026-01-05", "failed", make_items(4, words="backfill"))
    _run(store, "nightly", "2026-01-04", "failed", make_items(6, words="other date"))
    rerun = _run(store, "nightly", "2026-01-05", "ok", [], new=0)
    assert new_items(rerun, store) == 0
