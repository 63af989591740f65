"""Retention: entries older than `retention_days` leave the store, with everything of theirs;
a source removed from feeds.yaml stops being polled and its entries wait for retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from aggregator.alerts.outbox import OutboxSender
from aggregator.fetch.netpolicy import AddressPolicy
from aggregator.models import EntryQuery, OutboundPost
from aggregator.schedule.retention import (
    BATCH,
    OUTBOX_KEEP,
    remove_expired,
    remove_settled_messages,
)
from aggregator.search.query import parse_query
from aggregator.store import Store
from aggregator.store.alerts import JSON, AlertStore
from aggregator.store.outbox import enqueue
from aggregator.store.schema import notifications
from aggregator.store.search_sql import search_entries
from tests.feedserver import FeedServer, Reply
from tests.storedata import T0, outcome, report, source

RETENTION_DAYS = 30
NOW = T0 + timedelta(days=RETENTION_DAYS)
OLD = T0 - timedelta(days=1)
RECENT = NOW - timedelta(days=1)


def titles(store: Store, **filters: str) -> set[str]:
    return {entry.title for entry in store.entries(EntryQuery(limit=5000, **filters)).entries}


def found_by_search(store: Store, text: str) -> int:
    with store.reading() as connection:
        return len(search_entries(connection, parse_query(text), limit=100).entry_ids)


def write(store: Store, source_id: str, *reports: tuple[str, datetime]) -> None:
    """Reports as (title, when): published then, and first seen then."""
    for title, when in reports:
        store.apply_poll(
            outcome(
                source_id,
                new=[report(source_id, title, title=title, published=when)],
                attempted_at=when,
            )
        )


def test_entries_older_than_the_retention_go(store: Store) -> None:
    store.sync_sources([source("city")], T0)
    write(store, "city", ("舊聞颱風", OLD), ("新聞地震", RECENT))

    removed = remove_expired(store, RETENTION_DAYS, NOW)

    assert (removed, titles(store)) == (1, {"新聞地震"})


def test_removed_entries_leave_their_category_and_source_pages(store: Store) -> None:
    store.sync_sources([source("city", categories=("news", "weather"))], T0)
    write(store, "city", ("舊聞颱風", OLD))

    remove_expired(store, RETENTION_DAYS, NOW)

    assert titles(store, category="weather") | titles(store, source="city") == set()


def test_removed_entries_are_not_found_by_search(store: Store) -> None:
    store.sync_sources([source("city")], T0)
    write(store, "city", ("舊聞颱風", OLD), ("颱風新聞", RECENT))

    remove_expired(store, RETENTION_DAYS, NOW)

    assert found_by_search(store, "颱風") == 1


def test_an_old_story_first_seen_recently_stays(store: Store) -> None:
    # A feed may carry an old date on a story it just published: retention counts from
    # when the story reached us, too, so it is not removed on the day it arrives.
    store.sync_sources([source("city")], T0)
    store.apply_poll(
        outcome("city", new=[report("city", "late", title="遲到的舊聞", published=OLD)],
                attempted_at=RECENT)
    )

    assert (remove_expired(store, RETENTION_DAYS, NOW), titles(store)) == (0, {"遲到的舊聞"})


def test_more_entries_than_one_batch_all_go(store: Store) -> None:
    store.sync_sources([source("city")], T0)
    count = BATCH * 2 + 7
    store.apply_poll(
        outcome("city", new=[report("city", f"n{n}", published=OLD) for n in range(count)],
                attempted_at=OLD)
    )

    assert (remove_expired(store, RETENTION_DAYS, NOW), titles(store)) == (count, set())


def test_removing_entries_changes_the_store_version(store: Store) -> None:
    # Cached feeds key on the version: they must not keep serving removed entries.
    store.sync_sources([source("city")], T0)
    write(store, "city", ("舊聞颱風", OLD))
    version = store.version()

    remove_expired(store, RETENTION_DAYS, NOW)

    assert store.version() > version


def test_a_source_removed_from_the_configuration_is_no_longer_polled(store: Store) -> None:
    store.sync_sources([source("city"), source("gone")], T0)

    store.sync_sources([source("city")], NOW)

    claimed = store.claim_due("worker", NOW, timedelta(minutes=5), limit=10)
    assert [state.source_id for state in claimed] == ["city"]


def test_a_removed_sources_entries_stay_until_retention_removes_them(store: Store) -> None:
    store.sync_sources([source("city"), source("gone")], T0)
    write(store, "gone", ("舊聞", OLD), ("近聞", RECENT))
    store.sync_sources([source("city")], NOW)
    kept = titles(store)

    remove_expired(store, RETENTION_DAYS, NOW)

    assert (kept, titles(store)) == ({"舊聞", "近聞"}, {"近聞"})


def test_delivered_messages_leave_the_outbox_after_a_week_and_retried_ones_stay(
    store: Store, feed_server: FeedServer
) -> None:
    feed_server.handle("/took-it", lambda request: Reply(status=204))
    feed_server.handle("/down", lambda request: Reply(status=503))
    with store.writing() as connection:
        for path in ("/took-it", "/down"):
            enqueue(connection, path, OutboundPost(feed_server.url(path), "{}", JSON), T0)
    sender = OutboxSender(AlertStore(store), AddressPolicy(allow_private=True), clock=lambda: T0)
    sender.deliver_due()

    within_a_week = remove_settled_messages(store, T0 + OUTBOX_KEEP - timedelta(hours=1))
    after_a_week = remove_settled_messages(store, T0 + OUTBOX_KEEP + timedelta(hours=1))

    with store.reading() as connection:
        left = connection.scalars(select(notifications.c.url)).all()
    assert (within_a_week, after_a_week, left) == (0, 1, [feed_server.url("/down")])
