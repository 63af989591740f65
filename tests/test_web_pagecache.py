"""The reader view, the embed and /api/entries are rendered once per store version and
request, then served from memory with validators."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aggregator.store import Store
from aggregator.web.feedcache import FeedCache
from aggregator.web.pagecache import CACHE_KEY
from tests.fixtures_web import ManualClock, manual_cache_clock
from tests.storedata import outcome, report
from tests.webapp import MERGED_TITLE, NOW, entry_titles

CACHED_PAGES = ("/", "/?category=taipei", "/embed/kaohsiung", "/api/entries?limit=5")


@pytest.fixture
def clock(app: Flask) -> ManualClock:
    """The page cache's clock, under the test's control."""
    return manual_cache_clock(app, CACHE_KEY)


def page_cache(app: Flask) -> FeedCache:
    cache = app.extensions[CACHE_KEY]
    assert isinstance(cache, FeedCache)
    return cache


@pytest.mark.parametrize("path", CACHED_PAGES)
def test_a_repeated_request_is_rendered_once(app: Flask, client: FlaskClient, path: str) -> None:
    first = client.get(path)
    second = client.get(path)

    assert first.status_code == second.status_code == 200
    assert second.data == first.data
    assert page_cache(app).renders == 1


def test_each_query_string_is_a_page_of_its_own(app: Flask, client: FlaskClient) -> None:
    for path in ("/", "/?category=taipei", "/?category=kaohsiung", "/"):
        client.get(path)

    assert page_cache(app).renders == 3


def test_each_language_is_a_page_of_its_own(client: FlaskClient) -> None:
    chinese = client.get("/").get_data(as_text=True)
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert 'lang="zh-Hant"' in chinese
    assert 'lang="en"' in english


@pytest.mark.parametrize("path", CACHED_PAGES)
def test_a_matching_if_none_match_is_answered_304(client: FlaskClient, path: str) -> None:
    etag = client.get(path).headers["ETag"]

    response = client.get(path, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""


def test_a_cached_page_keeps_the_security_headers(client: FlaskClient) -> None:
    client.get("/")

    response = client.get("/")

    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_store_write_shows_once_the_staleness_bound_has_passed(
    client: FlaskClient, store: Store, clock: ManualClock
) -> None:
    client.get("/")
    store.apply_poll(outcome("kcg", [report("kcg", "late", title="市府臨時記者會", published=NOW)]))

    clock.now += 0.5
    within_bound = entry_titles(client.get("/").get_data(as_text=True))
    clock.now += 0.5
    after_bound = entry_titles(client.get("/").get_data(as_text=True))

    assert "市府臨時記者會" not in within_bound
    assert after_bound[0] == "市府臨時記者會"


def test_a_bad_parameter_is_still_a_400_that_says_why(client: FlaskClient) -> None:
    client.get("/?cursor=nonsense")

    response = client.get("/?cursor=nonsense")

    assert response.status_code == 400
    assert "cursor" in response.get_data(as_text=True)


def test_json_carries_chinese_as_utf8_not_escapes(client: FlaskClient) -> None:
    response = client.get("/api/entries?limit=50")

    assert MERGED_TITLE.encode() in response.data
    assert b"\\u" not in response.data
    titles = [entry["title"] for entry in json.loads(response.data)["entries"]]
    assert MERGED_TITLE in titles
