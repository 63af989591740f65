"""Serving the merged feeds: formats, limits, validators, compression and the in-process cache."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import feedparser
import pytest
import urllib3
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from aggregator.store import Store
from aggregator.web.feedcache import FeedCache
from aggregator.web.feeds import CACHE_KEY
from tests.fixtures_web import manual_cache_clock
from tests.storedata import outcome, report
from tests.webapp import (
    ALL_ENTRIES,
    HOSTILE_TITLE,
    KAOHSIUNG_TITLES,
    NOW,
    TAIPEI_TITLES,
)

CONTENT_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


def cache_of(app: Flask) -> FeedCache:
    cache = app.extensions[CACHE_KEY]
    assert isinstance(cache, FeedCache)
    return cache


def titles(body: bytes) -> list[str]:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [entry.title for entry in parsed.entries]


def publish(store: Store, title: str) -> None:
    store.apply_poll(outcome("kcg", [report("kcg", "late", title=title, published=NOW)]))


# --- what is served ------------------------------------------------------------------


@pytest.mark.parametrize(("extension", "content_type"), sorted(CONTENT_TYPES.items()))
def test_each_format_is_served_with_its_content_type(
    client: FlaskClient, extension: str, content_type: str
) -> None:
    response = client.get(f"/feeds/kaohsiung.{extension}")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type


def test_the_all_feed_holds_every_category(client: FlaskClient) -> None:
    served = titles(client.get("/feeds/all.atom").data)

    assert len(served) == ALL_ENTRIES
    assert set(TAIPEI_TITLES) <= set(served)
    assert set(KAOHSIUNG_TITLES) <= set(served)


def test_a_category_feed_holds_only_its_category(client: FlaskClient) -> None:
    served = titles(client.get("/feeds/taipei.rss").data)

    assert set(TAIPEI_TITLES) <= set(served)
    assert not set(KAOHSIUNG_TITLES) & set(served)


def test_the_json_feed_is_readable_by_scripts_on_other_sites(client: FlaskClient) -> None:
    response = client.get("/feeds/all.json")

    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert len(response.get_json()["items"]) == ALL_ENTRIES


def test_a_hostile_entry_is_served_escaped_and_without_scripts(client: FlaskClient) -> None:
    body = client.get("/feeds/taipei.atom").data

    assert HOSTILE_TITLE in titles(body)
    assert b"<script" not in body
    assert b"javascript:" not in body
    assert b"onerror" not in body


def test_an_unknown_category_is_a_404_that_names_it(client: FlaskClient) -> None:
    response = client.get("/feeds/tainan.atom")

    assert response.status_code == 404
    assert "tainan" in response.get_data(as_text=True)


def test_an_unknown_format_is_a_404(client: FlaskClient) -> None:
    assert client.get("/feeds/kaohsiung.xml").status_code == 404


def test_limit_caps_the_number_of_entries(client: FlaskClient) -> None:
    assert len(titles(client.get("/feeds/all.atom?limit=5").data)) == 5


def test_the_default_limit_is_fifty(client: FlaskClient, store: Store) -> None:
    for number in range(60 - ALL_ENTRIES):
        older = report("kcg", f"extra{number}", published=NOW - timedelta(days=2))
        store.apply_poll(outcome("kcg", [older]))

    assert len(titles(client.get("/feeds/all.atom").data)) == 50


@pytest.mark.parametrize("limit", ["abc", "0", "-1", "1.5", "201", "５"])
def test_a_bad_limit_is_a_400_that_says_why(client: FlaskClient, limit: str) -> None:
    response = client.get(f"/feeds/all.atom?limit={limit}")

    assert response.status_code == 400
    assert "200" in response.get_data(as_text=True)


# --- validators and caching headers ----------------------------------------------------


def test_feeds_carry_validators_and_a_short_public_max_age(client: FlaskClient) -> None:
    response = client.get("/feeds/kaohsiung.atom")

    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    assert response.cache_control.public
    assert response.cache_control.max_age == 60


def test_a_matching_if_none_match_is_answered_304_without_a_body(client: FlaskClient) -> None:
    etag = client.get("/feeds/kaohsiung.atom").headers["ETag"]

    response = client.get("/feeds/kaohsiung.atom", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag


def test_an_if_modified_since_at_last_modified_is_answered_304(client: FlaskClient) -> None:
    last_modified = client.get("/feeds/kaohsiung.rss").headers["Last-Modified"]

    response = client.get("/feeds/kaohsiung.rss", headers={"If-Modified-Since": last_modified})

    assert response.status_code == 304


def test_a_stale_etag_gets_the_whole_feed(client: FlaskClient) -> None:
    response = client.get("/feeds/kaohsiung.atom", headers={"If-None-Match": '"not-this-one"'})

    assert response.status_code == 200
    assert response.data


def test_a_client_that_accepts_gzip_gets_the_same_feed_compressed(client: FlaskClient) -> None:
    plain = client.get("/feeds/all.atom")
    compressed = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip, deflate"})

    assert "Content-Encoding" not in plain.headers
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.data) == plain.data
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert "Accept-Encoding" in plain.headers["Vary"]


def test_the_etag_holds_for_either_encoding(client: FlaskClient) -> None:
    etag = client.get("/feeds/all.atom").headers["ETag"]

    response = client.get(
        "/feeds/all.atom", headers={"If-None-Match": etag, "Accept-Encoding": "gzip"}
    )

    assert response.status_code == 304


# --- the cache -------------------------------------------------------------------------


@pytest.fixture
def server_url(app: Flask) -> Iterator[str]:
    """The app behind a real threaded HTTP server on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_a_burst_of_subscribers_costs_one_render(app: Flask, server_url: str) -> None:
    http = urllib3.PoolManager(maxsize=16)

    def fetch(_: int) -> urllib3.BaseHTTPResponse:
        return http.request("GET", f"{server_url}/feeds/all.atom", retries=False)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(fetch, range(48)))

    assert {response.status for response in responses} == {200}
    assert len({response.headers["ETag"] for response in responses}) == 1
    assert cache_of(app).renders == 1


