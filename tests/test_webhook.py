"""Webhook delivery: retried with growing waits until the receiver takes it, then never again."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from aggregator.alerts.run import scan_watches
from aggregator.alerts.watch import WatchRule
from aggregator.alerts.webhook import WebhookSender
from aggregator.fetch.netpolicy import AddressPolicy
from aggregator.fetch.outbound import backoff
from aggregator.models import Watch
from aggregator.store import Store
from aggregator.store.alerts import AlertStore
from aggregator.store.schema import notifications
from tests.feedserver import FeedServer, Reply, RequestInfo
from tests.storedata import outcome, report, source

FIRST_RETRY = timedelta(seconds=0.2)


def _queue_one_alert(store: Store, hook_url: str) -> None:
    """A watch with this webhook, and a new entry that matches it."""
    now = datetime.now(UTC)
    store.sync_sources([source("kcg")], now)
    rules = [WatchRule.of(Watch(name="typhoon", query="颱風", webhook=hook_url))]
    alerts = AlertStore(store)
    scan_watches(alerts, rules, now)
    story = report("kcg", "typhoon", title="颱風警報發布", link="https://kcg.example/typhoon")
    store.apply_poll(outcome("kcg", [story], attempted_at=now))
    scan_watches(alerts, rules, now)


def _wait_until_settled(store: Store, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with store.reading() as connection:
            if connection.scalar(select(notifications.c.next_attempt)) is None:
                return
        time.sleep(0.05)
    raise AssertionError("the notification was not settled in time")


def test_a_receiver_failing_twice_gets_the_alert_exactly_once_with_backoff(
    store: Store, feed_server: FeedServer
) -> None:
    calls: list[float] = []

    def flaky(request: RequestInfo) -> Reply:
        calls.append(time.monotonic())
        return Reply(status=500 if len(calls) <= 2 else 204)

    flaky_receiver = feed_server
    flaky_receiver.handle("/hook", flaky)
    _queue_one_alert(store, flaky_receiver.url("/hook"))
    sender = WebhookSender(
        AlertStore(store), AddressPolicy(allow_private=True), first_retry=FIRST_RETRY
    )
    sender.start()
    try:
        _wait_until_settled(store)
        time.sleep(0.5)  # a duplicate would arrive within this
    finally:
        sender.stop()

    received = flaky_receiver.requests_to("/hook")
    assert [r.method for r in received] == ["POST", "POST", "POST"]
    first_wait, second_wait = calls[1] - calls[0], calls[2] - calls[1]
    assert first_wait >= FIRST_RETRY.total_seconds()
    assert second_wait >= 2 * FIRST_RETRY.total_seconds()
    payload = json.loads(received[-1].body)
    assert payload["watch"] == "typhoon"
    assert payload["entry"]["title"] == "颱風警報發布"
    assert payload["entry"]["link"] == "https://kcg.example/typhoon"
    assert payload["entry"]["sources"] == ["kcg"]
    with store.reading() as connection:
        row = connection.execute(select(notifications)).one()
    assert (row.attempts, row.last_error, row.delivered_at is not None) == (3, None, True)


def test_retries_wait_longer_each_time() -> None:
    waits = [backoff(attempt, FIRST_RETRY) for attempt in (1, 2, 3)]

    assert waits == [FIRST_RETRY, 2 * FIRST_RETRY, 4 * FIRST_RETRY]


def test_a_webhook_to_a_private_address_is_refused_without_connecting(
    store: Store, feed_server: FeedServer
) -> None:
    feed_server.handle("/hook", lambda request: Reply(status=204))
    _queue_one_alert(store, feed_server.url("/hook"))
    sender = WebhookSender(AlertStore(store), AddressPolicy(), first_retry=FIRST_RETRY)

    sender.deliver_due()

    assert feed_server.connection_count == 0
    with store.reading() as connection:
        row = connection.execute(select(notifications)).one()
    assert "loopback" in row.last_error
    assert row.delivered_at is None
