"""Webhook delivery: retried with growing waits until the receiver takes it, then never again."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from aggregator.alerts.outbox import CLAIM_LEASE, OutboxSender
from aggregator.alerts.run import scan_watches
from aggregator.alerts.watch import WatchRule
from aggregator.fetch.netpolicy import AddressPolicy
from aggregator.fetch.outbound import backoff
from aggregator.models import OutboundPost, Watch
from aggregator.store import Store
from aggregator.store.alerts import AlertStore
from aggregator.store.outbox import enqueue
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


def _queue_posts(store: Store, urls: list[str]) -> None:
    now = datetime.now(UTC)
    with store.writing() as connection:
        for n, url in enumerate(urls):
            post = OutboundPost(url, json.dumps({"n": n}), "application/json; charset=utf-8")
            enqueue(connection, f"test-{n}", post, now)


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_deadline(
    store: Store, feed_server: FeedServer
) -> None:
    feed_server.handle("/hook", lambda request: Reply(body=[b"o", b"k"] * 50, chunk_delay=0.5))
    _queue_posts(store, [feed_server.url("/hook")])
    sender = OutboxSender(AlertStore(store), AddressPolicy(allow_private=True), timeout=1.0)

    assert sender.deliver_due() == 1

    with store.reading() as connection:
        row = connection.execute(select(notifications)).one()
    assert row.last_error == "the receiver 127.0.0.1 did not answer within 1 s"
    assert row.delivered_at is None


def test_a_stop_request_is_honoured_between_deliveries(
    store: Store, feed_server: FeedServer
) -> None:
    stopping = threading.Event()

    def receive_then_stop(request: RequestInfo) -> Reply:
        stopping.set()  # SIGTERM arrives during the first delivery
        return Reply(status=204)

    feed_server.handle("/hook", receive_then_stop)
    _queue_posts(store, [feed_server.url("/hook")] * 3)
    sender = OutboxSender(AlertStore(store), AddressPolicy(allow_private=True), stopping=stopping)

    assert sender.deliver_due() == 1
    assert len(feed_server.requests_to("/hook")) == 1


def test_messages_waiting_in_a_round_stay_free_for_other_senders(
    store: Store, feed_server: FeedServer
) -> None:
    taken_by_other: list[int] = []

    def receive(request: RequestInfo) -> Reply:
        if not taken_by_other:  # another worker's sender looks while this delivery runs
            claimed = AlertStore(store).claim_outbox(datetime.now(UTC), CLAIM_LEASE, 20)
            taken_by_other.extend(message.id for message in claimed)
        return Reply(status=204)

    feed_server.handle("/hook", receive)
    _queue_posts(store, [feed_server.url("/hook")] * 3)
    sender = OutboxSender(AlertStore(store), AddressPolicy(allow_private=True))

    assert sender.deliver_due() == 1  # the other sender holds the rest
    assert len(taken_by_other) == 2
    assert len(feed_server.requests_to("/hook")) == 1


def test_a_deadline_as_long_as_the_claim_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="shorter than its claim"):
        OutboxSender(
            AlertStore(store), AddressPolicy(), timeout=CLAIM_LEASE.total_seconds()
        )
