"""The store's side of watches and alerts: matches, silence episodes, source activity,
claiming from the outbox (`outbox`) and the poll counters, on the `Store`'s connections.

Exactly once: a watch notifies for an entry only when its `watch_matches` row is inserted,
and the notification is queued in the outbox in that same transaction. The
row's primary key (watch, entry) makes a second insert a no-op, whichever worker, re-poll
or restart tries it, and a story that three sources report is one entry. Silence episodes
work the same way: one row per silent source, one notification when it appears.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select, update

from aggregator.models import (
    Arrival,
    CandidateEntry,
    OutboundPost,
    PollStats,
    Silence,
    SourceActivity,
    StoredEntry,
    Watch,
    WatchScan,
)
from aggregator.store import Store, outbox
from aggregator.store.outbox import OutboxMessage
from aggregator.store.pollstats import read_poll_stats
from aggregator.store.rows import insert_ignoring
from aggregator.store.schema import (
    entries,
    entry_categories,
    reports,
    silence_episodes,
    sources,
    watch_matches,
    watch_scans,
)
from aggregator.store.version import bump_version

# New entries are looked at again for this long after their first-seen time: a poll's
# transaction commits after that time, up to a lease later, and may have missed a scan.
SCAN_OVERLAP = timedelta(minutes=10)
JSON = "application/json; charset=utf-8"


class AlertStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    # --- watches -------------------------------------------------------------------

    def watch_scan(self, names: Sequence[str], now: datetime) -> WatchScan:
        """What the watches `names` look at now: the entries that arrived since each last
        looked (a watch never seen before looks from `now`, so that adding a watch does
        not alert on the whole archive)."""
        with self._store.reading() as connection:
            since = _scan_since(connection, names, now)
            start = min(since.values(), default=now)
            return WatchScan(since, tuple(_candidates(connection, start)))

    def record_watch_scan(
        self, watches: Sequence[Watch], matched: Mapping[str, Sequence[int]], now: datetime
    ) -> int:
        """Record each watch's new matches (entry ids) and queue their webhooks, and that
        the watches looked up to `now`. Returns how many matches were new: a match
        recorded before (another worker, a re-poll, a restart) is neither recorded nor
        notified again."""
        names = [watch.name for watch in watches]
        with self._store.writing() as connection:
            for name in names:
                insert_ignoring(
                    connection,
                    watch_scans,
                    {"watch": name, "active_since": now, "scanned_until": now},
                )
            recorded_count = 0
            for watch in watches:
                recorded = [
                    entry_id
                    for entry_id in matched.get(watch.name, ())
                    if insert_ignoring(
                        connection,
                        watch_matches,
                        {"watch": watch.name, "entry_id": entry_id, "matched_at": now},
                    )
                ]
                recorded_count += len(recorded)
                if watch.webhook and recorded:
                    for entry in self._store.entries_by_id(connection, recorded):
                        outbox.enqueue(
                            connection,
                            f"watch:{watch.name}:{entry.id}",
                            _json_post(watch.webhook, watch_payload(watch.name, entry)),
                            now,
                        )
            if recorded_count:
                bump_version(connection)  # the watches' feeds are cached on it
            connection.execute(
                update(watch_scans).where(watch_scans.c.watch.in_(names)).values(scanned_until=now)
            )
            return recorded_count

    def watch_entries(self, name: str, limit: int) -> list[StoredEntry]:
        """The entries that fired watch `name`, most recently matched first."""
        with self._store.reading() as connection:
            ids = connection.scalars(
                select(watch_matches.c.entry_id)
                .where(watch_matches.c.watch == name)
                .order_by(watch_matches.c.matched_at.desc(), watch_matches.c.entry_id.desc())
                .limit(limit)
            ).all()
            return self._store.entries_by_id(connection, ids)

    # --- sources: activity and silence ------------------------------------------

    def activities(self, since: datetime) -> dict[str, SourceActivity]:
        """Every (not removed) source's arrivals since `since`."""
        with self._store.reading() as connection:
            arrivals: dict[str, list[Arrival]] = defaultdict(list)
            for row in connection.execute(
                select(reports.c.source_id, reports.c.first_seen, func.count())
                .where(reports.c.first_seen >= since)
                .group_by(reports.c.source_id, reports.c.first_seen)
                .order_by(reports.c.source_id, reports.c.first_seen)
            ):
                arrivals[row.source_id].append(Arrival(row.first_seen, int(row[2])))
            last_arrival = _pairs(
                connection.execute(
                    select(reports.c.source_id, func.max(reports.c.first_seen)).group_by(
                        reports.c.source_id
                    )
                )
            )
            return {
                row.id: SourceActivity(
                    source_id=row.id,
                    arrivals=tuple(arrivals.get(row.id, ())),
                    last_arrival=last_arrival.get(row.id),
                    last_success=row.last_success,
                    last_error=row.last_error,
                )
                for row in connection.execute(
                    select(sources.c.id, sources.c.last_success, sources.c.last_error).where(
                        ~sources.c.removed
                    )
                )
            }

    def record_silences(
        self,
        verdicts: Mapping[str, Silence],
        webhooks: Mapping[str, Sequence[str]],
        now: datetime,
    ) -> list[str]:
        """Open an episode for each newly silent source (queueing one call to each of its
        `webhooks`) and close those of sources that spoke again. Returns the newly silent
        sources."""
        newly_silent: list[str] = []
        with self._store.writing() as connection:
            for source_id, verdict in sorted(verdicts.items()):
                if not verdict.silent:
                    connection.execute(
                        delete(silence_episodes).where(silence_episodes.c.source_id == source_id)
                    )
                    continue
                values = {
                    "source_id": source_id,
                    "reason": verdict.reason,
                    "since": verdict.since,
                    "flagged_at": now,
                }
                if not insert_ignoring(connection, silence_episodes, values):
                    continue
                newly_silent.append(source_id)
                for webhook in webhooks.get(source_id, ()):
                    outbox.enqueue(
                        connection,
                        f"silence:{source_id}:{now.isoformat()}:{webhook}",
                        _json_post(webhook, silence_payload(source_id, verdict)),
                        now,
                    )
        return newly_silent

    # --- the outbox ------------------------------------------------------------------

    def claim_outbox(self, now: datetime, lease: timedelta, limit: int) -> list[OutboxMessage]:
        """Up to `limit` messages due now, for one sender (see `outbox.claim`)."""
        with self._store.writing() as connection:
            return outbox.claim(connection, now, lease, limit)

    def settle_outbox(
        self, message_id: int, now: datetime, error: str | None, retry_at: datetime | None
    ) -> None:
        """Record an attempt: delivered (no error), to retry at `retry_at`, or given up."""
        with self._store.writing() as connection:
            outbox.settle(connection, message_id, now, error, retry_at)

    def remove_settled_outbox(self, cutoff: datetime) -> int:
        """Remove the delivered and given-up messages queued before `cutoff`."""
        with self._store.writing() as connection:
            return outbox.remove_settled_before(connection, cutoff)

    # --- metrics ---------------------------------------------------------------------

    def poll_stats(self) -> PollStats:
        with self._store.reading() as connection:
            return read_poll_stats(connection)


