"""The fetch stage: one bounded HTTP GET of a feed, turned into a `FetchResult`.

Every fetch is bounded: a total deadline, a cap on the decoded body, a number of
redirects (each hop checked), an address policy applied to the address actually
connected to, and a per-host limit on simultaneous requests. Whatever goes wrong
becomes a `FetchResult` with an error a person can act on; `Fetcher.fetch` never raises.

Each fetch opens its own connection and closes it: a source is polled minutes apart,
so keeping connections alive would buy little, and a private connection lets the
deadline cut exactly this fetch's socket.
"""

from __future__ import annotations

import errno
import logging
import socket
import ssl
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.client import HTTPException
from urllib.parse import quote, urljoin, urlsplit

from urllib3 import HTTPResponse
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import DecodeError, HTTPError, ProtocolError, ReadTimeoutError

from aggregator import __version__
from aggregator.fetch.netpolicy import (
    AddressInfo,
    AddressPolicy,
    AddressRefused,
    allowed_addresses,
    connect_first,
    machine_of,
)
from aggregator.models import FetchResult, FetchStatus, Validators
from aggregator.text.chars import strip_control_chars

PROJECT_URL = "https://github.com/feed-aggregator/feed-aggregator"
USER_AGENT = f"feed-aggregator/{__version__} (+{PROJECT_URL})"
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_READ_CHUNK = 64 * 1024
# Header values and status phrases are the server's text and end up in the store: cleaned
# of what PostgreSQL or XML refuse (NUL, other controls), and bounded. A longer validator
# is dropped rather than cut: a cut ETag would never match.
_MAX_VALIDATOR = 1_000  # characters
_MAX_REASON = 100
_MAX_ERROR = 2_000

logger = logging.getLogger(__name__)


class Fetcher:
    """One shared HTTP client for every source; `fetch` is safe to call from many threads."""

    def __init__(
        self,
        *,
        allow_private_addresses: bool = False,
        allowed_addresses: Collection[str] = (),
        user_agent: str = USER_AGENT,
        timeout: float = 30.0,
        max_bytes: int = 10 * 1024 * 1024,
        max_redirects: int = 5,
        per_host: int = 2,
    ) -> None:
        """`allowed_addresses`: exact IP addresses allowed even though they are not public,
        so a test can allow its own server at 127.0.0.1 and still see 127.0.0.2 refused.
        """
        self._policy = AddressPolicy.build(
            allow_private=allow_private_addresses, exceptions=allowed_addresses
        )
        self._headers = {
            "User-Agent": user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate",
            "Connection": "close",
        }
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._host_slots = _HostSlots(per_host)

    def fetch(self, source_id: str, url: str, validators: Validators) -> FetchResult:
        fetched_at = datetime.now(UTC)
        deadline = Deadline(self._timeout)
        try:
            answer = self._follow_redirects(url, validators, deadline)
            return _result(source_id, answer, validators, fetched_at, deadline.elapsed_ms())
        except FetchFailed as failure:
            return FetchResult(
                source_id=source_id,
                url=failure.url,
                status="error",
                fetched_at=fetched_at,
                elapsed_ms=deadline.elapsed_ms(),
                http_status=failure.http_status,
                error=strip_control_chars(failure.message)[:_MAX_ERROR],
                retry_after=failure.retry_after,
            )
        except Exception as error:  # a bug here must cost one source one poll, not the pass
            logger.exception("unexpected error fetching %s", url)
            return FetchResult(
                source_id=source_id,
                url=url,
                status="error",
                fetched_at=fetched_at,
                elapsed_ms=deadline.elapsed_ms(),
                error=f"unexpected error while fetching: {error!r}"[:_MAX_ERROR],
            )
        finally:
            deadline.stop()

    def _follow_redirects(self, url: str, validators: Validators, deadline: Deadline) -> _Answer:
        target = _Target.parse(url)
        visited = {target.url}
        redirects = 0
        while True:
            answer = self._get(target, validators, deadline)
            if answer.status not in _REDIRECT_STATUSES:
                return answer
            if redirects == self._max_redirects:
                raise FetchFailed(
                    f"too many redirects: gave up after {redirects}, the last from {answer.url}",
                    url=answer.url,
                    http_status=answer.status,
                )
            target = _redirect_target(answer)
            if target.url in visited:
                raise FetchFailed(
                    f"the server redirects in a loop: {answer.url} leads back to {target.url}",
                    url=answer.url,
                    http_status=answer.status,
                )
            visited.add(target.url)
            redirects += 1

    def _get(self, target: _Target, validators: Validators, deadline: Deadline) -> _Answer:
        """One request to one URL: redirects are answers here, followed by the caller."""
        try:
            addresses = allowed_addresses(target.host, target.port, self._policy)
            with self._host_slots.hold(machine_of(addresses), deadline.remaining()):
                deadline.start()
                return self._exchange(target, addresses, validators, deadline)
        except (OSError, HTTPException, HTTPError, UnicodeError) as error:
            raise FetchFailed(_explain(error, target, deadline), url=target.url) from error

    def _exchange(
        self,
        target: _Target,
        addresses: list[AddressInfo],
        validators: Validators,
        deadline: Deadline,
    ) -> _Answer:
        connection = guarded_connection(
            target.host, target.port, https=target.https, addresses=addresses, deadline=deadline
        )
        try:
            connection.request(
                "GET",
                target.request_path,
                headers=self._request_headers(validators),
                preload_content=False,
            )
            response = connection.getresponse()
            body = None
            if 200 <= response.status < 300:
                body = _read_body(response, target, self._max_bytes)
            if deadline.expired:  # a cut connection can look like the end of the body
                raise TimeoutError
            reason = strip_control_chars(response.reason or "")[:_MAX_REASON]
            return _Answer(target.url, response.status, reason, response, body)
        finally:
            connection.close()
            deadline.release_sockets()

    def _request_headers(self, validators: Validators) -> dict[str, str]:
        headers = dict(self._headers)
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        return headers


