"""The response cache: anonymous GETs answered in front of Flask until the store changes.

Subscribers poll the same feed URLs over and over, and readers open the same few pages;
between store changes every answer is the same bytes. Flask's routing, request object,
hooks and rendering cost many times what sending those bytes does, so this WSGI layer keeps
the 200 answer Flask gave for each scheme, host, path, query string, `Accept`,
`Accept-Encoding` and `Accept-Language`, tagged with the store version read before Flask
made it, and replays it (or a 304 for matching `If-None-Match` / `If-Modified-Since`)
while that version holds.
Flask stays the one place that decides what an answer holds and which headers it carries.

Only views marked `@store_cached` are kept: their answer depends on nothing but the request
line, those two headers and the store (no session, no cookie). A request with a cookie may
be a signed-in staff member, so it always reaches Flask. Where an answer also depends on the
clock (a page saying 今天 goes stale at midnight, a feed holding an alert goes stale when the
alert expires), the view says until when it holds with `valid_until`, and the cache asks
Flask again from then on, store change or not.

`Store.version()` is a counter in the database, so a write by a worker in another process
invalidates answers too. Staleness bound: the version is read at most once per
`VERSION_CHECK_SECONDS` per process, so an answer may be replayed up to that long after a
write made it stale; hits and 304s within that window never touch the database.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ParamSpec

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import is_resource_modified, parse_date

from aggregator.models import CacheCounts, StoredEntry
from aggregator.store import StoreUnavailable
from aggregator.web.state import EXTENSION_KEY, AppState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

VERSION_CHECK_SECONDS = 1.0
# Every category × format × encoding × language of the feeds and the first river pages
# fit many times over; a process keeps at most this much of answers in memory.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
CACHE_KEY = "aggregator.response_cache"
# What an answer costs beyond its body and headers (key, bookkeeping), roughly.
_ANSWER_OVERHEAD_BYTES = 512
# The part of the bytes that answers asked for more than once may hold (see `_Answers`).
_PROTECTED_SHARE = 0.8
_GZIP_LEVEL = 6
_STORE_CACHED = "_aggregator_store_cached"
# Headers a 304 leaves out: it describes the representation without carrying it.
_NOT_IN_304 = frozenset({"content-length", "content-type", "content-encoding"})
# Validators of the client's copy: a miss asks Flask for the whole answer, then compares.
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
# Where a view leaves the moment its answer stops holding (`valid_until`) for the cache.
_VALID_UNTIL = "aggregator.valid_until"

Params = ParamSpec("Params")
Key = tuple[str, str, str, str, str, str, str, str]


def store_cached(view: Callable[Params, object]) -> Callable[Params, Response]:
    """Mark a view whose answer depends only on the request line, the host, `Accept`,
    `Accept-Encoding`, `Accept-Language` and the store, and give its 200s what a cached
    answer needs: a weak ETag (one for both encodings, which are the same document), gzip
    when accepted, and a 304 for a request whose validators still match."""

    @functools.wraps(view)
    def serve(*args: Params.args, **kwargs: Params.kwargs) -> Response:
        response = current_app.make_response(view(*args, **kwargs))  # type: ignore[arg-type]
        if response.status_code != 200:
            return response
        body = response.get_data()
        response.set_etag(hashlib.sha256(body).hexdigest()[:32], weak=True)
        response.vary.add("Accept-Encoding")
        if request.accept_encodings.quality("gzip") > 0:
            # mtime=0: the same document always compresses to the same bytes.
            response.set_data(gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0))
            response.content_encoding = "gzip"
        response.make_conditional(request)
        return response

    setattr(serve, _STORE_CACHED, True)  # a mark the response cache reads from the view
    return serve


def valid_until(moment: datetime) -> None:
    """Say that the answer being made holds only until `moment` (the app's clock): the
    earliest moment any part of the page names wins."""
    earlier: datetime | None = request.environ.get(_VALID_UNTIL)
    if earlier is None or moment < earlier:
        request.environ[_VALID_UNTIL] = moment


def valid_while_in_force(entries: Iterable[StoredEntry]) -> None:
    """The answer shows `entries`: it holds until the first of them expires (an alert)."""
    expiries = [entry.expires for entry in entries if entry.expires is not None]
    if expiries:
        valid_until(min(expiries))


def install(
    app: Flask, *, max_bytes: int = DEFAULT_MAX_BYTES, clock: Callable[[], float] = time.monotonic
) -> ResponseCache:
    """Put a response cache in front of `app`'s Flask handling, replacing any installed before."""
    inner: WSGIApplication = app.wsgi_app
    if isinstance(inner, ResponseCache):
        inner = inner.flask
    cache = ResponseCache(app, inner, max_bytes=max_bytes, clock=clock)
    app.wsgi_app = cache  # type: ignore[method-assign]
    app.extensions[CACHE_KEY] = cache
    return cache


def cache_counts(app: Flask) -> CacheCounts:
    """What the app's response cache has done in this process (zeros without one)."""
    cache: ResponseCache | None = app.extensions.get(CACHE_KEY)
    return cache.counts() if cache is not None else CacheCounts()


@dataclass(frozen=True, slots=True)
class _Answer:
    """Flask's answer as it was sent, with what replaying it needs worked out once."""

    store_version: int
    valid_until: datetime | None  # on the app's clock; None: until the store changes
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str | None
    last_modified: datetime | None
    not_modified_headers: list[tuple[str, str]]
    size: int  # bytes it holds in memory, roughly

    @classmethod
    def of(
        cls,
        store_version: int,
        valid_until: datetime | None,
        status: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> _Answer:
        named = {name.lower(): value for name, value in headers}
        last_modified = named.get("last-modified")
        return cls(
            store_version=store_version,
            valid_until=valid_until,
            status=status,
            headers=headers,
            body=body,
            etag=named.get("etag"),
            last_modified=None if last_modified is None else parse_date(last_modified),
            not_modified_headers=[
                (name, value) for name, value in headers if name.lower() not in _NOT_IN_304
            ],
            size=len(body)
            + sum(len(name) + len(value) for name, value in headers)
            + _ANSWER_OVERHEAD_BYTES,
        )

    @property
    def cacheable(self) -> bool:
        return self.status.startswith("200 ") and not any(
            name.lower() == "set-cookie" for name, _ in self.headers
        )


@dataclass(frozen=True, slots=True)
class _VersionReading:
    value: int
    read_at: float


class ResponseCache:
    """WSGI middleware in front of Flask, keeping at most `max_bytes` of answers.
    Concurrent misses for one answer wait for a single call into Flask."""

    def __init__(
        self,
        app: Flask,
        flask: WSGIApplication,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.flask = flask  # Flask's own handling, behind the cache
        self._app = app
        self._clock = clock
        self._answers = _Answers(max_bytes)
        self._fill_locks: dict[Key, threading.Lock] = {}
        self._lock = threading.Lock()  # guards the fields above and _version
        self._version: _VersionReading | None = None
        self._hits = self._misses = 0

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # A cookie may be a staff sign-in: whatever it changes, Flask sees it.
        if environ.get("REQUEST_METHOD") != "GET" or "HTTP_COOKIE" in environ:
            return self.flask(environ, start_response)
        key = (
            # Pages and feeds link to the address they were asked at (`links.site_url`).
            environ.get("wsgi.url_scheme", ""),
            environ.get("HTTP_HOST", ""),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT_ENCODING", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
            # A feed opened in a browser is typed as XML, for its stylesheet (`web.feeds`).
            environ.get("HTTP_ACCEPT", ""),
        )
        # Pages the cache never keeps (/healthz among them) must not wait on the store's
        # version: a stuck database would hold them up before Flask could say so.
        if not self._is_store_cached(environ):
            return self.flask(environ, start_response)
        try:
            version = self._store_version()
        except StoreUnavailable:
            return self.flask(environ, start_response)  # Flask's error page says so in words
        answer = self._lookup(key, version)
        if answer is None:
            answer = self._fill(environ, key, version)
        else:
            with self._lock:
                self._hits += 1
        return _replay(answer, environ, start_response)

    def counts(self) -> CacheCounts:
        with self._lock:
            return CacheCounts(
                hits=self._hits,
                misses=self._misses,
                evictions=self._answers.evictions,
                bytes=self._answers.bytes,
                max_bytes=self._answers.max_bytes,
            )

    def _store_version(self) -> int:
        """The store's version, read from the database at most once per check interval."""
        now = self._clock()
        with self._lock:
            reading = self._version
            if reading is not None and now - reading.read_at < VERSION_CHECK_SECONDS:
                return reading.value
        # Read outside the lock: a slow database must not hold up other threads' hits.
        state: AppState = self._app.extensions[EXTENSION_KEY]
        value = state.store.version()
        with self._lock:
            self._version = _VersionReading(value, now)
        return value

    def _lookup(self, key: Key, version: int) -> _Answer | None:
        with self._lock:
            answer = self._answers.get(key)
        if answer is None or answer.store_version != version:
            return None
        if answer.valid_until is not None and self._wall_clock() >= answer.valid_until:
            return None
        return answer

    def _wall_clock(self) -> datetime:
        state: AppState = self._app.extensions[EXTENSION_KEY]
        return state.clock()

    def _is_store_cached(self, environ: WSGIEnvironment) -> bool:
        try:
            endpoint, _ = self._app.url_map.bind_to_environ(environ).match()
        except HTTPException:  # no such page, or a redirect: Flask answers it
            return False
        view = self._app.view_functions.get(endpoint)
        return bool(getattr(view, _STORE_CACHED, False))

    def _fill(self, environ: WSGIEnvironment, key: Key, version: int) -> _Answer:
        """Flask's whole answer (the client's validators are compared afterwards, by
        `_replay`), kept when it is a 200 that sets no cookie."""
        lock = self._fill_lock(key)
        with lock:
            try:
                # Another thread may have filled it while this one waited for the lock.
                answer = self._lookup(key, version)
                if answer is not None:
                    return answer
                unconditional = {k: v for k, v in environ.items() if k not in _CONDITIONAL}
                answer = _call(self.flask, unconditional, version)
                with self._lock:
                    self._misses += 1
                    if answer.cacheable:
                        self._answers.put(key, answer)
                return answer
            finally:
                with self._lock:
                    # Done: later requests find the answer, or fill afresh. Locks of URLs
                    # nobody may keep (made-up 404s) must not pile up.
                    if self._fill_locks.get(key) is lock:
                        del self._fill_locks[key]

    def _fill_lock(self, key: Key) -> threading.Lock:
        with self._lock:
            return self._fill_locks.setdefault(key, threading.Lock())


class _Segment:
    """Answers in least recently used order, and the bytes they hold."""

    def __init__(self) -> None:
        self.answers: OrderedDict[Key, _Answer] = OrderedDict()
        self.bytes = 0

    def add(self, key: Key, answer: _Answer) -> None:
        self.answers[key] = answer
        self.bytes += answer.size

    def pop(self, key: Key) -> _Answer | None:
        answer = self.answers.pop(key, None)
        if answer is not None:
            self.bytes -= answer.size
        return answer

    def pop_oldest(self) -> tuple[Key, _Answer]:
        key, answer = self.answers.popitem(last=False)
        self.bytes -= answer.size
        return key, answer


class _Answers:
    """The kept answers, within `max_bytes`, in two segments. A new answer starts on
    probation; asked for again, it is protected. Requests made once (made-up searches, deep
    pages, crawlers) push out one another before any protected answer, such as the feeds
    subscribers poll. Not thread-safe: the cache's lock guards it."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.evictions = 0
        self._probation = _Segment()
        self._protected = _Segment()

    @property
    def bytes(self) -> int:
        return self._probation.bytes + self._protected.bytes

    def get(self, key: Key) -> _Answer | None:
        answer = self._protected.answers.get(key)
        if answer is not None:
            self._protected.answers.move_to_end(key)
            return answer
        answer = self._probation.pop(key)
        if answer is not None:
            self._protect(key, answer)
        return answer

    def put(self, key: Key, answer: _Answer) -> None:
        if answer.size > self.max_bytes:
            return
        if self._protected.pop(key) is not None:  # a new version of an answer asked for again
            self._protect(key, answer)
            return
        self._probation.pop(key)
        self._probation.add(key, answer)
        self._evict()

    def _protect(self, key: Key, answer: _Answer) -> None:
        self._protected.add(key, answer)
        while (
            self._protected.bytes > self.max_bytes * _PROTECTED_SHARE
            and len(self._protected.answers) > 1
        ):
            self._probation.add(*self._protected.pop_oldest())
        self._evict()

    def _evict(self) -> None:
        while self._probation.bytes + self._protected.bytes > self.max_bytes:
            segment = self._probation if self._probation.answers else self._protected
            segment.pop_oldest()
            self.evictions += 1


def _call(flask: WSGIApplication, environ: WSGIEnvironment, version: int) -> _Answer:
    given: list[tuple[str, list[tuple[str, str]]]] = []

    def capture(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], object]:
        given.append((status, headers))
        return lambda _: None  # Flask returns its body; it never writes one

    chunks = flask(environ, capture)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    status, headers = given[-1]
    return _Answer.of(version, environ.get(_VALID_UNTIL), status, headers, body)


def _replay(
    answer: _Answer, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    if _not_modified(answer, environ):
        start_response("304 Not Modified", answer.not_modified_headers)
        return []
    start_response(answer.status, answer.headers)
    return [answer.body]


def _not_modified(answer: _Answer, environ: WSGIEnvironment) -> bool:
    """Whether the client's copy, named by its validators, is still `answer` (RFC 9110)."""
    if not answer.status.startswith("200 "):
        return False
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is None and "HTTP_IF_MODIFIED_SINCE" not in environ:
        return False  # most requests: spare them the parsing below
    if if_none_match is not None and if_none_match == answer.etag:
        return True  # what a poller sends back: the ETag of its copy, as it was given
    return not is_resource_modified(environ, etag=answer.etag, last_modified=answer.last_modified)
