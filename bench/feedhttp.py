"""The benchmarks' feed server: HTTP on a loopback address, each answer a function of the
path. With an ETag, a matching If-None-Match gets a 304, as from a well-behaved site."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RSS = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Served:
    body: bytes
    content_type: str = RSS
    etag: str | None = None


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # a pass opens many connections at once
    daemon_threads = True


def feed_server(host: str, port: int, lookup: Callable[[str], Served | None]) -> _Server:
    """A server (not yet serving: call `serve_forever`) answering GET `path` with
    `lookup(path)`, or 404 when that is None. Port 0 picks a free one."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            served = lookup(self.path)
            if served is None:
                self.send_error(404)
                return
            if served.etag is not None and self.headers.get("If-None-Match") == served.etag:
                self.send_response(304)
                self.send_header("ETag", served.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", served.content_type)
            if served.etag is not None:
                self.send_header("ETag", served.etag)
            self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            self.wfile.write(served.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return _Server((host, port), Handler)
