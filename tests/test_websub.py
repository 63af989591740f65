"""WebSub publishing: a poll that changes a feed queues, in its own transaction, a ping to
the hub for each of that feed's URLs; the outbox delivers them like webhooks (once, retried
with the same backoff, kept across restarts), through the address policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select

from aggregator.alerts.outbox import OutboxSender
from aggregator.alerts.websub import feed_pings, feed_urls
from aggregator.config.load import config_from_text
from aggregator.fetch.fetcher import Fetcher
from aggregator.fetch.netpolicy import AddressPolicy
from aggregator.fetch.outbound import FIRST_RETRY, backoff
from aggregator.models import Config
from aggregator.schedule.poll import Poller
from aggregator.schedule.worker import Worker
from aggregator.store import Store
from aggregator.store.alerts import AlertStore
from aggregator.store.schema import notifications
from tests.feedbuilder import FeedItem, rss
from tests.feedserver import FeedServer, Reply, RequestInfo
from tests.storedata import T0

BASE_URL = "https://news.example.org"
HUB_PATH = "/hub"


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


class City:
    """Two city feeds on the local server, in two categories, that a test adds stories to."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.items: dict[str, list[FeedItem]] = {"kcg": [], "taipei": []}
        for source_id in self.items:
            self._serve(source_id)

    def publish(self, source_id: str, title: str) -> None:
        number = len(self.items[source_id]) + 1
        link = f"https://{source_id}.example.gov.tw/news/{number}"
        self.items[source_id].append(FeedItem(title, link=link, published=T0))
        self._serve(source_id)

    def _serve(self, source_id: str) -> None:
        self.server.serve(f"/{source_id}.xml", rss(self.items[source_id]))

    def config(self, hub_url: str | None) -> Config:
        hub = f"  websub_hub: {hub_url}\n" if hub_url else ""
        return config_from_text(
            f"settings:\n  base_url: {BASE_URL}\n  allow_private_addresses: true\n{hub}"
            "categories:\n  kaohsiung:\n    title: 高雄市政新聞\n"
            "  taipei:\n    title: 臺北市政新聞\n"
            "sources:\n"
            f"  - id: kcg\n    url: {self.server.url('/kcg.xml')}\n"
            "    categories: [kaohsiung]\n"
            f"  - id: taipei\n    url: {self.server.url('/taipei.xml')}\n"
            "    categories: [taipei]\n",
            "feeds.yaml",
        )


@pytest.fixture
def city(feed_server: FeedServer) -> City:
    return City(feed_server)


@pytest.fixture
def hub(feed_server: FeedServer) -> Hub:
    return Hub(feed_server)


def poll_once(store: Store, config: Config, *source_ids: str) -> None:
    """Poll `config`'s sources (all of them, or those named) once, as a worker's pass does."""
    store.sync_sources(config.sources, datetime.now(UTC))
    poller = Poller(config, store, Fetcher(allow_private_addresses=True))
    try:
        states = store.due_sources(datetime.now(UTC), include_not_due=True)
        poller.poll([state for state in states if not source_ids or state.source_id in source_ids])
    finally:
        poller.close()


Poll = Callable[..., None]


@pytest.fixture
def poll(store: Store, city: City, hub: Hub) -> Poll:
    """Poll the city's sources, with the hub configured."""
    return lambda *source_ids: poll_once(store, city.config(hub.url), *source_ids)


