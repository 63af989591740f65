"""The JSON API (`/api/entries`, `/api/sources`), `/opml` and `/healthz`, as a program sees them."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from flask.testing import FlaskClient

from aggregator.web import create_app
from aggregator.web.timefmt import rfc3339
from tests.webapp import (
    ALL_ENTRIES,
    FAILING_ERROR,
    MERGED_LINK,
    MERGED_TITLE,
    NOW,
    TAIPEI_TITLES,
    write_config,
)

ENTRY_FIELDS = {
    "id",
    "title",
    "link",
    "published",
    "published_has_time",
    "updated",
    "summary",
    "content",
    "categories",
    "sources",
}
# Port 1 on loopback: nothing listens there, so the store cannot answer.
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/none"


@pytest.fixture
def unreachable_store_client(tmp_path: Path) -> FlaskClient:
    config_path = write_config(tmp_path)
    app = create_app({"DATABASE_URL": UNREACHABLE_DATABASE, "AGGREGATOR_CONFIG": str(config_path)})
    return app.test_client()


def get_json(client: FlaskClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def titles(body: Any) -> list[str]:
    return [entry["title"] for entry in body["entries"]]


# --- /api/entries --------------------------------------------------------------


def test_entries_come_newest_first_with_every_contract_field(client: FlaskClient) -> None:
    body = get_json(client, "/api/entries")
    first = body["entries"][0]
    assert set(first) == ENTRY_FIELDS
    assert first["title"] == MERGED_TITLE
    assert first["link"] == MERGED_LINK
    assert first["published"] == rfc3339(NOW)
    published = [entry["published"] for entry in body["entries"]]
    assert published == sorted(published, reverse=True)


def test_a_merged_entry_lists_every_report_the_shown_one_first(client: FlaskClient) -> None:
    merged = get_json(client, "/api/entries")["entries"][0]
    assert [report["source"] for report in merged["sources"]] == ["kcg", "cna", "vision"]
    assert merged["sources"][0] == {
        "source": "kcg",
        "title": MERGED_TITLE,
        "link": MERGED_LINK,
        "published": rfc3339(NOW),
        "published_has_time": True,
    }


def test_the_default_page_holds_fifty_entries(client: FlaskClient) -> None:
    body = get_json(client, "/api/entries")
    assert len(body["entries"]) == ALL_ENTRIES  # fewer than 50: all of them
    assert body["next"] is None


def test_following_next_visits_every_entry_exactly_once(client: FlaskClient) -> None:
    seen: list[str] = []
    path = "/api/entries?limit=7"
    while True:
        body = get_json(client, path)
        seen += [entry["id"] for entry in body["entries"]]
        if body["next"] is None:
            break
        path = f"/api/entries?limit=7&cursor={body['next']}"
    assert len(seen) == ALL_ENTRIES
    assert len(set(seen)) == ALL_ENTRIES


def test_json_carries_chinese_as_utf8_not_escapes(client: FlaskClient) -> None:
    response = client.get("/api/entries")

    assert MERGED_TITLE.encode() in response.data
    assert b"\\u" not in response.data


def test_entries_filter_by_category(client: FlaskClient) -> None:
    body = get_json(client, "/api/entries?category=taipei")
    assert set(TAIPEI_TITLES) <= set(titles(body))
    assert all("taipei" in entry["categories"] for entry in body["entries"])


def test_entries_filter_by_source(client: FlaskClient) -> None:
    assert titles(get_json(client, "/api/entries?source=vision")) == [MERGED_TITLE]


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("limit=201", 400, "limit must be a whole number from 1 to 200, not “201”."),
        ("limit=0", 400, "limit must be a whole number from 1 to 200, not “0”."),
        ("limit=many", 400, "limit must be a whole number from 1 to 200, not “many”."),
        ("limit=-5", 400, "limit must be a whole number from 1 to 200, not “-5”."),
        ("cursor=bogus", 400, "The paging cursor is not valid; start again from the first page."),
        ("category=tainan", 404, "There is no category “tainan”."),
        ("source=nobody", 404, "There is no source “nobody”."),
    ],
)
def test_bad_parameters_get_a_json_error_that_says_what_is_wrong(
    client: FlaskClient, query: str, status: int, error: str
) -> None:
    response = client.get(f"/api/entries?{query}", headers={"Accept-Language": "zh-TW"})
    assert response.status_code == status
    assert response.get_json() == {"error": error}


def test_an_unknown_api_address_gets_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"error": "There is nothing at this address."}


@pytest.mark.parametrize("path", ["/api/entries", "/api/sources", "/api/entries?limit=0"])
def test_json_may_be_read_by_pages_on_any_site(client: FlaskClient, path: str) -> None:
    assert client.get(path).headers["Access-Control-Allow-Origin"] == "*"


# --- /api/sources ----------------------------------------------------------------


def sources_by_id(client: FlaskClient) -> dict[str, Any]:
    return {source["id"]: source for source in get_json(client, "/api/sources")["sources"]}


def test_sources_list_every_configured_source(client: FlaskClient) -> None:
    assert set(sources_by_id(client)) == {"kcg", "cna", "vision", "taipei", "broken", "silent"}


def test_a_healthy_source_reports_its_last_poll(client: FlaskClient) -> None:
    kcg = sources_by_id(client)["kcg"]
    assert kcg["status"] == "ok"
    assert kcg["title"] == "高雄市政府"
    assert kcg["url"] == "https://kcg.example.gov.tw/rss.xml"
    assert kcg["categories"] == ["kaohsiung"]
    assert kcg["last_success"] == kcg["last_attempt"]
    assert kcg["failures"] == 0
    assert kcg["entries"] == 35
    assert kcg["last_error"] is None
    assert kcg["next_poll"] > kcg["last_attempt"]


def test_a_failing_source_says_what_went_wrong_and_how_often(client: FlaskClient) -> None:
    broken = sources_by_id(client)["broken"]
    assert broken["status"] == "failing"
    assert broken["last_error"] == FAILING_ERROR
    assert broken["failures"] == 3
    assert broken["last_success"] is None


def test_a_source_never_polled_has_no_times(client: FlaskClient) -> None:
    silent = sources_by_id(client)["silent"]
    assert silent["status"] == "never"
    assert silent["last_attempt"] is None
    assert silent["last_success"] is None
    assert silent["entries"] == 0


# --- /opml and /healthz ------------------------------------------------------------


def test_opml_groups_the_sources_by_category(client: FlaskClient) -> None:
    response = client.get("/opml")
    assert response.status_code == 200
    body = ElementTree.fromstring(response.data).find("body")
    assert body is not None
    groups = {group.get("text"): [feed.get("xmlUrl") for feed in group] for group in body}
    assert groups["高雄市政新聞"] == [
        "https://kcg.example.gov.tw/rss.xml",
        "https://cna.example.com.tw/rss.xml",
        "https://vision.example.com.tw/rss.xml",
    ]
    assert "https://cna.example.com.tw/rss.xml" in groups["臺北市政新聞"]


def test_opml_is_version_two_with_a_title_per_feed(client: FlaskClient) -> None:
    opml = ElementTree.fromstring(client.get("/opml").data)
    assert opml.get("version") == "2.0"
    feed = opml.find("body/outline/outline")
    assert feed is not None
    assert feed.attrib == {
        "type": "rss",
        "text": "高雄市政府",
        "title": "高雄市政府",
        "xmlUrl": "https://kcg.example.gov.tw/rss.xml",
    }


def test_each_opml_is_titled_for_what_it_holds(client: FlaskClient) -> None:
    sources = ElementTree.fromstring(client.get("/opml").data).findtext("head/title")
    feeds = ElementTree.fromstring(client.get("/opml/feeds").data).findtext("head/title")
    assert sources is not None and "Sources" in sources
    assert feeds is not None and "feeds" in feeds


def test_the_feeds_opml_subscribes_a_reader_to_every_category_of_this_site(
    client: FlaskClient,
) -> None:
    response = client.get("/opml/feeds")
    assert response.status_code == 200
    assert response.mimetype == "text/x-opml"
    outlines = ElementTree.fromstring(response.data).findall("body/outline")
    assert [outline.attrib for outline in outlines] == [
        {
            "type": "rss",
            "text": "高雄市政新聞",
            "title": "高雄市政新聞",
            "xmlUrl": "https://news.example.org/feeds/kaohsiung.atom",
            "htmlUrl": "https://news.example.org/?category=kaohsiung",
        },
        {
            "type": "rss",
            "text": "臺北市政新聞",
            "title": "臺北市政新聞",
            "xmlUrl": "https://news.example.org/feeds/taipei.atom",
            "htmlUrl": "https://news.example.org/?category=taipei",
        },
    ]


def test_healthz_is_ok_when_the_store_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_healthz_is_503_when_the_store_does_not_answer(
    unreachable_store_client: FlaskClient,
) -> None:
    assert unreachable_store_client.get("/healthz").status_code == 503


@pytest.mark.parametrize("path", ["/", "/sources", "/embed/kaohsiung"])
def test_pages_say_the_store_is_unavailable_rather_than_crash(
    unreachable_store_client: FlaskClient, path: str
) -> None:
    response = unreachable_store_client.get(path)
    assert response.status_code == 503
    assert "資料庫暫時無法連線" in response.get_data(as_text=True)


def test_the_api_says_the_store_is_unavailable_in_json(
    unreachable_store_client: FlaskClient,
) -> None:
    response = unreachable_store_client.get("/api/entries")
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "The database cannot be reached right now; try again later."
    }
