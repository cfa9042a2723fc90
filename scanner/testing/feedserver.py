"""A local HTTP server for tests: recorded feeds, plus every way a server misbehaves.

Routes are registered per test: `server.route(path, handler)`, where the handler gets
the request handler and writes the response itself. Helpers build the usual cases.
"""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[BaseHTTPRequestHandler], None]


class FeedServer:
    """Serves registered routes on 127.0.0.1 on a free port; counts requests per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: dict[str, int] = {}
        self.request_headers: dict[str, list[dict[str, str]]] = {}
        server = self

        class _Request(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path
                server.hits[path] = server.hits.get(path, 0) + 1
                server.request_headers.setdefault(path, []).append(
                    {k.lower(): v for k, v in self.headers.items()})
                handler = server.routes.get(path)
                if handler is None:
                    self.send_error(404)
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    handler(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Request)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def route(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)


def body(
    data: bytes, content_type: str = "application/xml", status: int = 200,
    headers: dict[str, str] | None = None, gzip_it: bool = False,
) -> Handler:
    """A handler answering with fixed bytes (optionally gzip-encoded)."""
    payload = gzip.compress(data) if gzip_it else data

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(payload)))
        if gzip_it:
            request.send_header("Content-Encoding", "gzip")
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(payload)

    return handle


def conditional(data: bytes, etag: str, content_type: str = "application/atom+xml") -> Handler:
    """Answers 304 when If-None-Match carries the ETag, the feed otherwise."""
    full = body(data, content_type, headers={"ETag": etag,
                                             "Last-Modified": "Mon, 23 Nov 2026 01:00:00 GMT"})

    def handle(request: BaseHTTPRequestHandler) -> None:
        if request.headers.get("If-None-Match") == etag:
            request.send_response(304)
            request.send_header("ETag", etag)
            request.end_headers()
            return
        full(request)

    return handle


def slow(data: bytes, delay_s: float) -> Handler:
    """Sends headers, then waits past any sensible timeout before the body."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        time.sleep(delay_s)
        body(data)(request)

    return handle


def endless(chunk: bytes, chunks: int) -> Handler:
    """Streams a huge body without Content-Length (chunk after chunk)."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.end_headers()
        for _ in range(chunks):
            request.wfile.write(chunk)

    return handle


def redirect(to: str) -> Handler:
    """A 301 to another path."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(301)
        request.send_header("Location", to)
        request.end_headers()

    return handle