def watch_payload(watch: str, entry: StoredEntry) -> dict[str, Any]:
    return {
        "kind": "watch",
        "watch": watch,
        "entry": {
            "id": entry.id,
            "title": entry.title,
            "link": entry.link,
            "published": entry.published.isoformat(),
            "sources": [report.source_id for report in entry.reports],
        },
    }


def silence_payload(source_id: str, verdict: Silence) -> dict[str, Any]:
    return {
        "kind": "silence",
        "source": source_id,
        "reason": verdict.reason,
        "since": verdict.since.isoformat() if verdict.since else None,
        "usual_gap_hours": _hours(verdict.usual_gap),
    }


def _json_post(url: str, payload: Mapping[str, Any]) -> OutboundPost:
    return OutboundPost(url, json.dumps(payload, ensure_ascii=False), JSON)


def _hours(gap: timedelta | None) -> float | None:
    return None if gap is None else round(gap.total_seconds() / 3600, 1)


def _scan_since(connection: Connection, names: Sequence[str], now: datetime) -> dict[str, datetime]:
    """Since when each watch looks at entries: a little before its last scan (see
    SCAN_OVERLAP), never before it existed; `now` for a watch never scanned."""
    scanned = {
        row.watch: max(row.active_since, row.scanned_until - SCAN_OVERLAP)
        for row in connection.execute(
            select(watch_scans.c.watch, watch_scans.c.active_since, watch_scans.c.scanned_until)
            .where(watch_scans.c.watch.in_(names))
        )
    }
    return {name: scanned.get(name, now) for name in names}


def _candidates(connection: Connection, start: datetime) -> list[CandidateEntry]:
    """The entries first seen since `start`."""
    rows = connection.execute(
        select(
            entries.c.id,
            entries.c.title,
            entries.c.content,
            entries.c.published,
            entries.c.first_seen,
        )
        .where(entries.c.first_seen >= start)
        .order_by(entries.c.id)
    ).all()
    ids = [row.id for row in rows]
    categories: dict[int, set[str]] = defaultdict(set)
    reporters: dict[int, set[str]] = defaultdict(set)
    contents: dict[int, list[str]] = defaultdict(list)
    if ids:
        for entry_id, category in connection.execute(
            select(entry_categories.c.entry_id, entry_categories.c.category).where(
                entry_categories.c.entry_id.in_(ids)
            )
        ):
            categories[entry_id].add(category)
        for entry_id, source_id, content, summary in connection.execute(
            select(reports.c.entry_id, reports.c.source_id, reports.c.content, reports.c.summary)
            .where(reports.c.entry_id.in_(ids))
            .order_by(reports.c.id)
        ):
            reporters[entry_id].add(source_id)
            contents[entry_id].append(content or summary)
    return [
        CandidateEntry(
            row.id,
            row.title,
            (row.content, *contents[row.id]),
            row.published,
            row.first_seen,
            frozenset(categories[row.id]),
            frozenset(reporters[row.id]),
        )
        for row in rows
    ]


def _pairs(rows: Iterable[Row[Any, Any]]) -> dict[Any, Any]:
    """A two-column result as a mapping of the first column to the second."""
    return {row[0]: row[1] for row in rows}
