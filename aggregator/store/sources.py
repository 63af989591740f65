"""Sources in the store: mirroring feeds.yaml, what is due, leases across workers, health."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Select, and_, bindparam, func, insert, or_, select, update

from aggregator.models import (
    KnownReport,
    PollOutcome,
    Source,
    SourceHealth,
    SourceState,
    SourceStatus,
    Validators,
)
from aggregator.store.categories import rewrite_entry_categories
from aggregator.store.engine import CLAIM_LOCK, Database, serialise
from aggregator.store.errors import StoreError
from aggregator.store.rows import AnyRow
from aggregator.store.schema import reports, sources
from aggregator.store.version import bump_version
from aggregator.text.chars import strip_control_chars

MAX_ERROR = 2_000  # characters of last_error

# At most this many sources of one host are leased at once, across every worker: the
# fetcher's own per-host limit, kept across processes.
PER_HOST_LEASES = 2


def sync_sources(db: Database, configured: Sequence[Source], now: datetime) -> None:
    """Mirror the configuration: upsert each source, mark absent ones removed."""
    with db.writing() as connection:
        # Workers starting together must not both insert a new source.
        serialise(connection, CLAIM_LOCK)
        known = {
            row.id: json.loads(row.categories)
            for row in connection.execute(select(sources.c.id, sources.c.categories))
        }
        fresh = [s for s in configured if s.id not in known]
        if fresh:
            connection.execute(
                insert(sources),
                [{"id": s.id} | _config_values(s) | _new_source_state(now) for s in fresh],
            )
        kept = [s for s in configured if s.id in known]
        if kept:
            connection.execute(
                update(sources)
                .where(sources.c.id == bindparam("b_id"))
                .values({name: bindparam(f"b_{name}") for name in _config_values(kept[0])}),
                [
                    {f"b_{name}": value for name, value in _config_values(s).items()}
                    | {"b_id": s.id}
                    for s in kept
                ],
            )
        connection.execute(
            update(sources)
            .where(sources.c.id.not_in([s.id for s in configured]), ~sources.c.removed)
            .values(removed=True)
        )
        recategorised = [s.id for s in kept if list(s.categories) != known[s.id]]
        if recategorised:
            entry_ids = connection.scalars(
                select(reports.c.entry_id).distinct().where(reports.c.source_id.in_(recategorised))
            ).all()
            rewrite_entry_categories(connection, entry_ids)
            bump_version(connection)


def due_sources(db: Database, now: datetime, *, include_not_due: bool) -> list[SourceState]:
    """Enabled, not removed sources due by `now` (every one of them with include_not_due)."""
    condition = _pollable() if include_not_due else _due(now)
    with db.reading() as connection:
        rows = connection.execute(
            _state_columns().where(condition).order_by(sources.c.next_poll, sources.c.id)
        )
        return [_source_state(row) for row in rows]


def claim_due(
    db: Database, worker: str, now: datetime, lease: timedelta, limit: int, per_host: int
) -> list[SourceState]:
    """Lease up to `limit` due sources to `worker`; a source leased to another is skipped
    until its lease expires, and no host gets more than `per_host` live leases across all
    workers. Several workers may claim at once without overlap."""
    with db.writing() as connection:
        # Counting a host's leases and adding to them must not interleave between
        # claimers: PostgreSQL serialises claims on a lock (a claim takes milliseconds);
        # SQLite's BEGIN IMMEDIATE already does.
        serialise(connection, CLAIM_LOCK)
        ids = connection.scalars(_claimable(now, limit, per_host)).all()
        if not ids:
            return []
        connection.execute(
            update(sources)
            .where(sources.c.id.in_(ids))
            .values(lease_owner=worker, lease_until=now + lease)
        )
        rows = connection.execute(
            _state_columns()
            .where(sources.c.id.in_(ids))
            .order_by(sources.c.next_poll, sources.c.id)
        )
        return [_source_state(row) for row in rows]


def known_reports(db: Database, source_id: str) -> dict[str, KnownReport]:
    with db.reading() as connection:
        rows = connection.execute(
            select(reports.c.identity, reports.c.content_hash, reports.c.published).where(
                reports.c.source_id == source_id
            )
        )
        return {
            row.identity: KnownReport(row.identity, row.content_hash, row.published) for row in rows
        }


def source_health(db: Database) -> list[SourceHealth]:
    """Every configured (not removed) source, with how its polls have gone."""
    with db.reading() as connection:
        rows = connection.execute(select(sources).where(~sources.c.removed).order_by(sources.c.id))
        return [_source_health(row) for row in rows]


def stored_error(outcome: PollOutcome) -> str | None:
    """A failed poll's reason as the store keeps it (the source's last error, its history).
    Written by many hands (fetch, parse, the poller's guard) and often quoting what a server
    sent: no message may make PostgreSQL refuse the poll (NUL) or be unbounded."""
    if outcome.status != "failed":
        return None
    return strip_control_chars(outcome.error or "the poll failed for an unknown reason")[
        :MAX_ERROR
    ]


def record_health(connection: Connection, outcome: PollOutcome) -> None:
    """Write how a poll went, when the source is next due, and release its lease; a
    source the store does not hold is a StoreError."""
    values: dict[str, Any] = {
        "last_attempt": outcome.attempted_at,
        "last_http_status": outcome.http_status,
        "next_poll": outcome.next_poll,
        "lease_owner": None,
        "lease_until": None,
    }
    if outcome.status == "failed":
        values["failures"] = sources.c.failures + 1
        values["last_error"] = stored_error(outcome)
    else:
        values |= {"last_success": outcome.attempted_at, "failures": 0, "last_error": None}
    # Only what this response told us replaces what an earlier one did.
    given = {
        "etag": outcome.validators.etag,
        "last_modified": outcome.validators.last_modified,
        "body_hash": outcome.body_hash,
        "feed_title": outcome.feed_title,
        "feed_link": outcome.feed_link,
    }
    plan = outcome.plan
    if plan is not None:
        values["notes"] = "\n".join(plan.notes) or None
        if plan.deferred:
            # Entries wait for the next poll: it must fetch and parse this body again.
            for name in ("etag", "last_modified", "body_hash"):
                given[name] = None
    values |= {name: value for name, value in given.items() if value is not None}
    written = connection.execute(
        update(sources).where(sources.c.id == outcome.source_id).values(values)
    )
    if written.rowcount == 0:
        raise StoreError(f"source {outcome.source_id!r} is not in the store: sync_sources first")


def source_host(url: str) -> str:
    """The host name a source is fetched from, as the fetcher's per-host limit sees it."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _config_values(source: Source) -> dict[str, Any]:
    return {
        "url": source.url,
        "host": source_host(source.url),
        "title": source.title,
        "categories": json.dumps(list(source.categories), ensure_ascii=False),
        "interval_s": int(source.interval.total_seconds()),
        "priority": source.priority,
        "enabled": source.enabled,
        "removed": False,
    }


def _new_source_state(now: datetime) -> dict[str, Any]:
    return {"failures": 0, "entries": 0, "next_poll": now}


def _pollable() -> Any:
    return and_(sources.c.enabled, ~sources.c.removed)


def _due(now: datetime) -> Any:
    return and_(_pollable(), or_(sources.c.next_poll.is_(None), sources.c.next_poll <= now))


def _claimable(now: datetime, limit: int, per_host: int) -> Select[Any]:
    """The ids of up to `limit` due, unleased sources, oldest due first, taking from each
    host only as many as its live leases leave room for."""
    live = or_(sources.c.lease_until.is_(None), sources.c.lease_until <= now)
    host = func.coalesce(sources.c.host, "")
    leased = (
        select(host.label("host"), func.count().label("leases"))
        .where(~live)
        .group_by(host)
        .subquery("leased")
    )
    ranked = (
        select(
            sources.c.id,
            sources.c.next_poll,
            host.label("host"),
            func.row_number()
            .over(partition_by=host, order_by=(sources.c.next_poll, sources.c.id))
            .label("rank"),
        )
        .where(_due(now), live)
        .subquery("ranked")
    )
    return (
        select(ranked.c.id)
        .outerjoin(leased, leased.c.host == ranked.c.host)
        .where(ranked.c.rank <= per_host - func.coalesce(leased.c.leases, 0))
        .order_by(ranked.c.next_poll, ranked.c.id)
        .limit(limit)
    )


def _state_columns() -> Select[Any]:
    return select(
        sources.c.id,
        sources.c.etag,
        sources.c.last_modified,
        sources.c.body_hash,
        sources.c.failures,
        sources.c.next_poll,
    )


def _source_state(row: AnyRow) -> SourceState:
    return SourceState(
        source_id=row.id,
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
        body_hash=row.body_hash,
        failures=row.failures,
        next_poll=row.next_poll,
    )


def _source_health(row: AnyRow) -> SourceHealth:
    status: SourceStatus
    if row.last_attempt is None:
        status = "never"
    elif row.failures > 0:
        status = "failing"
    else:
        status = "ok"
    return SourceHealth(
        id=row.id,
        title=str(row.title or row.feed_title or row.id),
        url=row.url,
        categories=tuple(json.loads(row.categories)),
        status=status,
        last_attempt=row.last_attempt,
        last_success=row.last_success,
        last_error=row.last_error,
        failures=row.failures,
        entries=row.entries,
        next_poll=row.next_poll,
        notes=tuple(row.notes.splitlines()) if row.notes else (),
    )
