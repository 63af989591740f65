"""`follow: true`: an html source's new items are each fetched once from their own page for
the full text (its attachments are enclosures in the feeds), by the same fetcher and its
rules, a bounded number a poll; an item whose page cannot be read keeps what the list page
said."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import feedparser

from aggregator.config.load import config_from_text
from aggregator.fetch.fetcher import Fetcher
from aggregator.models import Config, EntryQuery, SourceHealth, StoredEntry
from aggregator.schedule.poll import MAX_FOLLOWS
from aggregator.store import Store
from aggregator.web import create_app
from tests.feedserver import FeedServer
from tests.pollonce import poll_once

NOW = datetime.now(UTC).replace(microsecond=0)
PAGE_CAP = 64 * 1024


def list_page(numbers: range) -> str:
    rows = "".join(
        f'<li><a href="/news/{n}.html">第 {n} 則新聞</a><span class="date">2024/03/15</span>'
        f'<p class="summary">列表摘要 {n}</p></li>'
        for n in numbers
    )
    return f"<html><head><title>新聞稿</title></head><body><ul class='list'>{rows}</ul></body>"


def item_page(number: int) -> str:
    return (
        f"<html><body><nav>選單</nav><div class='article'><p>第 {number} 則全文。</p>"
        f"<p><a href='/files/{number}.pdf'>附件下載</a></p></div></body></html>"
    )


def follow_config(server: FeedServer) -> Config:
    return config_from_text(
        f"""\
settings:
  allow_private_addresses: true
categories:
  news:
    title: 新聞
sources:
  - id: county
    kind: html
    url: {server.url("/list.html")}
    categories: [news]
    selectors: {{item: ul.list li, title: a, link: a, date: span.date, summary: p.summary}}
    follow: true
    content: div.article
""",
        "feeds.yaml",
    )


def serve(server: FeedServer, numbers: range) -> None:
    server.serve("/list.html", list_page(numbers), content_type="text/html; charset=utf-8")
    for number in numbers:
        server.serve(f"/news/{number}.html", item_page(number),
                     content_type="text/html; charset=utf-8")


def poll(config: Config, store: Store) -> SourceHealth:
    poll_once(config, store, NOW,
              Fetcher(allow_private_addresses=True, timeout=5.0, max_bytes=PAGE_CAP))
    return next(health for health in store.source_health() if health.id == "county")


def stored(store: Store) -> dict[str, StoredEntry]:
    page = store.entries(EntryQuery(source="county", limit=200))
    return {entry.title: entry for entry in page.entries}


def test_a_new_item_gets_its_pages_full_text_and_attachment_links(
    feed_server: FeedServer, store: Store
) -> None:
    serve(feed_server, range(1, 3))

    poll(follow_config(feed_server), store)

    entry = stored(store)["第 1 則新聞"]
    assert "第 1 則全文。" in entry.content
    assert f'href="{feed_server.url("/files/1.pdf")}"' in entry.content
    assert "選單" not in entry.content


def test_attachments_are_enclosures_in_the_feeds(feed_server: FeedServer, store: Store) -> None:
    config = follow_config(feed_server)
    serve(feed_server, range(1, 2))
    poll(config, store)
    client = create_app({}, config=config, store=store).test_client()
    pdf = feed_server.url("/files/1.pdf")

    atom = feedparser.parse(client.get("/feeds/news.atom").data).entries[0]
    rss = feedparser.parse(client.get("/feeds/news.rss").data).entries[0]
    item = json.loads(client.get("/feeds/news.json").data)["items"][0]

    assert [(e.href, e.type) for e in atom.enclosures] == [(pdf, "application/pdf")]
    assert [(e.href, e.type) for e in rss.enclosures] == [(pdf, "application/pdf")]
    assert item["attachments"] == [{"url": pdf, "mime_type": "application/pdf"}]


def test_each_item_page_is_fetched_once_however_often_the_list_is_polled(
    feed_server: FeedServer, store: Store
) -> None:
    config = follow_config(feed_server)
    serve(feed_server, range(1, 3))
    poll(config, store)
    serve(feed_server, range(1, 4))  # the list gains an item
    poll(config, store)
    poll(config, store)

    assert [len(feed_server.requests_to(f"/news/{n}.html")) for n in (1, 2, 3)] == [1, 1, 1]
    assert "第 3 則全文。" in stored(store)["第 3 則新聞"].content


def test_a_poll_follows_a_bounded_number_of_items_and_the_next_poll_the_rest(
    feed_server: FeedServer, store: Store
) -> None:
    config = follow_config(feed_server)
    serve(feed_server, range(1, MAX_FOLLOWS + 6))

    first = poll(config, store)
    followed_first = sum(
        len(feed_server.requests_to(f"/news/{n}.html")) for n in range(1, MAX_FOLLOWS + 6)
    )
    poll(config, store)

    assert followed_first == MAX_FOLLOWS
    assert len(stored(store)) == MAX_FOLLOWS + 5
    assert all("則全文。" in entry.content for entry in stored(store).values())
    assert first.status == "ok"
    assert any("wait for the next polls" in note for note in first.notes)


def test_an_item_whose_page_fails_keeps_the_list_summary(
    feed_server: FeedServer, store: Store
) -> None:
    serve(feed_server, range(1, 4))
    feed_server.serve("/news/2.html", "gone", status=404, content_type="text/plain")
    feed_server.serve("/news/3.html", "<p>" + "大" * PAGE_CAP + "</p>",
                      content_type="text/html; charset=utf-8")  # over the fetcher's cap

    health = poll(follow_config(feed_server), store)

    entries = stored(store)
    assert health.status == "ok"
    assert "第 1 則全文。" in entries["第 1 則新聞"].content
    assert "列表摘要 2" in entries["第 2 則新聞"].content
    assert "列表摘要 3" in entries["第 3 則新聞"].content
