"""Generated feed documents, kept in process until the store changes.

A burst of subscribers polling one feed must cost one render, not one per request. Each
document is cached with the store version it was rendered at; `Store.version()` is a
counter in the database, so a write by a worker in another process invalidates it too.

Staleness bound: the version is read from the database at most once per
`version_check_seconds` (default 1 s) per process, so a request may be answered from a
document up to that long after a write made it stale. Cache hits and conditional requests
within that window never touch the database.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from flask import Response, request

VERSION_CHECK_SECONDS = 1.0
# Enough for every category × format at the default limit, with room for odd limits.
MAX_DOCUMENTS = 256
_GZIP_LEVEL = 6


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    """A document as its renderer produced it."""

    body: bytes
    last_modified: datetime | None  # the newest entry's `updated`; None for pages


@dataclass(frozen=True, slots=True)
class CachedFeed:
    """A document ready to serve: both encodings and its validators."""

    body: bytes
    gzipped: bytes
    etag: str  # unquoted; the same for both encodings, so it is sent as a weak ETag
    last_modified: datetime | None
    store_version: int

    @classmethod
    def of(cls, rendered: RenderedFeed, store_version: int) -> CachedFeed:
        return cls(
            body=rendered.body,
            # mtime=0: the same document always compresses to the same bytes.
            gzipped=gzip.compress(rendered.body, compresslevel=_GZIP_LEVEL, mtime=0),
            etag=hashlib.sha256(rendered.body).hexdigest()[:32],
            last_modified=rendered.last_modified,
            store_version=store_version,
        )


@dataclass(slots=True)
class _VersionReading:
    value: int
    read_at: float


class FeedCache:
    """Documents keyed by what was asked for, valid while the store's version is unchanged.

    Thread-safe: under gunicorn's threaded workers, concurrent requests for one document
    wait for a single render instead of each starting their own.
    """

    def __init__(
        self,
        version_check_seconds: float = VERSION_CHECK_SECONDS,
        max_documents: int = MAX_DOCUMENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.version_check_seconds = version_check_seconds
        self.max_documents = max_documents
        self.clock = clock
        self.renders = 0  # how many documents were generated: observable, for tests and metrics
        self._documents: OrderedDict[Hashable, CachedFeed] = OrderedDict()
        self._render_locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()  # guards the fields above and _version
        self._version: _VersionReading | None = None

    def document(
        self, key: Hashable, store_version: Callable[[], int], render: Callable[[], RenderedFeed]
    ) -> CachedFeed:
        """The cached document for `key`, rendered with `render` when missing or stale."""
        version = self.current_version(store_version)
        cached = self._lookup(key, version)
        if cached is not None:
            return cached
        with self._render_lock(key):
            # Another thread may have rendered it while this one waited for the lock.
            cached = self._lookup(key, version)
            if cached is not None:
                return cached
            fresh = CachedFeed.of(render(), version)
            with self._lock:
                self.renders += 1
                self._documents[key] = fresh
                self._documents.move_to_end(key)
                while len(self._documents) > self.max_documents:
                    evicted, _ = self._documents.popitem(last=False)
                    self._render_locks.pop(evicted, None)
            return fresh

    def current_version(self, store_version: Callable[[], int]) -> int:
        """The store's version, read from the database at most once per check interval."""
        now = self.clock()
        with self._lock:
            reading = self._version
            if reading is not None and now - reading.read_at < self.version_check_seconds:
                return reading.value
        # Read outside the lock: a slow database must not block cache hits of other threads.
        value = store_version()
        with self._lock:
            self._version = _VersionReading(value, now)
        return value

    def _lookup(self, key: Hashable, version: int) -> CachedFeed | None:
        with self._lock:
            cached = self._documents.get(key)
            if cached is None or cached.store_version != version:
                return None
            self._documents.move_to_end(key)
            return cached

    def _render_lock(self, key: Hashable) -> threading.Lock:
        with self._lock:
            return self._render_locks.setdefault(key, threading.Lock())


def respond(document: CachedFeed, content_type: str) -> Response:
    """The response for `document`: gzipped when the client accepts it, with its validators,
    or a 304 when the request's validators still match."""
    compressed = request.accept_encodings.quality("gzip") > 0
    body = document.gzipped if compressed else document.body
    response = Response(body, content_type=content_type)
    if compressed:
        response.content_encoding = "gzip"
    response.vary.add("Accept-Encoding")
    # Weak: one validator for both encodings, which are the same document.
    response.set_etag(document.etag, weak=True)
    if document.last_modified is not None:
        response.last_modified = document.last_modified
    response.make_conditional(request)
    return response
