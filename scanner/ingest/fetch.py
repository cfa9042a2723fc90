"""HTTP fetching of feeds: timeouts, size cap, conditional GET, politeness and retries.

`fetch_url` never raises for a network or HTTP problem: it returns a FetchOutcome
whose `status` says what happened, so that a bad source becomes a row, not a crash.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from scanner.config import FetchSettings

#: HTTP codes worth another try: the server may recover.
RETRYABLE_CODES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: Resolver messages that will not change on a retry.
_PERMANENT_DNS = ("Name or service not known", "nodename nor servname", "No address associated")


@dataclass
class FetchOutcome:
    """What one fetch of one URL produced."""

    url: str
    # ok | not_modified | http_error | network_error | timeout | too_large | decode_error
    status: str
    started_at: datetime
    duration_s: float = 0.0
    attempts: int = 0
    http_code: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    final_url: str | None = None
    error_class: str | None = None
    error_message: str | None = None

    @property
    def etag(self) -> str | None:
        """The response's ETag validator, if any."""
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        """The response's Last-Modified validator, if any."""
        return self.headers.get("last-modified")


class HostThrottle:
    """Keeps a minimum delay between requests to the same host (arXiv asks for 3 s)."""

    def __init__(
        self,
        delays: Mapping[str, float],
        default_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.delays = dict(delays)
        self.default_s = default_s
        self.clock = clock
        self.sleep = sleep
        self._last: dict[str, float] = {}

    def wait(self, host: str) -> float:
        """Sleep until `host` may be asked again; return the seconds slept."""
        delay = self.delays.get(host, self.default_s)
        last = self._last.get(host)
        slept = 0.0
        if last is not None:
            slept = max(0.0, last + delay - self.clock())
            if slept:
                self.sleep(slept)
        self._last[host] = self.clock()
        return slept

    def release(self, host: str) -> None:
        """Forget the last request to `host`: it never reached the host (DNS failed)."""
        self._last.pop(host, None)


class _TooLarge(Exception):
    """The body passed the configured size cap."""


class _Deadline(Exception):
    """The whole download took longer than allowed."""


class _BadRedirect(Exception):
    """A redirect to somewhere that is not an http(s) URL (javascript:, mailto:, file:)."""


def _check_redirect(response: httpx.Response) -> None:
    """Refuse a redirect whose target is not http(s), before the client follows it (a
    `javascript:` Location made httpx raise InvalidURL, which stopped the whole pull)."""
    if not response.has_redirect_location:  # a 304's Location is not followed
        return
    location = response.headers.get("location", "")
    try:
        scheme = urlsplit(str(response.url.join(location))).scheme.lower()
    except (httpx.InvalidURL, ValueError):
        scheme = ""
    if scheme not in ("http", "https"):
        raise _BadRedirect(f"HTTP {response.status_code} redirect to {location[:200]!r}, "
                           "which is not an http(s) URL: not followed")


def make_client(settings: FetchSettings) -> httpx.Client:
    """An HTTP client with the project's timeout, redirects and User-Agent."""
    return httpx.Client(
        timeout=httpx.Timeout(settings.timeout_s),
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        event_hooks={"response": [_check_redirect]},
        headers={
            "User-Agent": settings.user_agent,
            "Accept": "application/atom+xml, application/rss+xml, application/feed+json, "
                      "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
        },
    )


def _retry_after(response: httpx.Response) -> float | None:
    """The seconds a Retry-After header asks for (delta or HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _read_capped(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    encoded = response.headers.get("content-encoding", "identity") != "identity"
    if declared and declared.isdigit() and not encoded and int(declared) > max_bytes:
        raise _TooLarge(f"Content-Length {declared} exceeds the cap of {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    # iter_bytes yields decompressed bytes, so a gzip bomb is stopped at the cap too.
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge(f"body exceeds the cap of {max_bytes} bytes (after decompression)")
        if time.monotonic() > deadline:
            raise _Deadline("the download did not finish within the total time allowed")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch_url(
    client: httpx.Client,
    url: str,
    settings: FetchSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    throttle: HostThrottle | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchOutcome:
    """GET one URL with conditional headers, bounded retries and a size cap.

    Args:
        client: from make_client.
        url: what to fetch.
        settings: timeouts, cap, retries and backoff.
        etag: the ETag stored from the last successful fetch.
        last_modified: the Last-Modified stored from the last successful fetch.
        throttle: per-host politeness; None for no delay.
        sleep: injectable for tests.
    """
    started = time.monotonic()
    outcome = FetchOutcome(url=url, status="network_error", started_at=datetime.now(UTC))
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        host = urlsplit(url).hostname or ""
    except ValueError as exc:  # a bad IPv6 literal: nothing to ask
        outcome.status, outcome.error_class = "http_error", "BadURL"
        outcome.error_message = f"the URL cannot be requested: {exc}"
        return outcome
    for attempt in range(1, settings.retries + 2):
        outcome.attempts = attempt
        if throttle is not None:
            throttle.wait(host)
        retry_wait: float | None = None
        deadline = time.monotonic() + settings.timeout_s * 3
        try:
            with client.stream("GET", url, headers=headers) as response:
                outcome.http_code = response.status_code
                outcome.headers = {k.lower(): v for k, v in response.headers.items()}
                outcome.final_url = str(response.url)
                if response.status_code == 304:
                    outcome.status, outcome.error_class, outcome.error_message = (
                        "not_modified", None, None)
                    break
                if response.status_code >= 400:
                    outcome.status = "http_error"
                    outcome.error_class = f"HTTP{response.status_code}"
                    outcome.error_message = f"HTTP {response.status_code} {response.reason_phrase}"
                    if response.status_code in RETRYABLE_CODES:
                        asked = _retry_after(response)
                        if asked is not None and asked > settings.retry_after_max_s:
                            # the server asks for longer than a run waits: no retry
                            outcome.error_message += (
                                f"; Retry-After {asked:.0f} s is beyond retry_after_max_s "
                                f"({settings.retry_after_max_s:g} s): not retried")
                        else:
                            retry_wait = asked if asked is not None else -1.0
                else:
                    outcome.body = _read_capped(response, settings.max_bytes, deadline)
                    outcome.status, outcome.error_class, outcome.error_message = "ok", None, None
                    break
        except _TooLarge as exc:
            outcome.status, outcome.error_class, outcome.error_message = (
                "too_large", "ResponseTooLarge", str(exc))
            break
        except _Deadline as exc:
            outcome.status, outcome.error_class, outcome.error_message = (
                "timeout", "DownloadDeadline", str(exc))
            retry_wait = -1.0
        except httpx.DecodingError as exc:
            # the body arrived but cannot be decoded (bad gzip, bad brotli): the same
            # bytes would come again, so no retry
            outcome.status, outcome.error_class = "decode_error", type(exc).__name__
            outcome.error_message = f"the response body could not be decoded: {exc}"
            break
        except httpx.TooManyRedirects as exc:
            outcome.status, outcome.error_class, outcome.error_message = (
                "http_error", "TooManyRedirects", str(exc))
            break
        except _BadRedirect as exc:  # the same answer would come again: no retry
            outcome.status, outcome.error_class, outcome.error_message = (
                "http_error", "BadRedirect", str(exc))
            break
        except (httpx.InvalidURL, UnicodeError) as exc:
            # the source's URL or a redirect's names no host that can be asked (a bad
            # IDNA label raises UnicodeError): permanent, no retry
            outcome.status, outcome.error_class = "http_error", "BadURL"
            outcome.error_message = (f"a URL of the request (the source's, or a redirect's "
                                     f"Location) cannot be requested: {exc}")
            break
        except httpx.TimeoutException as exc:
            outcome.status, outcome.error_class = "timeout", type(exc).__name__
            outcome.error_message = f"no answer within {settings.timeout_s:g} s ({exc})"
            retry_wait = -1.0
        except httpx.HTTPError as exc:
            outcome.status, outcome.error_class = "network_error", type(exc).__name__
            outcome.error_message = str(exc) or repr(exc)
            if any(marker in outcome.error_message for marker in _PERMANENT_DNS):
                outcome.error_message = f"host not found (DNS): {outcome.error_message}"
                if throttle is not None:
                    throttle.release(host)
            else:
                retry_wait = -1.0
        if retry_wait is None or attempt > settings.retries:
            break
        sleep(retry_wait if retry_wait >= 0 else settings.backoff_s * 2 ** (attempt - 1))
    outcome.duration_s = round(time.monotonic() - started, 3)
    return outcome
