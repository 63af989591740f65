"""The fetch stage, over real HTTP against a local server."""

from __future__ import annotations

import gzip
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from aggregator import __version__
from aggregator.fetch import fetcher as fetcher_module
from aggregator.fetch.fetcher import REFERENCE_NAME, Fetcher
from aggregator.fetch.netpolicy import AddressPolicy, allowed_addresses, machine_of, non_public_kind
from aggregator.models import FetchResult, Validators
from tests.feedserver import FeedServer, Reply, RequestInfo
from tests.fixtures_http import read_data

FEED = read_data("fetch/news.xml")
RSS = "application/rss+xml; charset=utf-8"
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 01 May 2024 08:00:00 GMT"


@pytest.fixture
def fetcher() -> Fetcher:
    return Fetcher(allow_private_addresses=True, timeout=5.0)


def fetch(fetcher: Fetcher, url: str, validators: Validators | None = None) -> FetchResult:
    return fetcher.fetch("kcg-news", url, validators or Validators())


# --- a successful fetch -------------------------------------------------------


def test_a_feed_comes_back_with_its_body_content_type_and_validators(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/rss.xml", FEED, etag=ETAG, last_modified=LAST_MODIFIED)

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert (result.status, result.http_status, result.error) == ("ok", 200, None)
    assert result.body == FEED
    assert result.content_type == RSS
    assert result.validators == Validators(etag=ETAG, last_modified=LAST_MODIFIED)
    assert result.url == feed_server.url("/rss.xml")


def test_the_result_says_when_the_fetch_happened_and_how_long_it_took(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    def slow_feed(request: RequestInfo) -> Reply:
        time.sleep(0.2)
        return Reply(FEED, headers={"Content-Type": RSS})

    feed_server.handle("/rss.xml", slow_feed)
    before = datetime.now(UTC)

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert before <= result.fetched_at <= datetime.now(UTC)
    assert result.fetched_at.tzinfo == UTC
    assert result.elapsed_ms >= 200


def test_the_request_names_the_aggregator_and_prefers_feeds(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/rss.xml", FEED)

    fetch(fetcher, feed_server.url("/rss.xml"))

    [request] = feed_server.requests_to("/rss.xml")
    assert (request.header("User-Agent") or "").startswith(
        f"feed-aggregator/{__version__} (+https://"
    )
    assert (request.header("Accept") or "").startswith("application/atom+xml")
    assert request.header("Accept-Encoding") == "gzip, deflate"


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress)],
)
def test_a_compressed_feed_is_decompressed(
    feed_server: FeedServer, fetcher: Fetcher, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    feed_server.serve("/rss.xml", compress(FEED), headers={"Content-Encoding": encoding})

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert result.body == FEED


def test_a_url_with_chinese_in_its_path_is_fetched(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve(quote("/新聞/rss.xml"), FEED)

    result = fetch(fetcher, feed_server.url("/新聞/rss.xml"))

    assert (result.status, result.body) == ("ok", FEED)


# --- conditional GET ------------------------------------------------------------


def test_the_last_validators_are_sent_as_a_conditional_get(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/rss.xml", FEED)

    fetch(fetcher, feed_server.url("/rss.xml"), Validators(ETAG, LAST_MODIFIED))

    [request] = feed_server.requests_to("/rss.xml")
    assert request.header("If-None-Match") == ETAG
    assert request.header("If-Modified-Since") == LAST_MODIFIED


def test_an_unchanged_feed_is_not_modified_and_has_no_body(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/rss.xml", FEED, etag=ETAG, last_modified=LAST_MODIFIED)

    result = fetch(fetcher, feed_server.url("/rss.xml"), Validators(ETAG, LAST_MODIFIED))

    assert (result.status, result.http_status, result.body) == ("not_modified", 304, None)
    assert result.validators == Validators(ETAG, LAST_MODIFIED)


def test_not_modified_to_a_request_that_asked_for_nothing_conditional_is_a_failure(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.handle("/rss.xml", lambda request: Reply(status=304))

    result = fetch(fetcher, feed_server.url("/rss.xml"), Validators())

    assert (result.status, result.http_status, result.body) == ("error", 304, None)
    assert result.error and "asked for nothing conditional" in result.error


# --- the server says no -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "explanation"),
    [
        (404, "the server answered 404 Not Found: check the URL"),
        (410, "the server answered 410 Gone: the feed was removed"),
        (403, "the server answered 403 Forbidden: it does not let us read the feed"),
        (500, "the server answered 500 Internal Server Error: a problem on the server's side"),
        (502, "the server answered 502 Bad Gateway: a problem on the server's side"),
    ],
)
def test_an_error_status_is_explained(
    feed_server: FeedServer, fetcher: Fetcher, status: int, explanation: str
) -> None:
    feed_server.serve("/rss.xml", "<html>error page</html>", status=status)

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert (result.status, result.http_status, result.body) == ("error", status, None)
    assert result.error is not None and result.error.startswith(explanation)


def test_retry_after_in_seconds_on_429_says_until_when_to_wait(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/rss.xml", "slow down", status=429, headers={"Retry-After": "120"})

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert result.retry_after is not None
    expected = datetime.now(UTC) + timedelta(seconds=120)
    assert abs(result.retry_after - expected) < timedelta(seconds=5)
    assert result.error == (
        "the server asked us to wait (HTTP 429 Too Many Requests) until "
        f"{result.retry_after:%Y-%m-%d %H:%M:%S} UTC"
    )


def test_retry_after_as_an_http_date_on_503_says_until_when_to_wait(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    until = datetime(2031, 5, 1, 12, 30, tzinfo=UTC)
    retry_after = format_datetime(until, usegmt=True)
    feed_server.serve("/rss.xml", "maintenance", status=503, headers={"Retry-After": retry_after})

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert (result.status, result.http_status, result.retry_after) == ("error", 503, until)
    assert result.error == (
        "the server asked us to wait (HTTP 503 Service Unavailable) until 2031-05-01 12:30:00 UTC"
    )


def test_a_429_without_retry_after_gives_no_time_to_wait(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/rss.xml", "slow down", status=429)

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert result.retry_after is None
    assert result.error == "the server answered 429 Too Many Requests: we asked too often"


# --- bounded in time ----------------------------------------------------------------


def test_a_trickling_server_is_cut_off_at_the_deadline(feed_server: FeedServer) -> None:
    feed_server.handle(
        "/rss.xml", lambda request: Reply([b"<"] * 60, headers={"Content-Type": RSS}, chunk_delay=1)
    )
    fetcher = Fetcher(allow_private_addresses=True, timeout=1.5)
    started = time.monotonic()

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert time.monotonic() - started < 3 * 1.5
    assert (result.status, result.body) == ("error", None)
    assert result.error == "the server was too slow: no complete response within 1.5 s"


def test_a_server_that_never_answers_is_cut_off_at_the_deadline(feed_server: FeedServer) -> None:
    released = threading.Event()

    def never_answers(request: RequestInfo) -> Reply:
        released.wait(10)
        return Reply(FEED)

    feed_server.handle("/rss.xml", never_answers)
    fetcher = Fetcher(allow_private_addresses=True, timeout=1.5)
    started = time.monotonic()
    try:
        result = fetch(fetcher, feed_server.url("/rss.xml"))
    finally:
        released.set()

    assert time.monotonic() - started < 3 * 1.5
    assert result.error == "the server was too slow: no complete response within 1.5 s"


# --- bounded in size ----------------------------------------------------------------


def test_a_feed_larger_than_the_cap_is_refused(feed_server: FeedServer) -> None:
    feed_server.serve("/rss.xml", b"x" * 1025)
    fetcher = Fetcher(allow_private_addresses=True, max_bytes=1024)

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert (result.status, result.body) == ("error", None)
    assert result.error == "the feed is larger than 1 KB"


def test_a_feed_exactly_at_the_cap_is_accepted(feed_server: FeedServer) -> None:
    feed_server.serve("/rss.xml", b"x" * 1024)
    fetcher = Fetcher(allow_private_addresses=True, max_bytes=1024)

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert result.status == "ok"


def test_a_gzip_bomb_is_refused_without_inflating_it(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    # 1 GiB of zeros in about 1 MB: 1024 gzip members of 1 MiB each, built in milliseconds.
    bomb = gzip.compress(bytes(1024 * 1024)) * 1024
    feed_server.serve("/rss.xml", bomb, headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        result = fetch(fetcher, feed_server.url("/rss.xml"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.error == "the feed is larger than 10 MB"
    assert peak < 64 * 1024 * 1024


def test_a_body_cut_short_of_its_length_is_an_error(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/rss.xml", FEED[:100], headers={"Content-Length": str(len(FEED))})

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert (result.status, result.body) == ("error", None)
    assert result.error is not None and "broke off" in result.error


# --- redirects ----------------------------------------------------------------------


def serve_redirect_chain(server: FeedServer, redirects: int) -> None:
    """/hop0 redirects to /hop1 ... to /hop<redirects>, which is the feed."""
    for hop in range(redirects):
        server.serve(f"/hop{hop}", "", status=302, headers={"Location": f"/hop{hop + 1}"})
    server.serve(f"/hop{redirects}", FEED)


def test_five_redirects_are_followed_to_the_feed(feed_server: FeedServer, fetcher: Fetcher) -> None:
    serve_redirect_chain(feed_server, 5)

    result = fetch(fetcher, feed_server.url("/hop0"))

    assert (result.status, result.body) == ("ok", FEED)
    assert result.url == feed_server.url("/hop5")


def test_a_sixth_redirect_is_not_followed(feed_server: FeedServer, fetcher: Fetcher) -> None:
    serve_redirect_chain(feed_server, 6)

    result = fetch(fetcher, feed_server.url("/hop0"))

    assert result.status == "error"
    assert result.error == f"too many redirects: gave up after 5, the last from {result.url}"
    assert feed_server.requests_to("/hop6") == []


def test_a_redirect_loop_is_reported(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.serve("/a", "", status=301, headers={"Location": feed_server.url("/b")})
    feed_server.serve("/b", "", status=301, headers={"Location": "/a"})

    result = fetch(fetcher, feed_server.url("/a"))

    assert result.error == (
        f"the server redirects in a loop: {feed_server.url('/b')} leads back to "
        f"{feed_server.url('/a')}"
    )


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://127.0.0.1/rss.xml", "javascript:alert(1)"]
)
def test_a_redirect_to_a_non_http_scheme_is_refused(
    feed_server: FeedServer, fetcher: Fetcher, location: str
) -> None:
    feed_server.serve("/rss.xml", "", status=302, headers={"Location": location})

    result = fetch(fetcher, feed_server.url("/rss.xml"))

    assert result.error == (
        f"the server redirected to {location!r}: only http and https addresses are followed"
    )


@pytest.mark.parametrize(
    ("url", "explanation"),
    [
        ("file:///etc/passwd", "'file:///etc/passwd' is not an http or https URL"),
        ("ftp://example.org/rss.xml", "'ftp://example.org/rss.xml' is not an http or https URL"),
        ("www.kcg.gov.tw/rss.xml", "'www.kcg.gov.tw/rss.xml' is not an http or https URL"),
        ("http:///rss.xml", "the URL 'http:///rss.xml' has no host name"),
        ("http://[::1/rss.xml", "'http://[::1/rss.xml' is not a valid URL"),
        ("http://127.0.0.1:99999/", "the URL 'http://127.0.0.1:99999/' has an invalid port"),
    ],
)
def test_a_url_that_cannot_be_fetched_is_explained(
    fetcher: Fetcher, url: str, explanation: str
) -> None:
    result = fetch(fetcher, url)

    assert (result.status, result.error) == ("error", explanation)


# --- which addresses may be reached -----------------------------------------------------


def test_a_loopback_address_is_refused_before_connecting(feed_server: FeedServer) -> None:
    feed_server.serve("/rss.xml", FEED)

    result = fetch(Fetcher(), feed_server.url("/rss.xml"))

    assert result.error == (
        "refused to connect: 127.0.0.1 is a loopback address; "
        "set allow_private_addresses to fetch from private networks"
    )
    assert feed_server.connection_count == 0


def test_a_host_name_is_judged_by_the_address_it_resolves_to(feed_server: FeedServer) -> None:
    port = feed_server.base_url.rsplit(":", 1)[1]

    result = fetch(Fetcher(), f"http://localhost:{port}/rss.xml")

    assert result.error is not None
    assert result.error.startswith("refused to connect: localhost resolves to ")
    assert "a loopback address" in result.error
    assert feed_server.connection_count == 0


def test_a_redirect_to_another_loopback_address_is_refused(feed_server: FeedServer) -> None:
    port = feed_server.base_url.rsplit(":", 1)[1]
    elsewhere = f"http://127.0.0.2:{port}/rss.xml"
    feed_server.serve("/start", "", status=302, headers={"Location": elsewhere})
    only_the_test_server = Fetcher(allowed_addresses={"127.0.0.1"})

    result = fetch(only_the_test_server, feed_server.url("/start"))

    assert len(feed_server.requests_to("/start")) == 1
    assert result.url == elsewhere
    assert result.error is not None
    assert result.error.startswith("refused to connect: 127.0.0.2 is a loopback address")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("240.0.0.1", "a reserved address"),
        ("100.64.0.1", "a non-public address"),
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fc00::1", "a private address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("2002:7f00:1::", "a loopback address"),
        ("64:ff9b::7f00:1", "a reserved address"),
        ("fec0::1", "a site-local address"),
        ("feff:ffff::1", "a site-local address"),
        ("2001::7f00:1", "a private address"),
        ("2001:db8::1", "a private address"),
    ],
)
def test_a_non_public_address_is_named_for_what_it_is(address: str, kind: str) -> None:
    assert non_public_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]
)
def test_a_public_address_is_allowed(address: str) -> None:
    assert non_public_kind(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("spelling", ["127.1", "2130706433", "0177.0.0.1", "0x7f000001"])
def test_every_spelling_of_a_machine_shares_its_per_host_limit(spelling: str) -> None:
    policy = AddressPolicy(allow_private=True)

    assert machine_of(allowed_addresses(spelling, 80, policy)) == "127.0.0.1"
    assert machine_of(allowed_addresses("localhost", 80, policy)) == "127.0.0.1"


# --- the network fails ---------------------------------------------------------------


def test_a_closed_port_is_reported_as_refusing_connections(fetcher: Fetcher) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = fetch(fetcher, f"http://127.0.0.1:{port}/rss.xml")

    assert result.error == f"127.0.0.1 port {port} refused the connection: is the server down?"


ONLINE_ADDRESS = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80))]


def resolver(answers: Callable[[str], bool], failure: int) -> Callable[..., object]:
    """A stand-in for getaddrinfo: an address for the names `answers` accepts, else the
    gaierror `failure`, as a machine's resolver gives it."""

    def getaddrinfo(host: str, *args: object, **kwargs: object) -> object:
        if answers(host):
            return ONLINE_ADDRESS
        raise socket.gaierror(failure, "lookup failed")

    return getaddrinfo


@pytest.fixture
def fresh_resolver_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget what an earlier test learnt of the resolver (it is kept for a minute)."""
    monkeypatch.setattr(fetcher_module, "_reference_checked", None)


@pytest.mark.usefixtures("fresh_resolver_check")
def test_a_host_name_that_does_not_exist_is_reported(
    fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A resolver that finds other names, and not this one.
    answers_others = resolver(lambda host: host == REFERENCE_NAME, socket.EAI_NONAME)
    monkeypatch.setattr(socket, "getaddrinfo", answers_others)

    result = fetch(fetcher, "http://feeds.invalid/rss.xml")  # RFC 2606: never resolves

    assert result.error == "the host name feeds.invalid does not exist: check the URL"


@pytest.mark.usefixtures("fresh_resolver_check")
@pytest.mark.parametrize(
    "failure",
    [socket.EAI_AGAIN, socket.EAI_NONAME],
    ids=["resolver unreachable", "resolver says no name exists"],
)
def test_a_machine_without_network_is_not_blamed_on_the_url(
    fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch, failure: int
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolver(lambda host: False, failure))

    result = fetch(fetcher, "https://www.kcg.gov.tw/rss.xml")

    assert result.error == (
        "the host name www.kcg.gov.tw could not be looked up: this machine may have no"
        " network or no DNS server"
    )
    assert "check the URL" not in result.error


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[FeedServer]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    with FeedServer(ssl_context=context) as server:
        yield server


def test_an_untrusted_tls_certificate_is_reported(
    self_signed_server: FeedServer, fetcher: Fetcher
) -> None:
    self_signed_server.serve("/rss.xml", FEED)

    result = fetch(fetcher, self_signed_server.url("/rss.xml"))

    assert result.error is not None
    assert result.error.startswith("the TLS certificate of 127.0.0.1 is not valid: ")
    assert self_signed_server.requests_to("/rss.xml") == []


# --- politeness -------------------------------------------------------------------------


def test_one_host_never_gets_more_than_per_host_requests_at_once(
    feed_server: FeedServer,
) -> None:
    lock = threading.Lock()
    in_flight = most_in_flight = 0

    def slow_feed(request: RequestInfo) -> Reply:
        nonlocal in_flight, most_in_flight
        with lock:
            in_flight += 1
            most_in_flight = max(most_in_flight, in_flight)
        time.sleep(0.2)
        with lock:
            in_flight -= 1
        return Reply(FEED, headers={"Content-Type": RSS})

    feed_server.handle("/rss.xml", slow_feed)
    fetcher = Fetcher(allow_private_addresses=True, per_host=2)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: fetch(fetcher, feed_server.url("/rss.xml")), range(6)))

    assert [result.status for result in results] == ["ok"] * 6
    assert most_in_flight == 2