class FetchFailed(Exception):
    """Ends a fetch: `message` is what the person running the aggregator reads."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        http_status: int | None = None,
        retry_after: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.http_status = http_status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class _Target:
    url: str
    https: bool
    host: str
    port: int
    request_path: str

    @classmethod
    def parse(cls, url: str) -> _Target:
        try:
            parts = urlsplit(url.strip())
        except ValueError:  # e.g. an unclosed IPv6 bracket
            raise FetchFailed(f"{url!r} is not a valid URL", url=url) from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchFailed(f"{url!r} is not an http or https URL", url=url)
        if not parts.hostname:
            raise FetchFailed(f"the URL {url!r} has no host name", url=url)
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise FetchFailed(f"the URL {url!r} has an invalid port", url=url) from None
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        # Non-ASCII paths (Chinese page names are common) must be percent-encoded on the wire;
        # what is already encoded stays as it is.
        return cls(
            url=parts._replace(fragment="").geturl(),
            https=scheme == "https",
            host=parts.hostname,
            port=port,
            request_path=quote(path, safe="!$%&'()*+,/:;=?@[]~"),
        )


@dataclass(frozen=True, slots=True)
class _Answer:
    url: str
    status: int
    reason: str
    response: HTTPResponse
    body: bytes | None  # read for 2xx answers only

    def header(self, name: str) -> str | None:
        value: str | None = self.response.headers.get(name)
        return None if value is None else strip_control_chars(value).strip()

    @property
    def status_text(self) -> str:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = self.reason
        return f"{self.status} {phrase}".strip()


def _result(
    source_id: str,
    answer: _Answer,
    sent: Validators,
    fetched_at: datetime,
    elapsed_ms: int,
) -> FetchResult:
    etag, last_modified = _validator(answer, "ETag"), _validator(answer, "Last-Modified")
    if answer.status == 304 and not (sent.etag or sent.last_modified):
        raise FetchFailed(
            'the server answered "not modified" (HTTP 304) to a request that asked for nothing'
            " conditional: it sent no feed; the server is misconfigured",
            url=answer.url,
            http_status=answer.status,
        )
    if answer.status == 304:
        status: FetchStatus = "not_modified"
        validators = Validators(etag or sent.etag, last_modified or sent.last_modified)
    elif 200 <= answer.status < 300:
        status = "ok"
        validators = Validators(etag, last_modified)
    else:
        raise _status_failure(answer)
    return FetchResult(
        source_id=source_id,
        url=answer.url,
        status=status,
        fetched_at=fetched_at,
        elapsed_ms=elapsed_ms,
        http_status=answer.status,
        body=answer.body,
        content_type=answer.header("Content-Type"),
        validators=validators,
    )


def _validator(answer: _Answer, name: str) -> str | None:
    value = answer.header(name)
    return value if value and len(value) <= _MAX_VALIDATOR else None


def _status_failure(answer: _Answer) -> FetchFailed:
    text = answer.status_text
    retry_after = None
    if answer.status in (429, 503):
        retry_after = _parse_retry_after(answer.header("Retry-After"))
    if retry_after is not None:
        message = (
            f"the server asked us to wait (HTTP {text}) until {retry_after:%Y-%m-%d %H:%M:%S} UTC"
        )
    elif answer.status == 404:
        message = f"the server answered {text}: check the URL"
    elif answer.status == 410:
        message = f"the server answered {text}: the feed was removed; find its new URL"
    elif answer.status in (401, 403):
        message = f"the server answered {text}: it does not let us read the feed"
    elif answer.status == 429:
        message = f"the server answered {text}: we asked too often"
    elif answer.status >= 500:
        message = f"the server answered {text}: a problem on the server's side; will retry"
    else:
        message = f"the server answered {text} instead of a feed"
    return FetchFailed(message, url=answer.url, http_status=answer.status, retry_after=retry_after)


def _parse_retry_after(value: str | None) -> datetime | None:
    """Retry-After is either a number of seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        if value.isdigit():
            return datetime.now(UTC) + timedelta(seconds=int(value))
        when = parsedate_to_datetime(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _redirect_target(answer: _Answer) -> _Target:
    location = answer.header("Location")
    if not location:
        raise FetchFailed(
            f"the server answered {answer.status_text} without saying where to (no Location)",
            url=answer.url,
            http_status=answer.status,
        )
    try:
        next_url = urljoin(answer.url, location.strip())
    except ValueError:
        raise FetchFailed(
            f"the server redirected to an invalid URL: {location!r}",
            url=answer.url,
            http_status=answer.status,
        ) from None
    if urlsplit(next_url).scheme.lower() not in ("http", "https"):
        raise FetchFailed(
            f"the server redirected to {next_url!r}: only http and https addresses are followed",
            url=answer.url,
            http_status=answer.status,
        )
    return _Target.parse(next_url)


def _read_body(response: HTTPResponse, target: _Target, max_bytes: int) -> bytes:
    """Read the decoded body, giving up as soon as it exceeds `max_bytes`.

    urllib3 decompresses incrementally, never more than the amount asked for, so a
    compression bomb is stopped after `max_bytes` of output, not after inflating.
    """
    body = bytearray()
    while chunk := response.read(_READ_CHUNK, decode_content=True):
        body += chunk
        if len(body) > max_bytes:
            raise FetchFailed(
                f"the feed is larger than {_describe_size(max_bytes)}", url=target.url
            )
    return bytes(body)


def _describe_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} bytes"


