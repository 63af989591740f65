"""Sources that have no RSS, stored and shown: who issued each item (發布單位) is its author in
the reader and in every feed format, an alert shows its severity, files under the categories
its areas name, and leaves the river and the feeds once it expires while staying stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from flask.testing import FlaskClient

from aggregator.config.load import config_from_text
from aggregator.models import Config, EntryQuery, StoredEntry
from aggregator.search.query import parse_query
from aggregator.store import Store
from aggregator.web import create_app
from tests.feedserver import FeedServer
from tests.fixtures_http import read_data
from tests.pollonce import poll_once

NOW = datetime.now(UTC).replace(microsecond=0)
KAOHSIUNG_ALERT = "高雄市 今天停止上班、停止上課"
HUALIEN_ALERT = "花蓮縣山區豪雨特報"


def cap_feed(kaohsiung_expires: datetime, hualien_expires: datetime) -> str:
    """Two alerts in an Atom feed of CAP fields, as the national alert feed publishes them."""

    def entry(identifier: str, title: str, expires: datetime, severity: str, area: str) -> str:
        return f"""
  <entry>
    <id>{identifier}</id>
    <title>{title}</title>
    <updated>{NOW.isoformat()}</updated>
    <author><name>行政院人事行政總處</name></author>
    <link href="https://alerts.example.gov.tw/{identifier}.cap"/>
    <summary>{title}。</summary>
    <cap:effective>{NOW.isoformat()}</cap:effective>
    <cap:expires>{expires.isoformat()}</cap:expires>
    <cap:severity>{severity}</cap:severity>
    <cap:areaDesc>{area}</cap:areaDesc>
  </entry>"""

    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2">
  <id>https://alerts.example.gov.tw/feed</id>
  <title>示警資料</title>
  <updated>{NOW.isoformat()}</updated>
  {entry("DGPA-KHH", KAOHSIUNG_ALERT, kaohsiung_expires, "Severe", "高雄市")}
  {entry("CWA-HUA", HUALIEN_ALERT, hualien_expires, "Moderate", "花蓮縣")}
</feed>"""


def kinds_config(server: FeedServer) -> Config:
    return config_from_text(
        f"""\
settings:
  allow_private_addresses: true
  base_url: https://news.example.org
categories:
  alerts:
    title: 示警
  kaohsiung:
    title: 高雄市
  tainan:
    title: 臺南市
sources:
  - id: tainan
    kind: opendata
    url: {server.url("/tainan.json")}
    title: 臺南市政府
    categories: [tainan]
  - id: alerts
    kind: cap
    url: {server.url("/alerts.atom")}
    title: 災害示警
    categories: [alerts]
    interval: 60s
    areas:
      高雄市: kaohsiung
""",
        "feeds.yaml",
    )


def poll(config: Config, store: Store) -> None:
    poll_once(config, store, NOW)


@pytest.fixture
def config(feed_server: FeedServer, store: Store) -> Iterator[Config]:
    feed_server.serve(
        "/tainan.json", read_data("kinds/tainan_opendata_chinese.json"),
        content_type="application/json",
    )
    # The Kaohsiung alert ends in an hour, the Hualien one tomorrow.
    feed_server.serve(
        "/alerts.atom", cap_feed(NOW + timedelta(hours=1), NOW + timedelta(days=1)),
        content_type="application/atom+xml",
    )
    config = kinds_config(feed_server)
    poll(config, store)
    yield config


def by_title(store: Store, query: EntryQuery) -> dict[str, StoredEntry]:
    return {entry.title: entry for entry in store.entries(query).entries}


def test_the_issuing_agency_and_an_alerts_severity_are_stored(
    config: Config, store: Store
) -> None:
    shown = by_title(store, EntryQuery(limit=50))

    assert shown["臺南市政府 古蹟夜間開放 延長至晚間九點"].agency == "文化局"
    assert shown["鹽水蜂炮 交通管制公告"].agency == "交通局"
    alert = shown[KAOHSIUNG_ALERT]
    assert alert.severity == "Severe"
    assert alert.expires == NOW + timedelta(hours=1)