def sender(store: Store, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> OutboxSender:
    return OutboxSender(AlertStore(store), AddressPolicy(allow_private=True), clock=clock)


def queued(store: Store) -> int:
    with store.reading() as connection:
        return int(connection.scalar(select(func.count()).select_from(notifications)) or 0)


def announced(*feeds: str) -> list[str]:
    return sorted(url for feed in feeds for url in feed_urls(BASE_URL, feed))


def test_a_new_entry_announces_its_category_and_all_in_every_format(
    store: Store, city: City, hub: Hub, poll: Poll
) -> None:
    city.publish("kcg", "高雄港新航線")
    poll()

    sender(store).deliver_due()

    assert sorted(hub.accepted) == announced("all", "kaohsiung")


def test_a_feed_that_did_not_change_is_not_announced(
    store: Store, city: City, hub: Hub, poll: Poll
) -> None:
    city.publish("taipei", "臺北市公車路線調整")
    poll()

    sender(store).deliver_due()

    assert sorted(hub.accepted) == announced("all", "taipei")


def test_a_poll_that_changes_nothing_announces_nothing(
    store: Store, city: City, hub: Hub, poll: Poll
) -> None:
    city.publish("kcg", "高雄港新航線")
    poll()
    sender(store).deliver_due()
    hub.accepted.clear()

    poll()  # the same feeds again
    sender(store).deliver_due()

    assert hub.accepted == []


def test_changes_made_before_the_ping_goes_out_share_it(
    store: Store, city: City, hub: Hub, poll: Poll
) -> None:
    city.publish("kcg", "第一則")
    poll("kcg")
    city.publish("kcg", "第二則")
    poll("kcg")

    sender(store).deliver_due()

    assert sorted(hub.accepted) == announced("all", "kaohsiung")


def test_a_change_after_the_ping_went_out_is_announced_again(
    store: Store, city: City, hub: Hub, poll: Poll
) -> None:
    city.publish("kcg", "第一則")
    poll("kcg")
    sender(store).deliver_due()
    city.publish("kcg", "第二則")
    poll("kcg")

    sender(store).deliver_due()

    assert sorted(hub.accepted) == sorted(announced("all", "kaohsiung") * 2)


def test_without_a_hub_nothing_is_queued(store: Store, city: City) -> None:
    config = city.config(None)
    city.publish("kcg", "高雄港新航線")

    poll_once(store, config)

    assert (feed_pings(config), queued(store)) == (None, 0)


def test_a_ping_queued_by_a_poll_survives_a_worker_restart(
    store: Store, city: City, hub: Hub, feed_server: FeedServer
) -> None:
    config = city.config(hub.url)
    city.publish("kcg", "高雄港新航線")
    fetcher = Fetcher(allow_private_addresses=True)
    first_poller = Poller(config, store, fetcher)
    Worker(config, store, first_poller).poll_due()  # it ends before its outbox round
    first_poller.close()
    queued_before = queued(store)

    second_poller = Poller(config, store, fetcher)
    Worker(config, store, second_poller).deliver_outbox()
    second_poller.close()

    assert queued_before == len(announced("all", "kaohsiung"))

    assert sorted(hub.accepted) == announced("all", "kaohsiung")


def test_a_failing_hub_is_retried_on_the_webhooks_schedule(
    store: Store, city: City, feed_server: FeedServer
) -> None:
    pings = len(announced("all", "kaohsiung"))
    hub = Hub(feed_server, failures_first=2 * pings)  # two rounds fail, the third succeeds
    city.publish("kcg", "颱風停班停課")
    poll_once(store, city.config(hub.url))
    now = datetime.now(UTC)
    delivering = sender(store, clock=lambda: now)

    attempted = [delivering.deliver_due()]
    for wait in (backoff(1), backoff(2)):
        now += wait - timedelta(seconds=1)
        attempted.append(delivering.deliver_due())  # not yet due
        now += timedelta(seconds=1)
        attempted.append(delivering.deliver_due())
    now += timedelta(days=1)
    attempted.append(delivering.deliver_due())  # nothing left: each was taken once

    assert backoff(1) == FIRST_RETRY
    assert attempted == [pings, 0, pings, 0, pings, 0]
    assert sorted(hub.accepted) == announced("all", "kaohsiung")
    assert len(feed_server.requests_to(HUB_PATH)) == 3 * pings


def test_a_hub_at_a_private_address_is_refused_before_connecting(
    store: Store, city: City, hub: Hub, feed_server: FeedServer, poll: Poll
) -> None:
    city.publish("kcg", "高雄港新航線")
    poll()
    connections = feed_server.connection_count

    OutboxSender(AlertStore(store), AddressPolicy()).deliver_due()

    assert feed_server.connection_count == connections
    with store.reading() as connection:
        errors = connection.scalars(select(notifications.c.last_error)).all()
    assert errors and all("127.0.0.1" in e and "loopback" in e for e in errors)
