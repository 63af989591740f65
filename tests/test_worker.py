"""One worker, one scheduler: every periodic duty is an APScheduler job that never runs
twice at once and never piles up; each duty is also one pass a caller can run."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from aggregator.config.load import config_from_text
from aggregator.fetch.fetcher import Fetcher
from aggregator.models import Config, EntryQuery
from aggregator.schedule.poll import Poller
from aggregator.schedule.worker import (
    ALERTING_EVERY,
    OUTBOX_EVERY,
    RETENTION_EVERY,
    TICK,
    Worker,
)
from aggregator.store import Store
from tests.feedbuilder import FeedItem, rss
from tests.feedserver import FeedServer, Reply, RequestInfo
from tests.storedata import T0


def city_config(server: FeedServer) -> Config:
    return config_from_text(
        "settings:\n  allow_private_addresses: true\n"
        "categories:\n  kaohsiung:\n    title: 高雄市政新聞\n"
        f"sources:\n  - id: kcg\n    url: {server.url('/kcg.xml')}\n    categories: [kaohsiung]\n"
        "watches:\n  - name: typhoon\n    query: 颱風\n"
        f"    webhook: {server.url('/hook')}\n",
        "feeds.yaml",
    )


@pytest.fixture
def poller(store: Store, feed_server: FeedServer) -> Iterator[Poller]:
    polling = Poller(city_config(feed_server), store, Fetcher(allow_private_addresses=True))
    yield polling
    polling.close()


def test_every_duty_is_a_job_that_runs_alone_and_coalesces(
    store: Store, feed_server: FeedServer, poller: Poller
) -> None:
    scheduler = BackgroundScheduler(timezone=UTC)

    Worker(city_config(feed_server), store, poller, scheduler=scheduler)

    jobs = {
        job.id: (job.trigger.interval, job.max_instances, job.coalesce, job.func.__name__)
        for job in scheduler.get_jobs()
    }
    assert jobs == {
        "poll": (TICK, 1, True, "poll_due"),
        "alerting": (ALERTING_EVERY, 1, True, "check_alerts"),
        "outbox": (OUTBOX_EVERY, 1, True, "deliver_outbox"),
        "retention": (RETENTION_EVERY, 1, True, "remove_expired"),
    }


def test_a_story_matching_a_watch_reaches_its_webhook_through_the_duties(
    store: Store, feed_server: FeedServer, poller: Poller
) -> None:
    feed_server.serve(
        "/kcg.xml",
        rss([FeedItem("颱風警報發布", link="https://kcg.example.gov.tw/news/1", published=T0)]),
    )
    feed_server.handle("/hook", lambda request: Reply(status=204))
    worker = Worker(city_config(feed_server), store, poller)
    worker.check_alerts()  # the watch exists from here on

    worker.poll_due()
    worker.check_alerts()
    worker.deliver_outbox()

    hooks = feed_server.requests_to("/hook")
    assert [json.loads(hook.body)["entry"]["title"] for hook in hooks] == ["颱風警報發布"]


def test_stopping_waits_for_the_running_poll_pass(
    store: Store, feed_server: FeedServer, poller: Poller
) -> None:
    feed = rss([FeedItem("市府新聞", link="https://kcg.example.gov.tw/news/1", published=T0)])
    polled, answer = threading.Event(), threading.Event()

    def slow_site(request: RequestInfo) -> Reply:
        polled.set()
        answer.wait()
        return Reply(feed, headers={"Content-Type": "application/rss+xml"})

    feed_server.handle("/kcg.xml", slow_site)
    worker = Worker(city_config(feed_server), store, poller)
    worker.start()
    assert polled.wait(timeout=60)  # the first pass is inside its fetch
    stopping = threading.Thread(target=worker.stop)
    stopping.start()
    answer.set()
    stopping.join()

    assert [entry.title for entry in store.entries(EntryQuery()).entries] == ["市府新聞"]
