"""Serving the merged feeds: formats, limits and caching headers (the response cache that
replays them is specified in test_web_cache)."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import pytest
from flask.testing import FlaskClient

from aggregator.store import Store
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


def titles(body: bytes) -> list[str]:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [entry.title for entry in parsed.entries]


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


# --- a source's own feed ---------------------------------------------------------------


@pytest.mark.parametrize("extension", sorted(CONTENT_TYPES))
def test_a_source_feed_holds_what_that_source_reported(client: FlaskClient, extension: str) -> None:
    response = client.get(f"/feeds/source/taipei.{extension}")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPES[extension]
    if extension == "json":
        document = response.get_json()
        title, served = document["title"], {item["title"] for item in document["items"]}
    else:
        parsed = feedparser.parse(response.data)
        title, served = parsed.feed.title, {entry.title for entry in parsed.entries}
    assert title == "臺北市政府"
    assert set(TAIPEI_TITLES) <= served
    assert not served & set(KAOHSIUNG_TITLES)


def test_a_source_feed_links_to_itself_and_to_that_sources_river(client: FlaskClient) -> None:
    parsed = feedparser.parse(client.get("/feeds/source/taipei.atom").data)

    self_link = next(link.href for link in parsed.feed.links if link.rel == "self")
    assert self_link == "https://news.example.org/feeds/source/taipei.atom"
    assert parsed.feed.link == "https://news.example.org/?source=taipei"


def test_an_unknown_source_has_no_feed(client: FlaskClient) -> None:
    assert client.get("/feeds/source/nowhere.atom").status_code == 404


def test_the_river_of_one_source_subscribes_to_that_sources_feed(client: FlaskClient) -> None:
    page = client.get("/?source=taipei").get_data(as_text=True)

    assert 'href="/feeds/source/taipei.atom"' in page
    assert 'href="/feeds/all.atom"' not in page


# --- a feed opened in a browser ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/feeds/kaohsiung.atom", "/feeds/source/taipei.rss"])
def test_an_xml_feed_names_a_stylesheet_that_browsers_apply(client: FlaskClient, path: str) -> None:
    body = client.get(path).data

    assert b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>' in body
    assert not feedparser.parse(body).bozo  # feed readers still read it
    stylesheet = client.get("/static/feed.xsl")
    assert stylesheet.status_code == 200
    assert "訂閱" in stylesheet.get_data(as_text=True)


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_gets_an_xml_feed_as_xml_so_it_applies_the_stylesheet(
    client: FlaskClient,
) -> None:
    reader = client.get("/feeds/kaohsiung.atom", headers={"Accept": "*/*"})
    browser = client.get("/feeds/kaohsiung.atom", headers={"Accept": BROWSER_ACCEPT})
    again = client.get("/feeds/kaohsiung.atom", headers={"Accept": "*/*"})

    assert reader.headers["Content-Type"] == CONTENT_TYPES["atom"]
    assert browser.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert again.headers["Content-Type"] == CONTENT_TYPES["atom"]  # not the browser's copy
    assert "Accept" in browser.headers["Vary"]
    assert browser.data == reader.data
