"""A scriptable HTTP server on 127.0.0.1, so tests fetch feeds over real sockets.

    server = FeedServer()
    server.serve("/rss.xml", feed_bytes, etag='"v1"')       # a plain feed, 304 when unchanged
    server.handle("/slow", lambda request: Reply([b"<", b"rss"], chunk_delay=1.0))  # anything else
    ... fetch server.url("/rss.xml") ...
    server.requests_to("/rss.xml")                           # what the server received
    server.close()

The server speaks HTTP/1.0, one request per connection, so the length of a body sent in
pieces is given by closing the connection. Unknown paths answer 404.
"""

from __future__ import annotations

import ssl
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.closing import ClosesOnExit


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """One request as the server received it."""

    method: str
    path: str  # with the query string
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value of header `name` (case-insensitive), or None when it was not sent."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer. A sequence of byte strings is sent piece by piece, `chunk_delay`
    seconds apart (a trickling server), without a Content-Length."""

    body: bytes | str | Sequence[bytes] = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    chunk_delay: float = 0.0
    reason: str | None = None  # the status line's phrase; None: the standard one


Handler = Callable[[RequestInfo], Reply]


class FeedServer(ClosesOnExit):
    """Serves scripted answers on an ephemeral port of 127.0.0.1 from a background thread."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._routes: dict[str, Handler] = {}
        self._requests: list[RequestInfo] = []
        self._connections = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(self)
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if ssl_context is not None else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base_url + path

    def serve(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Answer `path` with `body`; a conditional request matching `etag` or
        `last_modified` gets 304 Not Modified."""
        validators = {"ETag": etag, "Last-Modified": last_modified}
        sent_validators = {name: value for name, value in validators.items() if value is not None}
        reply = Reply(
            body,
            status,
            {"Content-Type": content_type, **sent_validators, **(headers or {})},
        )

        def answer(request: RequestInfo) -> Reply:
            if _is_unchanged(request, etag, last_modified):
                return Reply(status=304, headers=sent_validators)
            return reply

        self.handle(path, answer)

    def handle(self, path: str, handler: Handler) -> None:
        """Answer `path` with whatever `handler` returns for each request."""
        with self._lock:
            self._routes[path] = handler

    def requests_to(self, path: str) -> list[RequestInfo]:
        """Requests received for `path` (with or without their query string), oldest first."""
        with self._lock:
            return [r for r in self._requests if path in (r.path, urlsplit(r.path).path)]

    @property
    def connection_count(self) -> int:
        """How many connections were accepted, whether or not a request followed."""
        with self._lock:
            return self._connections

    def close(self) -> None:
        """Stop serving and wait for every request thread to end."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()  # joins the request threads
        self._thread.join()

    def _count_connection(self) -> None:
        with self._lock:
            self._connections += 1

    def _reply_to(self, request: RequestInfo) -> Reply:
        with self._lock:
            self._requests.append(request)
            handler = self._routes.get(request.path) or self._routes.get(
                urlsplit(request.path).path
            )
        if handler is None:
            return Reply(f"no route for {request.path}", 404, {"Content-Type": "text/plain"})
        try:
            return handler(request)
        except Exception:  # a broken test handler shows up as a 500 with its traceback
            return Reply(traceback.format_exc(), 500, {"Content-Type": "text/plain"})

    def _pause(self, seconds: float) -> bool:
        """Sleep between pieces of a body; False when the server is closing meanwhile."""
        return not self._stopping.wait(seconds)


def _is_unchanged(request: RequestInfo, etag: str | None, last_modified: str | None) -> bool:
    if_none_match = request.header("If-None-Match")
    if etag is not None and if_none_match is not None:
        return etag in (tag.strip() for tag in if_none_match.split(","))
    return last_modified is not None and request.header("If-Modified-Since") == last_modified


class _Server(ThreadingHTTPServer):
    # Request threads are joined on close, so no test leaves one behind.
    daemon_threads = False
    block_on_close = True

    def __init__(self, feed_server: FeedServer) -> None:
        self.feed_server = feed_server
        super().__init__(("127.0.0.1", 0), _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.feed_server._count_connection()
        super().process_request(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 5  # a client that connects and never asks cannot hold a thread for long

    def do_GET(self) -> None:
        self._answer()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def _answer(self) -> None:
        feed_server = self.server.feed_server
        length = int(self.headers.get("Content-Length") or 0)
        request = RequestInfo(
            method=self.command,
            path=self.path,
            headers=tuple(self.headers.items()),
            body=self.rfile.read(length) if length else b"",
        )
        reply = feed_server._reply_to(request)
        pieces = _pieces(reply.body)
        try:
            self.send_response(reply.status, reply.reason)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if isinstance(reply.body, bytes | str) and "Content-Length" not in reply.headers:
                self.send_header("Content-Length", str(len(pieces[0])))
            self.end_headers()
            if self.command == "HEAD" or reply.status in (204, 304):
                return
            for number, piece in enumerate(pieces):
                if number and reply.chunk_delay and not feed_server._pause(reply.chunk_delay):
                    return
                self.wfile.write(piece)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client hung up, which is what many tests are about

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output for test failures


def _pieces(body: bytes | str | Sequence[bytes]) -> list[bytes]:
    if isinstance(body, str):
        return [body.encode("utf-8")]
    if isinstance(body, bytes):
        return [body]
    return list(body)
