"""The outbox: POSTs to deliver (watch and silence webhooks, WebSub pings), each queued in
the transaction that decided it, so a crash or restart loses none, and claimed by one
sender at a time (`alerts.outbox`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, exists, select, update

from aggregator.models import OutboundPost, PollOutcome
from aggregator.store.rows import chunks, insert_ignoring
from aggregator.store.schema import entry_categories, notifications, reports


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    post: OutboundPost
    attempts: int  # made before this one


def enqueue(connection: Connection, key: str, post: OutboundPost, now: datetime) -> None:
    """Queue `post`, due now, unless a message with `key` was queued before."""
    insert_ignoring(
        connection,
        notifications,
        {
            "dedupe_key": key,
            "url": post.url,
            "payload": post.body,
            "content_type": post.content_type,
            "created_at": now,
            "attempts": 0,
            "next_attempt": now,
        },
    )


def queue_feed_pings(connection: Connection, outcome: PollOutcome) -> None:
    """Queue the WebSub pings of every feed that the poll's new and changed reports show
    in: `all`, and the categories of the entries they belong to."""
    plan = outcome.plan
    if outcome.pings is None or plan is None:
        return
    identities = [report.identity for report in (*plan.new, *plan.changed)]
    categories: set[str] = set()
    for chunk in chunks(identities):
        categories.update(
            connection.scalars(
                select(entry_categories.c.category)
                .join(reports, reports.c.entry_id == entry_categories.c.entry_id)
                .where(reports.c.source_id == outcome.source_id, reports.c.identity.in_(chunk))
                .distinct()
            )
        )
    pings = outcome.pings
    posts = [*pings.all_feed]
    for category in sorted(categories):
        posts.extend(pings.by_category.get(category, ()))
    now = outcome.attempted_at
    for post in posts:
        if not _waiting(connection, post, now):
            # A ping has no natural key: the waiting check is what keeps them few.
            enqueue(connection, f"websub:{uuid.uuid4().hex}", post, now)


def _waiting(connection: Connection, post: OutboundPost, now: datetime) -> bool:
    """Whether the same POST is queued and not yet taken by a sender: the hub fetches the
    feed when it gets the ping, so one ping covers every change made before it is sent.
    A claimed message's next attempt lies a lease ahead, so a change made while it is in
    flight gets a ping of its own."""
    waiting = (
        exists()
        .where(
            notifications.c.next_attempt <= now,
            notifications.c.url == post.url,
            notifications.c.payload == post.body,
        )
        .select()
    )
    return bool(connection.scalar(waiting))


def claim(
    connection: Connection, now: datetime, lease: timedelta, limit: int
) -> list[OutboxMessage]:
    """Up to `limit` messages due now, hidden from other senders for `lease` (a sender that
    dies mid-delivery leaves them to be retried after it)."""
    rows = connection.execute(
        select(
            notifications.c.id,
            notifications.c.url,
            notifications.c.payload,
            notifications.c.content_type,
            notifications.c.attempts,
        )
        .where(notifications.c.next_attempt <= now)
        .order_by(notifications.c.next_attempt, notifications.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if rows:
        connection.execute(
            update(notifications)
            .where(notifications.c.id.in_([row.id for row in rows]))
            .values(next_attempt=now + lease)
        )
    return [
        OutboxMessage(row.id, OutboundPost(row.url, row.payload, row.content_type), row.attempts)
        for row in rows
    ]


def settle(
    connection: Connection,
    message_id: int,
    now: datetime,
    error: str | None,
    retry_at: datetime | None,
) -> None:
    """Record an attempt: delivered (no error), to retry at `retry_at`, or given up."""
    values: Mapping[str, Any] = {
        "attempts": notifications.c.attempts + 1,
        "last_error": error,
        "next_attempt": retry_at if error else None,
        "delivered_at": now if error is None else None,
    }
    connection.execute(
        update(notifications).where(notifications.c.id == message_id).values(dict(values))
    )


def remove_settled_before(connection: Connection, cutoff: datetime) -> int:
    """Remove the messages queued before `cutoff` that were delivered or given up; how
    many went."""
    removed = connection.execute(
        delete(notifications).where(
            notifications.c.next_attempt.is_(None), notifications.c.created_at < cutoff
        )
    )
    return removed.rowcount