def test_an_alert_source_may_be_polled_every_minute(config: Config, store: Store) -> None:
    health = next(health for health in store.source_health() if health.id == "alerts")

    assert health.status == "ok"
    assert health.next_poll is not None
    assert timedelta(seconds=54) <= health.next_poll - NOW <= timedelta(seconds=66)


def test_an_alert_files_under_the_category_its_area_maps_to(
    config: Config, store: Store
) -> None:
    assert set(by_title(store, EntryQuery(category="kaohsiung"))) == {KAOHSIUNG_ALERT}
    assert set(by_title(store, EntryQuery(category="alerts"))) == {KAOHSIUNG_ALERT, HUALIEN_ALERT}


def test_an_alert_keeps_its_areas_category_when_staff_merge_another_story_into_it(
    config: Config, store: Store
) -> None:
    alert = by_title(store, EntryQuery(category="kaohsiung"))[KAOHSIUNG_ALERT]
    other = next(
        entry for entry in store.entries(EntryQuery(limit=100)).entries
        if entry.title not in (KAOHSIUNG_ALERT, HUALIEN_ALERT)
    )

    store.force_merge(alert.id, other.id, "王小明", NOW)

    # The entry's categories are recomputed from its reports: the alert's area is one.
    filed = store.entries(EntryQuery(category="kaohsiung")).entries
    assert alert.id in {entry.id for entry in filed}


def test_an_expired_alert_leaves_the_river_but_stays_stored(
    config: Config, store: Store
) -> None:
    later = NOW + timedelta(hours=2)

    assert set(by_title(store, EntryQuery(category="alerts", now=later))) == {HUALIEN_ALERT}
    assert KAOHSIUNG_ALERT not in by_title(store, EntryQuery(now=later))
    assert by_title(store, EntryQuery(category="kaohsiung", now=later)) == {}
    expired = by_title(store, EntryQuery(category="kaohsiung"))[KAOHSIUNG_ALERT]
    assert store.entry(expired.id) is not None


def test_an_expired_alert_leaves_search_results_too(config: Config, store: Store) -> None:
    def found(now: datetime) -> set[str]:
        page = store.search(parse_query("停止上班"), EntryQuery(now=now))
        return {entry.title for entry in page.entries}

    assert found(NOW) == {KAOHSIUNG_ALERT}
    assert found(NOW + timedelta(hours=2)) == set()


def test_an_alert_already_expired_when_fetched_is_not_stored(
    feed_server: FeedServer, store: Store
) -> None:
    feed_server.serve(
        "/tainan.json", read_data("kinds/tainan_opendata_chinese.json"),
        content_type="application/json",
    )
    feed_server.serve(
        "/alerts.atom", cap_feed(NOW - timedelta(minutes=1), NOW + timedelta(days=1)),
        content_type="application/atom+xml",
    )
    poll(kinds_config(feed_server), store)

    assert set(by_title(store, EntryQuery(category="alerts"))) == {HUALIEN_ALERT}


# --- shown to readers ---------------------------------------------------------------------


@pytest.fixture
def client(config: Config, store: Store) -> FlaskClient:
    return create_app({}, config=config, store=store).test_client()


def test_the_reader_shows_the_agency_and_the_severity(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)

    assert "文化局" in page
    assert "Severe" in page


def test_the_atom_feed_names_the_agency_as_author(client: FlaskClient) -> None:
    feed = feedparser.parse(client.get("/feeds/tainan.atom").data)

    assert {entry.author for entry in feed.entries} == {"文化局", "交通局"}


def test_the_rss_feed_names_the_agency_as_author(client: FlaskClient) -> None:
    feed = feedparser.parse(client.get("/feeds/tainan.rss").data)

    assert {entry.author for entry in feed.entries} == {"文化局", "交通局"}


def test_the_json_feed_names_the_agency_as_author(client: FlaskClient) -> None:
    feed = json.loads(client.get("/feeds/tainan.json").data)

    assert {item["authors"][0]["name"] for item in feed["items"]} == {"文化局", "交通局"}


def test_an_entry_without_an_agency_is_by_its_source(client: FlaskClient) -> None:
    feed = feedparser.parse(client.get("/feeds/alerts.atom").data)

    assert [entry.author for entry in feed.entries] == ["災害示警", "災害示警"]
