"""The response cache: an anonymous GET of a feed, a river page, the API's entries or an
embed is answered once by Flask per store version, then replayed (or answered 304) in
front of Flask, with the very answer Flask gave."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import urllib3
from flask import Flask
from flask.testing import FlaskClient

from aggregator.config.load import load_config
from aggregator.store import Store
from aggregator.web import create_app, responsecache
from tests.fixtures_web import ManualClock, manual_cache_clock, serving
from tests.storedata import outcome, report
from tests.webapp import NOW, entry_titles, write_config

CACHED = (
    "/feeds/kaohsiung.atom",
    "/feeds/all.json?limit=5",
    f"/feeds/all.rss?q={quote('颱風')}",
    "/",
    "/?category=taipei&lang=en",
    "/embed/taipei",
    "/api/entries?limit=5",
)
LATE_TITLE = "市府臨時記者會"


class FlaskCalls:
    """How many requests reached Flask's own handling."""

    def __init__(self, app: Flask) -> None:
        self.count = 0
        app.before_request(self._seen)

    def _seen(self) -> None:
        self.count += 1


@pytest.fixture
def flask_calls(app: Flask) -> FlaskCalls:
    return FlaskCalls(app)


@pytest.fixture
def clock(app: Flask) -> ManualClock:
    return manual_cache_clock(app)


@pytest.fixture
def client(app: Flask, flask_calls: FlaskCalls, clock: ManualClock) -> FlaskClient:
    return app.test_client()


def publish(store: Store, title: str, source_id: str = "kcg") -> None:
    store.apply_poll(outcome(source_id, [report(source_id, "late", title=title, published=NOW)]))


# --- replaying -------------------------------------------------------------------------


@pytest.mark.parametrize("path", CACHED)
def test_a_repeat_request_gets_flasks_answer_without_reaching_flask(
    client: FlaskClient, flask_calls: FlaskCalls, path: str
) -> None:
    first = client.get(path)
    repeat = client.get(path)

    assert first.status_code == repeat.status_code == 200
    assert flask_calls.count == 1
    assert repeat.data == first.data
    assert sorted(repeat.headers.items()) == sorted(first.headers.items())


def test_each_query_string_is_an_answer_of_its_own(
    client: FlaskClient, flask_calls: FlaskCalls
) -> None:
    for path in ("/", "/?category=taipei", "/feeds/all.atom", "/feeds/all.atom?limit=3", "/"):
        client.get(path)

    assert flask_calls.count == 4


def test_each_accept_language_keeps_its_own_page(client: FlaskClient) -> None:
    chinese = client.get("/", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert 'lang="zh-Hant"' in chinese
    assert 'lang="en"' in english
    assert "Accept-Language" in client.get("/").headers["Vary"]


def test_a_client_that_accepts_gzip_gets_the_same_document_compressed(
    client: FlaskClient,
) -> None:
    plain = client.get("/feeds/all.atom")
    compressed = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip, deflate"})
    plain_again = client.get("/feeds/all.atom")

    assert compressed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.data) == plain.data
    assert plain_again.data == plain.data
    assert "Content-Encoding" not in plain_again.headers
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert "Accept-Encoding" in plain.headers["Vary"]


def test_a_request_with_a_cookie_always_reaches_flask(
    client: FlaskClient, flask_calls: FlaskCalls
) -> None:
    client.set_cookie("session", "staff")
    client.get("/")
    client.get("/")

    assert flask_calls.count == 2


def test_a_page_that_changes_with_the_clock_always_reaches_flask(
    client: FlaskClient, flask_calls: FlaskCalls
) -> None:
    client.get("/api/sources")
    client.get("/api/sources")

    assert flask_calls.count == 2


@pytest.mark.parametrize("path", ["/feeds/nowhere.atom", "/?cursor=nonsense"])
def test_an_error_answer_is_not_replayed_and_still_says_why(
    client: FlaskClient, flask_calls: FlaskCalls, path: str
) -> None:
    client.get(path)
    response = client.get(path)

    assert response.status_code in (400, 404)
    assert ("nowhere" if "nowhere" in path else "cursor") in response.get_data(as_text=True)
    assert flask_calls.count == 2


# --- validators and 304s ---------------------------------------------------------------


@pytest.mark.parametrize("path", CACHED)
def test_a_matching_if_none_match_is_a_304_without_reaching_flask(
    client: FlaskClient, flask_calls: FlaskCalls, path: str
) -> None:
    first = client.get(path)

    response = client.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == first.headers["ETag"]
    assert flask_calls.count == 1


