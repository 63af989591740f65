"""Poll now, end to end: staff mark a source due, and the worker that is already running
fetches it on its next pass (over HTTP on 127.0.0.1); each poll lands in the source's
history. A day-only date in the feed is stored as a day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from aggregator.fetch.fetcher import Fetcher
from aggregator.models import EntryQuery
from aggregator.schedule.poll import Poller
from aggregator.schedule.worker import Worker
from aggregator.store import Store
from tests.feedbuilder import FeedItem, rss
from tests.feedserver import FeedServer
from tests.test_worker import city_config


@pytest.fixture
def worker(store: Store, feed_server: FeedServer) -> Iterator[Worker]:
    feed_server.serve(
        "/kcg.xml",
        rss(
            [
                FeedItem(
                    "市立圖書館春季書展",
                    link="https://kcg.example.gov.tw/n/1",
                    published="114/03/16",
                )
            ]
        ),
    )
    poller = Poller(city_config(feed_server), store, Fetcher(allow_private_addresses=True))
    yield Worker(city_config(feed_server), store, poller)
    poller.close()


def test_a_source_polled_now_is_fetched_on_the_workers_next_pass(
    store: Store, feed_server: FeedServer, worker: Worker
) -> None:
    worker.poll_due()
    worker.poll_due()  # not due again for its interval
    assert len(feed_server.requests_to("/kcg.xml")) == 1

    store.poll_now("kcg", "王小明", datetime.now(UTC))
    worker.poll_due()

    assert len(feed_server.requests_to("/kcg.xml")) == 2
    second, first = store.recent_attempts(["kcg"])["kcg"]
    assert (first.status, first.new_reports, first.http_status) == ("ok", 1, 200)
    assert second.status in ("not_modified", "unchanged_body")
    assert second.attempted_at > first.attempted_at


def test_a_day_only_date_is_stored_as_a_day(store: Store, worker: Worker) -> None:
    worker.poll_due()
    (entry,) = store.entries(EntryQuery()).entries
    assert not entry.published_has_time
    assert entry.published == datetime(2025, 3, 15, 16, tzinfo=UTC)  # 16 March in Taipei