# getaddrinfo's answers for a name that does not exist (EAI_NODATA: it exists, without an
# address); the constants are missing where the platform lacks them.
_NO_SUCH_NAME = frozenset(
    getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)
)
# A name that exists wherever there is a working resolver (RFC 2606 reserves it): when it
# does not resolve either, "no such name" says nothing about the URL. Asked at most once a
# minute per process, and only after a lookup has failed.
REFERENCE_NAME = "example.com"
_REFERENCE_CHECK_SECONDS = 60.0
_reference_checked: tuple[float, bool] | None = None


def _resolver_answers() -> bool:
    """Whether this machine's resolver finds a name that surely exists (RFC 2606's), to tell
    a sinkholed or cut-off resolver, which says "no such name" to everything, from a real
    "no such name"."""
    global _reference_checked
    now = time.monotonic()
    if _reference_checked is not None and now - _reference_checked[0] < _REFERENCE_CHECK_SECONDS:
        return _reference_checked[1]
    try:
        socket.getaddrinfo(REFERENCE_NAME, 80, type=socket.SOCK_STREAM)
        answers = True
    except OSError:
        answers = False
    _reference_checked = (now, answers)
    return answers


def _explain(error: BaseException, target: _Target, deadline: Deadline) -> str:
    """Turn a network failure into words a person can act on."""
    if deadline.expired or isinstance(error, TimeoutError | ReadTimeoutError):
        return f"the server was too slow: no complete response within {deadline.seconds:g} s"
    if isinstance(error, AddressRefused):
        return (
            f"refused to connect: {error}; set allow_private_addresses to fetch from "
            "private networks"
        )
    if isinstance(error, socket.gaierror):
        # "No such name" is the URL's fault when the resolver finds other names; anything
        # else (EAI_AGAIN above all, or "no such name" for every name) is what a machine
        # without network or DNS server gets, and nobody should go hunting for a typo in a
        # URL that is right.
        if error.errno in _NO_SUCH_NAME and _resolver_answers():
            return f"the host name {target.host} does not exist: check the URL"
        return (
            f"the host name {target.host} could not be looked up: this machine may have no"
            " network or no DNS server"
        )
    if isinstance(error, OSError) and error.errno == errno.ENETUNREACH:
        return f"no network route to {target.host}: this machine may have no network"
    if isinstance(error, ConnectionRefusedError):
        return f"{target.host} port {target.port} refused the connection: is the server down?"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the TLS certificate of {target.host} is not valid: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"the TLS connection to {target.host} failed: {error.reason or error}"
    if isinstance(error, DecodeError):
        return "the server sent a compressed body that could not be decompressed"
    if isinstance(error, ProtocolError | HTTPException):
        return f"the connection to {target.host} broke off or was not HTTP: {error}"
    if isinstance(error, UnicodeError):
        return f"the host name {target.host!r} is not valid"
    return f"the connection to {target.host} failed: {error}"