def test_a_304_carries_the_feeds_caching_headers(client: FlaskClient) -> None:
    etag = client.get("/feeds/all.rss").headers["ETag"]

    response = client.get("/feeds/all.rss", headers={"If-None-Match": etag})

    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Content-Type" not in response.headers


def test_an_if_modified_since_at_last_modified_is_a_304_without_reaching_flask(
    client: FlaskClient, flask_calls: FlaskCalls
) -> None:
    last_modified = client.get("/feeds/kaohsiung.rss").headers["Last-Modified"]

    response = client.get("/feeds/kaohsiung.rss", headers={"If-Modified-Since": last_modified})

    assert response.status_code == 304
    assert flask_calls.count == 1


def test_a_stale_validator_gets_the_whole_answer(client: FlaskClient) -> None:
    first = client.get("/feeds/all.atom")

    response = client.get(
        "/feeds/all.atom",
        headers={
            "If-None-Match": 'W/"an-old-version"',
            # An ETag that does not match wins over a date that would.
            "If-Modified-Since": first.headers["Last-Modified"],
        },
    )

    assert response.status_code == 200
    assert response.data == first.data


def test_the_etag_holds_for_either_encoding(client: FlaskClient) -> None:
    etag = client.get("/feeds/all.atom").headers["ETag"]

    response = client.get(
        "/feeds/all.atom", headers={"If-None-Match": etag, "Accept-Encoding": "gzip"}
    )

    assert response.status_code == 304


def test_a_conditional_first_request_is_answered_and_keeps_the_answer(
    client: FlaskClient, flask_calls: FlaskCalls
) -> None:
    etag = client.get("/feeds/taipei.atom").headers["ETag"]
    # The same feed under another query string: a cold entry of the cache.
    conditional = client.get("/feeds/taipei.atom?limit=50", headers={"If-None-Match": etag})
    whole = client.get("/feeds/taipei.atom?limit=50")

    assert conditional.status_code == 304
    assert whole.status_code == 200
    assert whole.headers["ETag"] == etag
    assert flask_calls.count == 2


def test_saved_searches_that_differ_only_in_spacing_are_one_feed(client: FlaskClient) -> None:
    first = client.get(f"/feeds/all.atom?q={quote('颱風 臺北')}")

    second = client.get(
        f"/feeds/all.atom?q={quote('  颱風   臺北 ')}",
        headers={"If-None-Match": first.headers["ETag"]},
    )

    assert second.status_code == 304


# --- the store changes -----------------------------------------------------------------


def test_a_store_write_is_served_once_the_staleness_bound_has_passed(
    client: FlaskClient, store: Store, clock: ManualClock
) -> None:
    before = client.get("/")
    publish(store, LATE_TITLE)

    clock.now += 0.5
    within_bound = client.get("/")
    clock.now += 0.5
    after_bound = client.get("/")

    assert within_bound.data == before.data
    assert entry_titles(after_bound.get_data(as_text=True))[0] == LATE_TITLE
    assert after_bound.headers["ETag"] != before.headers["ETag"]


def test_a_write_that_leaves_a_feed_unchanged_keeps_its_etag(
    client: FlaskClient, store: Store, clock: ManualClock
) -> None:
    etag = client.get("/feeds/taipei.atom").headers["ETag"]

    publish(store, "只屬於高雄的新聞")
    clock.now += 1.0
    response = client.get("/feeds/taipei.atom", headers={"If-None-Match": etag})

    assert response.status_code == 304


# --- concurrency and memory ------------------------------------------------------------


@pytest.fixture
def server_url(app: Flask) -> Iterator[str]:
    """The app behind a real threaded HTTP server on 127.0.0.1."""
    with serving(app) as url:
        yield url


def test_a_burst_of_subscribers_reaches_flask_once(
    server_url: str, flask_calls: FlaskCalls
) -> None:
    http = urllib3.PoolManager(maxsize=16)

    def fetch(_: int) -> urllib3.BaseHTTPResponse:
        return http.request("GET", f"{server_url}/feeds/all.atom", retries=False)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(fetch, range(48)))

    assert {response.status for response in responses} == {200}
    assert len({response.headers["ETag"] for response in responses}) == 1
    assert flask_calls.count == 1


