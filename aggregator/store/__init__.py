"""The store: the only package that talks to the database (SQLAlchemy Core, SQLite or PostgreSQL).

`Store` is the facade the rest of the service calls; each concern lives in its own module:

- `engine`: engine settings, reading and writing transactions, writers' locks
- `sources`: mirroring feeds.yaml (`sync_sources`), what is due, leases (`claim_due`), health
- `write`: `apply_polls`, polls in batches: one transaction a batch, one savepoint a poll
- `attempts`: each source's last polls, and a staff "poll now"
- `merge`: near-duplicate merging (band index, candidates) and the staff overrides' SQL
- `shown`, `categories`: which report an entry shows, which categories it is filed under
- `read`: pages of the river of news behind an opaque keyset cursor, entries, search
- `staff`: the staff view of an entry, split and force-merge
- `retention`: removing old entries
- `version`: the counter web caches key on
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select

from aggregator.dedupe import MergeExplanation
from aggregator.models import (
    EntryPage,
    EntryQuery,
    KnownReport,
    PollAttempt,
    PollOutcome,
    Source,
    SourceHealth,
    SourceState,
    StaffEntry,
    StoredEntry,
    Story,
    WriteCounts,
)
from aggregator.search.query import SearchQuery
from aggregator.store import attempts, merge, migrate, read, retention, sources, staff
from aggregator.store.engine import Database, make_engine
from aggregator.store.errors import StoreError, StoreUnavailable
from aggregator.store.read import decode_cursor, encode_cursor
from aggregator.store.search_sql import Order
from aggregator.store.sources import PER_HOST_LEASES, source_host
from aggregator.store.version import read_version
from aggregator.store.write import PollWriter

__all__ = [
    "PER_HOST_LEASES",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "decode_cursor",
    "encode_cursor",
    "make_engine",
    "open_store",
    "source_host",
]


def open_store(url: str) -> Store:
    """An open store on `url`. Does not migrate: run `migrate.upgrade(url)` first."""
    return Store(url, make_engine(url))


class Store:
    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.dialect: str = engine.dialect.name
        self._db = Database(url, engine)
        self._polls = PollWriter(self._db)

    # --- connections ---------------------------------------------------------

    def reading(self) -> AbstractContextManager[Connection]:
        """A connection for the store's companion modules (alerts, metrics) to read with."""
        return self._db.reading()

    def writing(self) -> AbstractContextManager[Connection]:
        """A writing transaction for the store's companion modules (alerts)."""
        return self._db.writing()

    def entries_by_id(self, connection: Connection, entry_ids: Sequence[int]) -> list[StoredEntry]:
        """The entries with these ids, in this order (ids no longer stored are left out)."""
        return read.entries_by_id(connection, entry_ids)

    def ping(self) -> None:
        with self._db.reading() as connection:
            connection.execute(select(1))

    def schema_is_current(self) -> bool:
        """Whether every migration of this code is applied (and none unknown to it);
        raises StoreUnavailable, as `ping` does, when the database does not answer."""
        with self._db.reading() as connection:
            return migrate.schema_is_current(connection)

    def close(self) -> None:
        self._db.dispose()

    # --- sources -------------------------------------------------------------

    def sync_sources(self, configured: Sequence[Source], now: datetime) -> None:
        """Mirror the configuration: upsert each source, mark absent ones removed."""
        sources.sync_sources(self._db, configured, now)

    def due_sources(self, now: datetime, *, include_not_due: bool = False) -> list[SourceState]:
        """Enabled, not removed sources due by `now` (every one of them with include_not_due)."""
        return sources.due_sources(self._db, now, include_not_due=include_not_due)

    def claim_due(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        *,
        per_host: int = PER_HOST_LEASES,
    ) -> list[SourceState]:
        """Lease up to `limit` due sources to `worker` (see `sources.claim_due`)."""
        return sources.claim_due(self._db, worker, now, lease, limit, per_host)

    def known_reports(self, source_id: str) -> dict[str, KnownReport]:
        return sources.known_reports(self._db, source_id)

    def source_health(self) -> list[SourceHealth]:
        """Every configured (not removed) source, with how its polls have gone."""
        return sources.source_health(self._db)

    def recent_attempts(self, source_ids: Sequence[str]) -> dict[str, list[PollAttempt]]:
        """Each source's last polls, newest first (see `attempts`)."""
        return attempts.recent_attempts(self._db, source_ids)

    def poll_now(self, source_id: str, actor: str, now: datetime) -> None:
        """Make the source due now, for the running workers' next tick (see `attempts`)."""
        attempts.poll_now(self._db, source_id, actor, now)

    # --- writing -------------------------------------------------------------

    def recent_texts(self, source_id: str, count: int) -> list[str]:
        """The plain text of the source's latest `count` reports, to learn its boilerplate
        from (see `aggregator.dedupe.SourceBoilerplates`)."""
        with self._db.reading() as connection:
            return merge.recent_texts(connection, source_id, count)

    def apply_poll(self, outcome: PollOutcome) -> WriteCounts:
        """Write one poll of one source in one transaction (see `write.PollWriter`)."""
        return self._polls.apply_poll(outcome)

    def apply_polls(self, outcomes: Sequence[PollOutcome]) -> list[WriteCounts | StoreError]:
        """Write a batch of polls in one transaction, one savepoint each; the results of
        the polls written, in order (see `write.PollWriter.apply_polls`)."""
        return self._polls.apply_polls(outcomes)

    def remove_entries_before(self, cutoff: datetime, limit: int) -> int:
        """Remove up to `limit` entries older than `cutoff`; how many went (see `retention`)."""
        return retention.remove_entries_before(self._db, cutoff, limit)

    # --- merging: the staff view and actions ----------------------------------

    def staff_entry(self, uid: str) -> StaffEntry | None:
        """The entry with every report and the rule that merged it, and the staff actions on it."""
        return staff.staff_entry(self._db, uid)

    def split_report(self, entry_uid: str, source_id: str, actor: str, now: datetime) -> str:
        """Detach a source's report into an entry of its own; the new entry's id."""
        return staff.split_report(self._db, entry_uid, source_id, actor, now)

    def force_merge(self, entry_uid: str, other_uid: str, actor: str, now: datetime) -> None:
        """Attach every report of entry `other_uid` to entry `entry_uid`."""
        staff.force_merge(self._db, entry_uid, other_uid, actor, now)

    def explain_reports(self, uid: str) -> dict[str, MergeExplanation]:
        """Each other report of entry `uid` (by source) against its shown report."""
        with self._db.reading() as connection:
            entry_id = read.find_entry_id(connection, uid)
            return {} if entry_id is None else merge.explain_reports(connection, entry_id)

    def explain_merge(self, first: str, second: str) -> merge.PairExplanation:
        """Why two reports (each an entry id or a report link) are, or are not, one story."""
        with self._db.reading() as connection:
            return merge.explain_pair(connection, first, second)

    # --- reading -------------------------------------------------------------

    def entries(self, query: EntryQuery) -> EntryPage:
        """A page of entries, newest first. Raises ValueError for a cursor this store did
        not hand out or a limit below 1."""
        return read.entry_page(self._db, query)

    def entry(self, uid: str) -> StoredEntry | None:
        return read.entry(self._db, uid)

    def story(self, uid: str) -> Story | None:
        """The entry `uid` with each report's own text, for the story page."""
        return read.story(self._db, uid)

    def search(self, query: SearchQuery, page: EntryQuery, order: Order = "newest") -> EntryPage:
        """The page of the entries that match `query` within `page`'s filters (see
        `read.search_page`). Raises QueryError or SearchTooSlow."""
        return read.search_page(self._db, query, page, order)

    def version(self) -> int:
        with self._db.reading() as connection:
            return read_version(connection)
