"""Readers under load while a worker writes: every request answered, and once the cache's
staleness bound has passed, no feed older than the last write.

The web app and the writer each open their own store, as a web process and a worker do:
all they share is the database.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aggregator.config.load import load_config
from aggregator.fetch.fetcher import Fetcher
from aggregator.schedule.poll import Poller
from aggregator.store import open_store
from aggregator.store.migrate import upgrade
from aggregator.web import create_app
from aggregator.web.responsecache import VERSION_CHECK_SECONDS
from tests.feedbuilder import FeedItem, rss
from tests.feedserver import FeedServer, Reply, RequestInfo
from tests.inline import InlineExecutor

SOURCES = ("city", "port", "metro")
PASSES = 6
READERS = 4
PAGES = ("/feeds/all.atom", "/feeds/news.json", "/api/entries", "/", "/api/sources")


class GrowingSite:
    """Each request to a source's feed finds one story more than the one before."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.latest: dict[str, str] = {}
        self._lock = threading.Lock()
        for source_id in SOURCES:
            server.handle(f"/{source_id}.xml", self._answer_for(source_id))

    def _answer_for(self, source_id: str) -> Callable[[RequestInfo], Reply]:
        served = 0

        def answer(request: RequestInfo) -> Reply:
            nonlocal served
            with self._lock:
                served += 1
                titles = [f"{source_id} 第{n}則" for n in range(1, served + 1)]
                self.latest[source_id] = titles[-1]
            items = [FeedItem(t, link=f"https://{source_id}.example.tw/{t}") for t in titles]
            return Reply(rss(items), headers={"Content-Type": "application/rss+xml"})

        return answer

    def write_config(self, directory: Path) -> Path:
        sources = "".join(
            f"  - id: {s}\n    url: {self.server.url(f'/{s}.xml')}\n    categories: [news]\n"
            for s in SOURCES
        )
        path = directory / "feeds.yaml"
        path.write_text(
            "settings:\n  allow_private_addresses: true\n"
            f"categories:\n  news:\n    title: 新聞\nsources:\n{sources}",
            encoding="utf-8",
        )
        return path


def poll_repeatedly(config_path: Path, db_url: str, passes: int) -> None:
    """What a worker does, in passes over every source, with a store of its own."""
    config = load_config(config_path)
    store = open_store(db_url)
    poller = Poller(config, store, Fetcher(allow_private_addresses=True),
                    parse_executor=InlineExecutor())
    try:
        store.sync_sources(config.sources, datetime.now(UTC))
        for _ in range(passes):
            poller.poll(store.due_sources(datetime.now(UTC), include_not_due=True))
    finally:
        poller.close()
        store.close()


def test_readers_get_answers_and_a_fresh_feed_while_a_worker_writes(
    feed_server: FeedServer, db_url: str, tmp_path: Path
) -> None:
    upgrade(db_url)
    site = GrowingSite(feed_server)
    config = site.write_config(tmp_path)
    app = create_app({"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(config)})
    statuses: Counter[int] = Counter()
    counting = threading.Lock()
    writing = threading.Event()
    writing.set()

    def read() -> None:
        client = app.test_client()
        while writing.is_set():
            for page in PAGES:
                status = client.get(page).status_code
                with counting:
                    statuses[status] += 1

    readers = [threading.Thread(target=read) for _ in range(READERS)]
    for reader in readers:
        reader.start()
    try:
        poll_repeatedly(config, db_url, PASSES)
    finally:
        writing.clear()
        for reader in readers:
            reader.join()
    time.sleep(VERSION_CHECK_SECONDS * 1.5)
    feed = app.test_client().get("/feeds/all.atom").get_data(as_text=True)

    assert statuses.total() >= READERS * len(PAGES)  # they did read while it wrote
    assert set(statuses) == {200}, statuses
    assert [title for title in site.latest.values() if title not in feed] == []