class _GuardedHTTPConnection(HTTPConnection):
    """A connection that dials only the addresses the policy allowed, under the fetch's
    deadline."""

    addresses: list[AddressInfo]
    deadline: Deadline

    def _new_conn(self) -> socket.socket:
        sock = connect_first(self.addresses, self.deadline.remaining())
        self.deadline.watch(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection, _GuardedHTTPConnection):
    """TLS over the guarded dialer: HTTPSConnection.connect calls our `_new_conn`."""


def guarded_connection(
    host: str, port: int | None, *, https: bool, addresses: list[AddressInfo], deadline: Deadline
) -> HTTPConnection:
    """An HTTP(S) connection that dials only `addresses` (which the address policy allowed)
    and is cut when `deadline` runs out: feed fetches and outbound POSTs alike."""
    kind = _GuardedHTTPSConnection if https else _GuardedHTTPConnection
    connection = kind(host, port, timeout=deadline.remaining())
    connection.addresses = addresses
    connection.deadline = deadline
    return connection


class Deadline:
    """The total time one fetch (or outbound POST) may take, enforced by cutting its
    connections.

    Socket timeouts bound each read, not their sum: a server trickling a byte a second
    would never time out. A timer shuts the fetch's sockets down when time is up, which
    wakes any read blocked on them. The clock starts once the fetch holds its first
    per-host slot, so waiting behind other fetches of the same host does not count.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._started_at: float | None = None
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        if self._started_at is None:
            self._started_at = time.monotonic()
            self._timer.start()

    def remaining(self) -> float | None:
        """Seconds left (None before the clock starts); TimeoutError once none are."""
        if self._started_at is None:
            return None
        left = self._started_at + self.seconds - time.monotonic()
        if left <= 0 or self.expired:
            raise TimeoutError
        return left

    def elapsed_ms(self) -> int:
        if self._started_at is None:
            return 0
        return round((time.monotonic() - self._started_at) * 1000)

    def watch(self, sock: socket.socket) -> None:
        # A duplicate descriptor shares the connection, so shutting it down cuts the
        # connection, and stays valid even after TLS wrapping detaches the original.
        duplicate = sock.dup()
        with self._lock:
            self._sockets.append(duplicate)
            if self.expired:
                _cut(duplicate)

    def release_sockets(self) -> None:
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def stop(self) -> None:
        self._timer.cancel()
        self.release_sockets()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _cut(sock)


def _cut(sock: socket.socket) -> None:
    with suppress(OSError):  # already closed by its end: nothing left to cut
        sock.shutdown(socket.SHUT_RDWR)


class _HostSlots:
    """At most `per_host` requests in flight to any one machine (by its resolved address,
    not the URL's spelling of it), across all threads."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    @contextmanager
    def hold(self, machine: str, timeout: float | None) -> Iterator[None]:
        """Wait (at most `timeout` seconds, or for ever) for a slot; TimeoutError if none."""
        key = machine
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = threading.BoundedSemaphore(self._per_host)
        if not slot.acquire(timeout=timeout):
            raise TimeoutError
        try:
            yield
        finally:
            slot.release()
