"""Searching through the web: `?q=` on the reader view, `/api/entries` and every output feed,
over the seeded store of `tests.webapp` (SQLite, and PostgreSQL when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, urlsplit

import feedparser
import pytest
from flask.testing import FlaskClient

from aggregator.search.query import MAX_QUERY_LENGTH
from aggregator.store import Store
from tests.storedata import outcome, report
from tests.webapp import HOSTILE_TITLE, KAOHSIUNG_TITLES, MERGED_TITLE, TAIPEI_TITLES

TYPHOON_TITLE = "臺北市颱風停班停課公告"
CITY_NEWS = "高雄市政新聞"  # in the title of every Kaohsiung story but the merged one


def q(text: str) -> str:
    return quote(text)


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def shown_titles(page_html: str) -> list[str]:
    """The entry titles of a reader page as a visitor reads them (marks are not text)."""
    found = re.findall(r'<h2 class="entry-title">(.*?)</h2>', page_html, re.DOTALL)
    return [html.unescape(re.sub(r"<[^>]+>", "", title)).strip() for title in found]


def api_titles(client: FlaskClient, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, response.get_json()
    return [entry["title"] for entry in response.get_json()["entries"]]


def feed_titles(body: bytes) -> list[str]:
    """The entry titles of an Atom or RSS document."""
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [entry.title for entry in parsed.entries]


# --- the reader view -----------------------------------------------------------------


def test_the_reader_view_shows_only_the_matching_entries(client: FlaskClient) -> None:
    assert shown_titles(page(client, f"/?q={q('颱風')}")) == [TYPHOON_TITLE]


def test_the_reader_view_marks_the_matches_in_titles(client: FlaskClient) -> None:
    assert "臺北市<mark>颱風</mark>停班停課公告" in page(client, f"/?q={q('颱風')}")


def test_the_reader_view_marks_the_matches_in_summaries(client: FlaskClient) -> None:
    summary = re.search(
        r'<div class="entry-summary"[^>]*>(.*?)</div>', page(client, f"/?q={q('擴建')}"), re.DOTALL
    )
    assert summary is not None
    assert summary.group(1) == "高雄港<mark>擴建</mark>計畫今日動工"


def test_highlighting_escapes_everything_but_the_marks(client: FlaskClient) -> None:
    found = page(client, f"/?q={q('粗體 摘要')}")

    assert "&lt;b&gt;<mark>粗體</mark>&lt;/b&gt;" in found
    assert "<mark>摘要</mark>" in found
    assert "<script" not in found
    assert "<img" not in found
    assert "onerror" not in found
    assert shown_titles(found) == [HOSTILE_TITLE]


def test_a_simplified_query_finds_and_marks_traditional_text(client: FlaskClient) -> None:
    found = page(client, f"/?q={q('台风')}")

    assert shown_titles(found) == [TYPHOON_TITLE]
    assert "臺北市<mark>颱風</mark>" in found


def test_a_one_character_query_works(client: FlaskClient) -> None:
    assert shown_titles(page(client, f"/?q={q('港')}")) == [MERGED_TITLE]


def test_the_search_box_works_without_javascript(client: FlaskClient) -> None:
    found = page(client, f"/?q={q('颱風')}")
    form = re.search(r'<form class="site-search"[^>]*>(.*?)</form>', found, re.DOTALL)

    assert form is not None
    assert 'method="get"' in form.group(0) and 'action="/"' in form.group(0)
    assert re.search(r'<input type="search" name="q" value="颱風"', form.group(1))


def test_a_search_with_no_match_says_so(client: FlaskClient) -> None:
    found = page(client, f"/?q={q('颱風')}&category=kaohsiung")

    assert shown_titles(found) == []
    assert "沒有符合「颱風」的新聞。" in found


def test_paging_through_search_results_keeps_the_search(client: FlaskClient) -> None:
    first = page(client, f"/?q={q(CITY_NEWS)}")
    older = re.search(r'<a class="older" rel="next" href="([^"]*)"', first)
    assert older is not None
    second = page(client, html.unescape(older.group(1)))

    assert shown_titles(first) + shown_titles(second) == KAOHSIUNG_TITLES


def test_relevance_order_is_offered_and_kept_by_the_links(client: FlaskClient) -> None:
    found = page(client, f"/?q={q(CITY_NEWS)}&order=relevance")

    assert set(shown_titles(found)) <= set(KAOHSIUNG_TITLES)
    older = re.search(r'<a class="older" rel="next" href="([^"]*)"', found)
    assert older is not None
    assert parse_qs(urlsplit(html.unescape(older.group(1))).query)["order"] == ["relevance"]


def test_the_subscribe_links_are_the_saved_search(client: FlaskClient) -> None:
    found = page(client, f"/?q={q('颱風')}&category=taipei")

    assert f'href="/feeds/taipei.atom?q={q("颱風")}"' in found


# --- the API -------------------------------------------------------------------------


def test_the_api_returns_the_matching_entries_in_the_usual_shape(client: FlaskClient) -> None:
    body = client.get(f"/api/entries?q={q('颱風')}").get_json()

    assert [entry["title"] for entry in body["entries"]] == [TYPHOON_TITLE]
    assert set(body["entries"][0]) >= {"id", "title", "link", "published", "sources"}
    assert body["next"] is None


def test_the_api_pages_through_search_results_with_its_cursor(client: FlaskClient) -> None:
    seen: list[str] = []
    path: str | None = f"/api/entries?q={q(CITY_NEWS)}&limit=20"
    while path is not None:
        body = client.get(path).get_json()
        seen += [entry["title"] for entry in body["entries"]]
        path = (
            f"/api/entries?q={q(CITY_NEWS)}&limit=20&cursor={body['next']}"
            if body["next"]
            else None
        )

    assert seen == KAOHSIUNG_TITLES


def test_the_api_ranks_by_relevance_on_request(client: FlaskClient, store: Store) -> None:
    store.apply_poll(
        outcome("kcg", [report("kcg", "title-match", title="港口颱風警報", content="<p>無</p>")])
    )
    titles = api_titles(client, f"/api/entries?q={q('颱風')}&order=relevance")

    assert sorted(titles) == sorted([TYPHOON_TITLE, "港口颱風警報"])


def test_since_is_a_day_in_the_sites_time_zone(client: FlaskClient, store: Store) -> None:
    # Taipei is UTC+8: 16:30 UTC on 1 March is 00:30 on 2 March there.
    late = report(
        "kcg", "late", title="颱風深夜記者會", published=datetime(2025, 3, 1, 16, 30, tzinfo=UTC)
    )
    early = report(
        "kcg", "early", title="颱風晚間記者會", published=datetime(2025, 3, 1, 15, 30, tzinfo=UTC)
    )
    store.apply_poll(outcome("kcg", [late, early]))

    titles = api_titles(client, f"/api/entries?q={q('颱風 since:2025-03-02')}")

    assert "颱風深夜記者會" in titles
    assert "颱風晚間記者會" not in titles


# --- the feeds -----------------------------------------------------------------------


@pytest.mark.parametrize("extension", ["atom", "rss", "json"])
def test_every_feed_format_narrows_to_the_search(client: FlaskClient, extension: str) -> None:
    response = client.get(f"/feeds/all.{extension}?q={q('颱風')}")

    assert response.status_code == 200
    if extension == "json":
        assert [item["title"] for item in response.get_json()["items"]] == [TYPHOON_TITLE]
    else:
        assert feed_titles(response.data) == [TYPHOON_TITLE]


def test_a_category_feed_searches_within_its_category(client: FlaskClient) -> None:
    served = feed_titles(client.get(f"/feeds/taipei.atom?q={q('臺北市')}").data)

    assert sorted(served) == sorted(TAIPEI_TITLES)


def test_a_saved_search_feed_says_what_it_is_and_links_to_itself(client: FlaskClient) -> None:
    parsed = feedparser.parse(client.get(f"/feeds/kaohsiung.atom?q={q('港')}").data)

    assert parsed.feed.title == "高雄市政新聞 — 搜尋：港"
    self_link = next(link.href for link in parsed.feed.links if link.rel == "self")
    assert self_link == f"https://news.example.org/feeds/kaohsiung.atom?q={q('港')}"
    assert all(link.rel != "hub" for link in parsed.feed.links)


def test_the_feed_cache_tells_queries_apart(client: FlaskClient) -> None:
    typhoon = feed_titles(client.get(f"/feeds/all.atom?q={q('颱風')}").data)
    harbour = feed_titles(client.get(f"/feeds/all.atom?q={q('港')}").data)
    everything = feed_titles(client.get("/feeds/all.atom").data)

    assert typhoon == [TYPHOON_TITLE]
    assert harbour == [MERGED_TITLE]
    assert len(everything) > 2


# --- filters alone, and help ---------------------------------------------------------


def test_a_source_filter_alone_lists_that_sources_entries(client: FlaskClient) -> None:
    titles = shown_titles(page(client, f"/?q={q('source:taipei')}"))

    assert TYPHOON_TITLE in titles
    assert not set(titles) & set(KAOHSIUNG_TITLES)


def test_a_date_filter_alone_lists_that_period(client: FlaskClient) -> None:
    assert shown_titles(page(client, f"/?q={q('since:2000-01-01')}"))
    assert shown_titles(page(client, f"/?q={q('until:2000-01-01')}")) == []


def test_a_filter_alone_works_in_the_api_and_feeds(client: FlaskClient) -> None:
    assert TYPHOON_TITLE in api_titles(client, f"/api/entries?q={q('category:taipei')}")
    feed = feed_titles(client.get(f"/feeds/all.atom?q={q('category:taipei')}").data)
    assert TYPHOON_TITLE in feed
    assert not set(feed) & set(KAOHSIUNG_TITLES)


def test_the_search_box_links_to_the_syntax_help(client: FlaskClient) -> None:
    help_path = re.search(r'href="([^"]*)"[^>]*>搜尋語法說明', page(client, "/"))
    assert help_path is not None
    help_page = page(client, html.unescape(help_path.group(1)))
    assert "since:" in help_page
    assert "source:kcg" in help_page  # a real source of this site as the example
    assert "Filters work on their own" in page(client, "/search/help?lang=en")


def test_a_bad_query_keeps_the_search_box_filled(client: FlaskClient) -> None:
    response = client.get(f"/?q={q('颱風 OR')}")
    assert response.status_code == 400
    assert 'value="颱風 OR"' in response.get_data(as_text=True)


# --- bad queries: a 400 with the reason, everywhere ----------------------------------

BAD_QUERIES = [
    pytest.param('"停班', "never closed", id="unclosed-quote"),
    pytest.param("颱風 OR", "needs a term after it", id="dangling-or"),
    pytest.param("-演習", "no word to search for", id="only-exclusions"),
    pytest.param("颱風 since:yesterday", "since:2025-03-01", id="bad-date"),
    pytest.param("颱 " * MAX_QUERY_LENGTH, f"the limit is {MAX_QUERY_LENGTH}", id="oversized"),
]


@pytest.mark.parametrize(("query", "reason"), BAD_QUERIES)
def test_a_bad_query_on_the_reader_view_is_a_400_page_with_the_reason(
    client: FlaskClient, query: str, reason: str
) -> None:
    response = client.get(f"/?q={q(query)}")

    assert response.status_code == 400
    assert html.escape(reason, quote=False) in response.get_data(as_text=True)


@pytest.mark.parametrize(("query", "reason"), BAD_QUERIES)
def test_a_bad_query_on_the_api_is_a_400_json_error_with_the_reason(
    client: FlaskClient, query: str, reason: str
) -> None:
    response = client.get(f"/api/entries?q={q(query)}")

    assert response.status_code == 400
    assert reason in response.get_json()["error"]


@pytest.mark.parametrize(("query", "reason"), BAD_QUERIES)
def test_a_bad_query_on_a_feed_is_a_400_with_the_reason(
    client: FlaskClient, query: str, reason: str
) -> None:
    response = client.get(f"/feeds/kaohsiung.atom?q={q(query)}")

    assert response.status_code == 400
    assert html.escape(reason, quote=False) in response.get_data(as_text=True)


def test_a_cursor_the_search_did_not_give_is_a_400(client: FlaskClient) -> None:
    response = client.get(f"/api/entries?q={q('颱風')}&cursor=bogus")

    assert response.status_code == 400
    assert "bogus" in response.get_json()["error"]


def test_an_unknown_order_is_a_400_that_names_the_choices(client: FlaskClient) -> None:
    response = client.get(f"/api/entries?q={q('颱風')}&order=oldest")

    assert response.status_code == 400
    assert "relevance" in response.get_json()["error"]