def test_the_cache_keeps_at_most_its_bound_of_bytes(
    app: Flask, client: FlaskClient, flask_calls: FlaskCalls
) -> None:
    sizes = {
        limit: len(client.get(f"/feeds/all.json?limit={limit}").data) for limit in (10, 20, 30)
    }
    # Room for the two larger answers and their headers, not for all three.
    responsecache.install(app, max_bytes=sizes[20] + sizes[30] + 4096)
    flask_calls.count = 0

    for limit in (10, 20, 30, 20, 30, 10):
        client.get(f"/feeds/all.json?limit={limit}")

    # limit=10 was the least recently used when limit=30 came: asked again, it is made again.
    assert flask_calls.count == 4


def test_requests_made_once_do_not_push_out_an_answer_asked_for_again(
    app: Flask, client: FlaskClient, flask_calls: FlaskCalls
) -> None:
    polled = "/feeds/kaohsiung.json?limit=10"
    one_offs = [f"/feeds/all.json?limit={limit}" for limit in range(10, 16)]
    largest = max(len(client.get(path).data) for path in [polled, *one_offs])
    # Room for four answers: fewer than the one-off requests.
    responsecache.install(app, max_bytes=4 * (largest + 2048))
    client.get(polled)
    client.get(polled)
    flask_calls.count = 0

    for path in one_offs:
        client.get(path)
    client.get(polled)

    assert flask_calls.count == len(one_offs)


def metric(client: FlaskClient, name: str) -> float:
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


def test_metrics_count_the_caches_hits_misses_and_evictions(
    app: Flask, client: FlaskClient
) -> None:
    sizes = [len(client.get(f"/feeds/all.json?limit={limit}").data) for limit in (10, 20)]
    # Room for one of the two answers at a time.
    responsecache.install(app, max_bytes=max(sizes) + 4096)

    for limit in (10, 20, 10, 10):
        client.get(f"/feeds/all.json?limit={limit}")

    assert metric(client, "aggregator_response_cache_hits_total") == 1
    assert metric(client, "aggregator_response_cache_misses_total") == 3
    assert metric(client, "aggregator_response_cache_evictions_total") == 2
    assert 0 < metric(client, "aggregator_response_cache_bytes") <= max(sizes) + 4096


def test_the_caches_bound_is_a_setting(store: Store, db_url: str, tmp_path: Path) -> None:
    config_path = write_config(tmp_path)
    app = create_app(
        {"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(config_path), "AGGREGATOR_CACHE_MB": "3"}
    )

    assert responsecache.cache_counts(app).max_bytes == 3 * 1024 * 1024
    assert metric(app.test_client(), "aggregator_response_cache_max_bytes") == 3 * 1024 * 1024


# --- answers that the clock makes stale ----------------------------------------------

# 10:00 in Taipei, the site's zone.
MORNING = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


class WallClock:
    """The app's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def clocked_app(store: Store, db_url: str, directory: Path, wall: WallClock) -> Flask:
    config_path = write_config(directory)
    store.sync_sources(load_config(config_path).sources, MORNING - timedelta(days=1))
    app = create_app(
        {"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(config_path), "CLOCK": wall}
    )
    manual_cache_clock(app)
    return app


def test_a_page_saying_today_is_made_afresh_once_the_day_has_turned(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    wall = WallClock(MORNING + timedelta(hours=6))  # 16:00 the same day
    app = clocked_app(store, db_url, tmp_path, wall)
    store.apply_poll(outcome("kcg", [report("kcg", "k", title=LATE_TITLE, published=MORNING)]))
    client = app.test_client()

    assert "今天 10:00" in client.get("/").text
    wall.now = MORNING + timedelta(hours=14, minutes=30)  # 00:30 the next day, no new poll

    assert "昨天 10:00" in client.get("/").text


def test_a_feed_holding_an_alert_drops_it_once_it_expires_without_a_store_change(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    wall = WallClock(MORNING + timedelta(hours=1))
    app = clocked_app(store, db_url, tmp_path, wall)
    alert = report("kcg", "alert", title="豪雨特報", published=MORNING)
    alert = replace(alert, expires=MORNING + timedelta(hours=3))
    store.apply_poll(outcome("kcg", [alert]))
    client = app.test_client()

    assert "豪雨特報" in client.get("/feeds/all.atom").text
    assert "豪雨特報" in client.get("/").text
    wall.now = MORNING + timedelta(hours=4)

    assert "豪雨特報" not in client.get("/feeds/all.atom").text
    assert "豪雨特報" not in client.get("/").text
