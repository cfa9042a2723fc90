"""Progress of a run's long stages, told to whoever listens.

Stages call `report(stage, done, total)` as they go; nothing listens by default, so a
report costs a list lookup. The command line listens with live bars (`scanner run`,
`backfill`, `rescore`); a flow run with no listener logs a line every tenth of a stage
(`printer`), which Prefect keeps in the run's logs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """How far one stage has got: total is None while it is not known (or not counted)."""

    stage: str
    done: int = 0
    total: int | None = None
    finished: bool = False


Listener = Callable[[Step], None]

_listeners: list[Listener] = []
_lock = threading.Lock()


def report(stage: str, done: int = 0, total: int | None = None) -> None:
    """Tell every listener how far a stage has got."""
    _tell(Step(stage, done, total))


def finish(stage: str) -> None:
    """Tell every listener a stage has ended (run_steps does, after each step)."""
    _tell(Step(stage, finished=True))


def _tell(step: Step) -> None:
    """Call every listener; a failing listener is dropped."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(step)
        except Exception:  # progress display must never break a run
            with _lock:
                if listener in _listeners:
                    _listeners.remove(listener)


def is_heard() -> bool:
    """Whether anything listens (the command line's bars, say)."""
    with _lock:
        return bool(_listeners)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Add a listener for the length of the block."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)


def printer(write: Callable[[str], None] | None = None, every: float = 0.1) -> Listener:
    """A listener that writes a line when a stage starts, each time it crosses another
    `every` of its total, and when it ends: about a dozen lines a stage, whatever its size.

    The default writer is print, looked up at each call, so a Prefect flow with
    log_prints (which patches print) puts the lines in the run's logs.
    """
    last: dict[str, float] = {}

    def write_line(line: str) -> None:
        (write or print)(line)

    def listen(step: Step) -> None:
        if step.finished:
            write_line(f"{step.stage}: done")
            last.pop(step.stage, None)
            return
        if not step.total:
            if step.stage not in last:
                last[step.stage] = 0.0
                write_line(f"{step.stage}: started")
            return
        share = step.done / step.total
        if share - last.get(step.stage, -1.0) < every and share < 1.0:
            return
        last[step.stage] = share
        write_line(f"{step.stage}: {step.done:,}/{step.total:,} ({share:.0%})")

    return listen
