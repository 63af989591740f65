"""Repeat requests for a plain feed URL or a river page are answered in front of Flask,
with the very answer Flask gave, until the store changes."""

from __future__ import annotations

import gzip

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aggregator.store import Store
from aggregator.web.feeds import CACHE_KEY
from tests.fixtures_web import ManualClock, manual_cache_clock
from tests.storedata import outcome, report
from tests.webapp import NOW


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
    return manual_cache_clock(app, CACHE_KEY)


@pytest.fixture
def client(app: Flask, flask_calls: FlaskCalls, clock: ManualClock) -> FlaskClient:
    return app.test_client()


def test_a_repeat_request_gets_flasks_answer_without_reaching_flask(
    client: FlaskClient, flask_calls: FlaskCalls
) -> None:
    first = client.get("/feeds/kaohsiung.atom")
    repeat = client.get("/feeds/kaohsiung.atom")

    assert flask_calls.count == 1
    assert repeat.status_code == 200
    assert repeat.data == first.data
    assert sorted(repeat.headers.items()) == sorted(first.headers.items())


def test_a_matching_if_none_match_is_a_304_without_reaching_flask(
    client: FlaskClient, flask_calls: FlaskCalls
) -> None:
    etag = client.get("/feeds/all.rss").headers["ETag"]

    response = client.get("/feeds/all.rss", headers={"If-None-Match": etag})

    assert flask_calls.count == 1
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert "max-age" in response.headers["Cache-Control"]


def test_a_stale_if_none_match_gets_the_whole_feed(client: FlaskClient) -> None:
    first = client.get("/feeds/all.atom")

    response = client.get("/feeds/all.atom", headers={"If-None-Match": 'W/"an-old-version"'})

    assert response.status_code == 200
    assert response.data == first.data


def test_each_accept_encoding_keeps_its_own_answer(client: FlaskClient) -> None:
    plain = client.get("/feeds/all.json").data
    compressed = client.get("/feeds/all.json", headers={"Accept-Encoding": "gzip"})
    plain_again = client.get("/feeds/all.json")

    assert compressed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.data) == plain
    assert plain_again.data == plain
    assert "Content-Encoding" not in plain_again.headers


@pytest.mark.parametrize(
    "path", ["/", "/?category=taipei&lang=en", "/api/entries", "/embed/taipei"]
)
def test_a_repeated_river_page_does_not_reach_flask(
    client: FlaskClient, flask_calls: FlaskCalls, path: str
) -> None:
    first = client.get(path)
    repeat = client.get(path)

    assert flask_calls.count == 1
    assert repeat.data == first.data
    assert sorted(repeat.headers.items()) == sorted(first.headers.items())


def test_each_accept_language_keeps_its_own_page(client: FlaskClient) -> None:
    client.get("/", headers={"Accept-Language": "zh-TW"})
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert 'lang="en"' in english


def test_a_request_with_a_cookie_always_reaches_flask(
    client: FlaskClient, flask_calls: FlaskCalls
) -> None:
    client.set_cookie("session", "staff")
    client.get("/")
    client.get("/")

    assert flask_calls.count == 2


def test_a_search_feed_always_reaches_flask(client: FlaskClient, flask_calls: FlaskCalls) -> None:
    client.get("/feeds/all.atom?q=颱風")
    client.get("/feeds/all.atom?q=颱風")

    assert flask_calls.count == 2


def test_an_error_answer_is_not_replayed(client: FlaskClient, flask_calls: FlaskCalls) -> None:
    client.get("/feeds/nowhere.atom")
    response = client.get("/feeds/nowhere.atom")

    assert response.status_code == 404
    assert flask_calls.count == 2


def test_a_store_write_reaches_flask_once_the_staleness_bound_has_passed(
    client: FlaskClient, store: Store, clock: ManualClock
) -> None:
    before = client.get("/feeds/kaohsiung.atom")
    store.apply_poll(outcome("kcg", [report("kcg", "late", title="市府臨時記者會", published=NOW)]))

    clock.now += 0.5
    within_bound = client.get("/feeds/kaohsiung.atom")
    clock.now += 0.5
    after_bound = client.get("/feeds/kaohsiung.atom")

    assert within_bound.data == before.data
    assert "市府臨時記者會" in after_bound.get_data(as_text=True)
    assert after_bound.headers["ETag"] != before.headers["ETag"]
