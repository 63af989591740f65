"""A list page read with selectors breaks quietly when its site is redesigned: the source
must then fail, say which selector stopped matching, keep what it stored and store nothing
from the new page."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from aggregator.config.load import config_from_text
from aggregator.models import Config, EntryQuery, SourceHealth
from aggregator.store import Store
from aggregator.web import create_app
from tests.feedserver import FeedServer
from tests.fixtures_http import read_data
from tests.pollonce import poll_once

NOW = datetime.now(UTC).replace(microsecond=0)
LISTED = ["太魯閣峽谷音樂節 三月底登場", "縣長視察 193 縣道 拓寬工程",
          "花蓮縣政府宣布颱風假 明日停班停課 請民眾注意安全並遠離海邊"]
ITEM_GONE = (
    "the item selector 'table.list tbody tr' matches nothing on the page: the site has "
    "probably changed its layout, so the source's 'selectors' need updating"
)


def hualien_config(server: FeedServer) -> Config:
    return config_from_text(
        f"""\
settings:
  allow_private_addresses: true
categories:
  hualien:
    title: 花蓮縣
sources:
  - id: hualien
    kind: html
    url: {server.url("/News.aspx")}
    title: 花蓮縣政府
    categories: [hualien]
    selectors:
      item: table.list tbody tr
      title: td.title a
      link: td.title a
      date: td.date
""",
        "feeds.yaml",
    )


def poll(config: Config, store: Store) -> SourceHealth:
    poll_once(config, store, NOW)
    return next(health for health in store.source_health() if health.id == "hualien")


def serve_page(server: FeedServer, name: str) -> None:
    server.serve("/News.aspx", read_data(f"kinds/{name}"), content_type="text/html; charset=utf-8")


def stored_titles(store: Store) -> list[str]:
    return sorted(entry.title for entry in store.entries(EntryQuery(source="hualien")).entries)


def test_a_redesigned_page_fails_the_source_naming_the_selector_and_stores_nothing(
    feed_server: FeedServer, store: Store
) -> None:
    config = hualien_config(feed_server)
    serve_page(feed_server, "hualien_news_list.html")
    assert poll(config, store).status == "ok"
    assert stored_titles(store) == LISTED

    serve_page(feed_server, "hualien_news_redesigned.html")
    health = poll(config, store)

    assert health.status == "failing"
    assert health.last_error == ITEM_GONE
    assert stored_titles(store) == LISTED


def test_the_sources_page_says_which_selector_stopped_matching(
    feed_server: FeedServer, store: Store
) -> None:
    config = hualien_config(feed_server)
    serve_page(feed_server, "hualien_news_redesigned.html")
    poll(config, store)

    page = create_app({}, config=config, store=store).test_client().get("/sources")

    assert ITEM_GONE in html.unescape(page.get_data(as_text=True))


def test_an_empty_list_page_fails_rather_than_looking_healthy(
    feed_server: FeedServer, store: Store
) -> None:
    config = hualien_config(feed_server)
    feed_server.serve(
        "/News.aspx",
        "<html><head><title>新聞稿</title></head><body><p>查無資料</p></body></html>",
        content_type="text/html; charset=utf-8",
    )

    health = poll(config, store)

    assert health.status == "failing"
    assert health.last_error == ITEM_GONE
    assert stored_titles(store) == []
