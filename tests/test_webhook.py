"""Webhook delivery: retried with growing waits until the receiver takes it, then never again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from aggregator.alerts.outbox import OutboxSender
from aggregator.alerts.run import scan_watches
from aggregator.alerts.watch import WatchRule
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


def test_a_receiver_failing_twice_gets_the_alert_exactly_once_with_backoff(
    store: Store, feed_server: FeedServer
) -> None:
    calls = 0

    def flaky(request: RequestInfo) -> Reply:
        nonlocal calls
        calls += 1
        return Reply(status=500 if calls <= 2 else 204)

    flaky_receiver = feed_server
    flaky_receiver.handle("/hook", flaky)
    _queue_one_alert(store, flaky_receiver.url("/hook"))
    now = datetime.now(UTC)
    sender = OutboxSender(
        AlertStore(store), AddressPolicy(allow_private=True), first_retry=FIRST_RETRY,
        clock=lambda: now,
    )

    attempted = [sender.deliver_due()]
    for wait in (FIRST_RETRY, 2 * FIRST_RETRY):
        now += wait / 2
        attempted.append(sender.deliver_due())  # not yet due
        now += wait / 2
        attempted.append(sender.deliver_due())
    now += timedelta(days=1)
    attempted.append(sender.deliver_due())  # a duplicate would go out here

    assert attempted == [1, 0, 1, 0, 1, 0]
    received = flaky_receiver.requests_to("/hook")
    assert [r.method for r in received] == ["POST", "POST", "POST"]
    assert received[-1].header("Content-Type") == "application/json; charset=utf-8"
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
    sender = OutboxSender(AlertStore(store), AddressPolicy(), first_retry=FIRST_RETRY)

    sender.deliver_due()

    assert feed_server.connection_count == 0
    with store.reading() as connection:
        row = connection.execute(select(notifications)).one()
    assert "loopback" in row.last_error
    assert row.delivered_at is None
