"""WebSub publishing: after a worker's tick that changed feeds, the hub is told which
feed URLs changed, once per change, retried with backoff, through the address policy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import pytest

from aggregator.alerts.websub import FeedWatcher, HubPinger, feed_urls, feed_watcher, publish
from aggregator.config.load import config_from_text
from aggregator.fetch.fetcher import Fetcher
from aggregator.fetch.netpolicy import AddressPolicy
from aggregator.models import Config, WriteCounts
from aggregator.schedule.poll import Poller
from aggregator.schedule.worker import Worker
from aggregator.store import Store
from tests.feedbuilder import FeedItem, rss
from tests.feedserver import FeedServer, Reply, RequestInfo
from tests.storedata import T0, outcome, report

BASE_URL = "https://news.example.org"
HUB_PATH = "/hub"
WROTE = WriteCounts(new=1)


def config_text(hub_url: str | None) -> str:
    hub = f"  websub_hub: {hub_url}\n" if hub_url else ""
    return (
        f"settings:\n  base_url: {BASE_URL}\n  allow_private_addresses: true\n{hub}"
        "categories:\n  kaohsiung:\n    title: 高雄市政新聞\n  taipei:\n    title: 臺北市政新聞\n"
        "sources:\n"
        "  - id: kcg\n    url: https://kcg.example.gov.tw/rss.xml\n    categories: [kaohsiung]\n"
        "  - id: taipei\n    url: https://taipei.example.gov.tw/rss.xml\n    categories: [taipei]\n"
    )


def config_for(hub_url: str | None) -> Config:
    return config_from_text(config_text(hub_url), "feeds.yaml")


class Hub:
    """A WebSub hub on 127.0.0.1 that records the publish pings it accepts."""

    def __init__(self, server: FeedServer, failures_first: int = 0) -> None:
        self.url = server.url(HUB_PATH)
        self.accepted: list[str] = []
        self._failures_left = failures_first
        server.handle(HUB_PATH, self._answer)

    def _answer(self, request: RequestInfo) -> Reply:
        if self._failures_left:
            self._failures_left -= 1
            return Reply(status=503, body="busy")
        form = parse_qs(request.body.decode("ascii"))
        assert request.header("Content-Type") == "application/x-www-form-urlencoded"
        assert form["hub.mode"] == ["publish"]
        self.accepted.extend(form["hub.url"])
        return Reply(status=204)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # room for a ping too many to show up
        return sorted(self.accepted)


@pytest.fixture(autouse=True)
def sources_in_store(store: Store) -> None:
    store.sync_sources(config_for(None).sources, T0)


@pytest.fixture
def hub(feed_server: FeedServer) -> Hub:
    return Hub(feed_server)


def watcher_for(hub_url: str, store: Store, first_retry: timedelta) -> FeedWatcher:
    policy = AddressPolicy.build(allow_private=True)
    return FeedWatcher(
        config_for(hub_url), store, HubPinger(hub_url, policy, first_retry=first_retry)
    )


@pytest.fixture
def watcher(hub: Hub, store: Store) -> Iterator[FeedWatcher]:
    store.apply_poll(outcome("kcg", [report("kcg", "old", title="舊聞")]))
    watching = watcher_for(hub.url, store, timedelta(seconds=0.05))
    watching.start()
    yield watching
    watching.stop()


def write(store: Store, watcher: FeedWatcher, source_id: str, title: str) -> None:
    """What a worker's poll does: write, and tell the watcher through the progress callback."""
    poll = outcome(source_id, [report(source_id, title, title=title)])
    watcher.saw_poll(poll, store.apply_poll(poll))


def test_a_new_entry_announces_its_category_and_all_in_every_format(
    store: Store, watcher: FeedWatcher, hub: Hub
) -> None:
    write(store, watcher, "kcg", "高雄港新航線")

    watcher.after_tick()

    assert hub.wait_for(6) == sorted(feed_urls(BASE_URL, ["all", "kaohsiung"]))


def test_a_feed_that_did_not_change_is_not_announced(
    store: Store, watcher: FeedWatcher, hub: Hub
) -> None:
    write(store, watcher, "taipei", "臺北市公車路線調整")

    watcher.after_tick()

    assert not any("kaohsiung" in url for url in hub.wait_for(6))


def test_a_tick_without_changes_announces_nothing(watcher: FeedWatcher, hub: Hub) -> None:
    watcher.after_tick()

    assert hub.wait_for(1, timeout=0.3) == []


def test_a_change_written_by_another_worker_is_left_to_it(
    store: Store, watcher: FeedWatcher, hub: Hub
) -> None:
    store.apply_poll(outcome("kcg", [report("kcg", "elsewhere", title="別的程序寫入")]))

    watcher.after_tick()

    assert hub.wait_for(1, timeout=0.3) == []


def test_each_change_is_announced_once(store: Store, watcher: FeedWatcher, hub: Hub) -> None:
    write(store, watcher, "kcg", "第一則")
    watcher.after_tick()
    hub.wait_for(6)
    write(store, watcher, "kcg", "第二則")
    watcher.after_tick()
    watcher.after_tick()

    announced = hub.wait_for(12)

    assert announced == sorted(feed_urls(BASE_URL, ["all", "kaohsiung"]) * 2)


def test_a_hub_that_fails_once_gets_the_ping_again_and_takes_it_once(
    feed_server: FeedServer, store: Store
) -> None:
    hub = Hub(feed_server, failures_first=1)
    watching = watcher_for(hub.url, store, timedelta(seconds=0.05))
    watching.start()
    try:
        write(store, watching, "taipei", "颱風停班停課")
        watching.after_tick()

        announced = hub.wait_for(6)
    finally:
        watching.stop()

    assert announced == sorted(feed_urls(BASE_URL, ["all", "taipei"]))
    assert len(feed_server.requests_to(HUB_PATH)) == 7


def test_a_hub_at_a_private_address_is_refused_before_connecting(
    feed_server: FeedServer, hub: Hub
) -> None:
    error = publish(hub.url, f"{BASE_URL}/feeds/all.atom", AddressPolicy(), timeout=2.0)

    assert error is not None and "127.0.0.1" in error and "loopback" in error
    assert feed_server.connection_count == 0


def test_a_hub_that_does_not_take_the_ping_says_so(feed_server: FeedServer) -> None:
    feed_server.handle(HUB_PATH, lambda _: Reply(status=400, body="unknown topic"))

    error = publish(feed_server.url(HUB_PATH), "x", AddressPolicy(allow_private=True), 2.0)

    assert error is not None and "400" in error


def test_without_a_hub_nothing_watches_the_feeds(store: Store) -> None:
    assert feed_watcher(config_for(None), store) is None


def test_a_worker_announces_what_its_first_pass_wrote(
    feed_server: FeedServer, hub: Hub, store: Store
) -> None:
    feed_server.serve(
        "/kcg.xml",
        rss([FeedItem("高雄港新航線", link="https://kcg.example.gov.tw/news/1", published=T0)]),
    )
    text = config_text(hub.url).replace(
        "https://kcg.example.gov.tw/rss.xml", feed_server.url("/kcg.xml")
    )
    config = config_from_text(text, "feeds.yaml")
    worker = Worker(config, store, Poller(config, store, Fetcher(allow_private_addresses=True)))
    worker.start()
    try:
        announced = hub.wait_for(6, timeout=15.0)
    finally:
        worker.stop()

    assert announced == sorted(feed_urls(BASE_URL, ["all", "kaohsiung"]))
