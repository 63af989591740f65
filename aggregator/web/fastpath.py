"""Repeat requests for a feed, answered in front of Flask.

Subscribers poll the plain feed URLs (`/feeds/kaohsiung.atom`, no query string) over and
over; between store changes every answer is the same bytes. Flask's routing, request
object, hooks and response building cost several times what sending those bytes does, so
this WSGI middleware keeps the last 200 answer Flask gave for each plain feed URL and
`Accept-Encoding`, with the store version it was given at, and replays it (or a 304 for a
matching `If-None-Match`) while the version holds. Anything else (a query string, another
method, a cold or stale entry, `If-Modified-Since` alone) goes to Flask, which stays the
one place that decides what a feed holds and which headers it carries.

The version is the feed cache's reading (`FeedCache.current_version`), so both layers
share the same staleness bound.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask

from aggregator.store import StoreUnavailable
from aggregator.web.feedcache import FeedCache
from aggregator.web.state import AppState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

FEED_PREFIX = "/feeds/"
# Feed URLs × the Accept-Encoding values clients send: a handful of each in practice.
MAX_ANSWERS = 256
# Headers a 304 leaves out: it describes the representation without carrying it.
_NOT_IN_304 = frozenset({"content-length", "content-type", "content-encoding"})


@dataclass(frozen=True, slots=True)
class _Answer:
    store_version: int
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str | None

    def not_modified_headers(self) -> list[tuple[str, str]]:
        return [(name, value) for name, value in self.headers if name.lower() not in _NOT_IN_304]


class FeedFastPath:
    """WSGI middleware in front of `app`'s own `wsgi_app`; `feed_cache` names the feed
    cache in `app.extensions` whose version reading it shares."""

    def __init__(self, app: Flask, feed_cache: str, state_key: str) -> None:
        self._app = app
        self._inner: WSGIApplication = app.wsgi_app
        self._feed_cache = feed_cache
        self._state_key = state_key
        self._answers: OrderedDict[tuple[str, str], _Answer] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
            or not path.startswith(FEED_PREFIX)
        ):
            return self._inner(environ, start_response)
        key = (path, environ.get("HTTP_ACCEPT_ENCODING", ""))
        try:
            version = self._store_version()
        except StoreUnavailable:
            return self._inner(environ, start_response)  # Flask's error page says so in words
        with self._lock:
            answer = self._answers.get(key)
        if answer is None or answer.store_version != version:
            return self._ask_flask(environ, start_response, key, version)
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            if answer.etag is not None and _matches(if_none_match, answer.etag):
                start_response("304 Not Modified", answer.not_modified_headers())
                return []
        elif "HTTP_IF_MODIFIED_SINCE" in environ:
            return self._inner(environ, start_response)  # rare: Flask compares the dates
        start_response(answer.status, answer.headers)
        return [answer.body]

    def _store_version(self) -> int:
        cache: FeedCache = self._app.extensions[self._feed_cache]
        state: AppState = self._app.extensions[self._state_key]
        return cache.current_version(state.store.version)

    def _ask_flask(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        key: tuple[str, str],
        version: int,
    ) -> Iterable[bytes]:
        given: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: object = None
        ) -> Callable[[bytes], object]:
            given.append((status, headers))
            return start_response(status, headers, exc_info)  # type: ignore[arg-type]

        chunks = self._inner(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = given[-1]
        if status.startswith("200 ") and not any(n.lower() == "set-cookie" for n, _ in headers):
            etag = next((v for n, v in headers if n.lower() == "etag"), None)
            self._keep(key, _Answer(version, status, headers, body, etag))
        return [body]

    def _keep(self, key: tuple[str, str], answer: _Answer) -> None:
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > MAX_ANSWERS:
                self._answers.popitem(last=False)


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2), as Flask makes it for feeds."""
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(
        candidate.strip().removeprefix("W/") == wanted for candidate in if_none_match.split(",")
    )
