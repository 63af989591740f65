"""Repeat requests for a feed or a river page, answered in front of Flask.

Subscribers poll the plain feed URLs (`/feeds/kaohsiung.atom`) over and over, and readers
open the same few pages; between store changes every answer is the same bytes. Flask's
routing, request object, hooks and response building cost several times what sending
those bytes does, so this WSGI middleware keeps the last 200 answer Flask gave for each
URL, query string, `Accept-Encoding` and `Accept-Language`, with the store version it was
given at, and replays it (or a 304 for a matching `If-None-Match`) while the version
holds. Anything else (another method or path, a cookie, a cold or stale entry,
`If-Modified-Since` alone) goes to Flask, which stays the one place that decides what a
response holds and which headers it carries.

Only the paths whose Flask views are cached on the store version alone are replayed (the
plain feeds, the river pages: see `pagecache`), and the version is read from the cache
those views use, so an answer is never tagged with a newer version than it was made at.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask

from aggregator.store import StoreUnavailable
from aggregator.web import feeds, pagecache
from aggregator.web.feedcache import FeedCache
from aggregator.web.state import EXTENSION_KEY, AppState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Requests × the Accept-Encoding and Accept-Language values clients send.
MAX_ANSWERS = 256  # bounds the memory each process spends on them
# Headers a 304 leaves out: it describes the representation without carrying it.
_NOT_IN_304 = frozenset({"content-length", "content-type", "content-encoding"})


def cache_for(path: str, query: str) -> str | None:
    """The `app.extensions` key of the cache whose views answer this request, or None when
    its answer may depend on more than the request line and the store version."""
    if path.startswith("/feeds/"):
        return None if query else feeds.CACHE_KEY  # a search (`?q=`) has a cache of its own
    if path in ("/", "/api/entries") or path.startswith("/embed/"):
        return pagecache.CACHE_KEY
    return None


@dataclass(frozen=True, slots=True)
class _Answer:
    store_version: int
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str | None

    def not_modified_headers(self) -> list[tuple[str, str]]:
        return [(name, value) for name, value in self.headers if name.lower() not in _NOT_IN_304]


Key = tuple[str, str, str, str]


class FastPath:
    """WSGI middleware in front of `app`'s own `wsgi_app`."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._inner: WSGIApplication = app.wsgi_app
        self._answers: OrderedDict[Key, _Answer] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        query: str = environ.get("QUERY_STRING", "")
        cache = cache_for(path, query)
        # A cookie may be a staff sign-in: whatever it changes, Flask sees it.
        if cache is None or environ.get("REQUEST_METHOD") != "GET" or "HTTP_COOKIE" in environ:
            return self._inner(environ, start_response)
        key = (
            path,
            query,
            environ.get("HTTP_ACCEPT_ENCODING", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
        )
        try:
            version = self._store_version(cache)
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

    def _store_version(self, cache_key: str) -> int:
        cache: FeedCache = self._app.extensions[cache_key]
        state: AppState = self._app.extensions[EXTENSION_KEY]
        return cache.current_version(state.store.version)

    def _ask_flask(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        key: Key,
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

    def _keep(self, key: Key, answer: _Answer) -> None:
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > MAX_ANSWERS:
                self._answers.popitem(last=False)


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2), as Flask makes it."""
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(
        candidate.strip().removeprefix("W/") == wanted for candidate in if_none_match.split(",")
    )