def test_each_format_and_limit_is_a_document_of_its_own(app: Flask, client: FlaskClient) -> None:
    for path in ("/feeds/all.atom", "/feeds/all.rss", "/feeds/all.atom?limit=3"):
        client.get(path)
        client.get(path)

    assert cache_of(app).renders == 3


def test_a_store_write_is_served_once_the_staleness_bound_has_passed(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    clock = manual_cache_clock(app, CACHE_KEY)
    before = client.get("/feeds/kaohsiung.atom")

    publish(store, "新發布：市府記者會")
    clock.now += 0.5
    within_bound = client.get("/feeds/kaohsiung.atom")
    clock.now += 0.5
    after_bound = client.get("/feeds/kaohsiung.atom")

    assert within_bound.data == before.data
    assert "新發布：市府記者會" in titles(after_bound.data)
    assert after_bound.headers["ETag"] != before.headers["ETag"]
    assert cache_of(app).renders == 2


def test_a_write_that_leaves_a_feed_unchanged_keeps_its_etag(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    clock = manual_cache_clock(app, CACHE_KEY)
    etag = client.get("/feeds/taipei.atom").headers["ETag"]

    publish(store, "只屬於高雄的新聞")
    clock.now += 1.0
    response = client.get("/feeds/taipei.atom", headers={"If-None-Match": etag})

    assert response.status_code == 304


def test_the_cache_keeps_at_most_its_bound_of_documents(app: Flask, client: FlaskClient) -> None:
    app.extensions[CACHE_KEY] = FeedCache(max_documents=2)

    for limit in (1, 2, 3, 1):
        client.get(f"/feeds/all.json?limit={limit}")

    # limit=1 was evicted by limit=3, so asking for it again renders it again.
    assert cache_of(app).renders == 4
