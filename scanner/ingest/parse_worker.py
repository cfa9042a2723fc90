"""A feed parse with a deadline: large bodies are parsed in a forked child that is killed
when it runs past `parse_timeout_s`.

feedparser is pure Python and cannot be interrupted from another thread, and the
download deadline does not cover parsing: a body that makes the parser run away
(feedparser was quadratic in the categories of one entry) would hold the whole run.
The element cap and the linear tag handling of scanner.ingest.parse bound the known cases;
this bounds the unknown ones. Small bodies parse in-process: with those bounds they
cannot take long, and a fork per source would cost more than it protects.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

from scanner.ingest.parse import ParsedFeed, parse_feed

#: Bodies smaller than this are parsed in-process (well under a second with the caps).
IN_PROCESS_BYTES = 256 * 1024


class ParseDeadline(Exception):
    """The parse of a body ran past its deadline and was stopped."""


class ParseCrashed(Exception):
    """The child process parsing a body died without an answer (memory, signal)."""


def _child(conn: Connection, body: bytes, headers: Mapping[str, str] | None,
           kwargs: dict[str, Any]) -> None:
    try:
        conn.send((True, parse_feed(body, headers, **kwargs)))
    except BaseException as exc:  # reported to the parent, which decides
        conn.send((False, f"{type(exc).__name__}: {str(exc)[:500]}"))
    finally:
        conn.close()


def parse_with_deadline(body: bytes, headers: Mapping[str, str] | None, timeout_s: float,
                        **kwargs: Any) -> ParsedFeed:
    """parse_feed(body, headers, **kwargs), stopped after `timeout_s` seconds.

    Raises:
        ParseDeadline: the parse did not finish in time (the child was killed).
        ParseCrashed: the child died without an answer.
        RuntimeError: parse_feed raised in the child (its class and message).
    """
    if timeout_s <= 0 or len(body) < IN_PROCESS_BYTES or \
            "fork" not in multiprocessing.get_all_start_methods():
        return parse_feed(body, headers, **kwargs)
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, body, headers, kwargs),
                              daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise ParseDeadline(f"parsing {len(body):,} bytes took longer than "
                                f"{timeout_s:g} s (parse_timeout_s): stopped")
        try:
            ok, payload = receiver.recv()
        except EOFError as exc:
            raise ParseCrashed(f"the parser process died (exit code {process.exitcode})"
                               ) from exc
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if not ok:
        raise RuntimeError(payload)
    return payload
