"""`aggregator demo` shows one source of each kind working end to end: polled from its
own server, healthy on /sources, in the river and in the feeds; its expired alert is not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import feedparser
import pytest
from flask.testing import FlaskClient

from aggregator.config.load import load_config
from aggregator.demo import DemoFeeds
from aggregator.store import Store
from aggregator.web import create_app
from tests.pollonce import poll_once

OPENDATA_TITLE = "臺南市古蹟夜間開放 延長至晚間九點"
LIST_TITLE = "太魯閣峽谷音樂節 本月底登場"
CURRENT_ALERT = "高雄市 今天停止上班、停止上課"
EXPIRED_ALERT = "臺北市 昨日停止上班、停止上課"


@pytest.fixture
def client(store: Store) -> Iterator[FlaskClient]:
    now = datetime.now(UTC)
    with DemoFeeds() as demo:
        config = load_config(demo.config_path)
        poll_once(config, store, now)
        yield create_app({}, config=config, store=store).test_client()


def test_every_demo_source_is_healthy(client: FlaskClient) -> None:
    sources = client.get("/api/sources").get_json()

    assert {(s["id"], s["status"]) for s in sources["sources"]} >= {
        ("tainan-opendata", "ok"), ("hualien-list", "ok"), ("alerts", "ok"), ("kcg", "ok"),
    }
    assert all(s["status"] == "ok" for s in sources["sources"]), sources


def test_the_river_shows_each_kind_and_not_the_expired_alert(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)

    for title in (OPENDATA_TITLE, LIST_TITLE, CURRENT_ALERT, "文化局", "Severe"):
        assert title in page
    assert EXPIRED_ALERT not in page


def test_the_feeds_hold_each_kind(client: FlaskClient) -> None:
    atom = [entry.title for entry in feedparser.parse(client.get("/feeds/all.atom").data).entries]
    items = json.loads(client.get("/feeds/all.json").data)["items"]

    for title in (OPENDATA_TITLE, LIST_TITLE, CURRENT_ALERT):
        assert title in atom
        assert title in [item["title"] for item in items]
    assert EXPIRED_ALERT not in atom
    followed = next(item for item in items if item["title"] == LIST_TITLE)
    assert "音樂節於太魯閣台地舉行" in followed["content_html"]  # from the item's own page


def test_the_current_alert_files_under_the_city_it_names(client: FlaskClient) -> None:
    kaohsiung = feedparser.parse(client.get("/feeds/kaohsiung.atom").data).entries

    assert CURRENT_ALERT in [entry.title for entry in kaohsiung]
