"""The store: the only module that talks to the database (SQLAlchemy Core, SQLite or PostgreSQL).

Write side: `sync_sources` mirrors feeds.yaml, `claim_due`/`due_sources` say what to poll,
`apply_poll` writes one poll of one source in one transaction. Read side: `entries` pages
the river of news newest first with an opaque keyset cursor, `entry`, `source_health`,
`version` (a counter web caches key on).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    create_engine,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError

from aggregator.dedupe import Candidate, candidate_from_report
from aggregator.models import (
    EntryPage,
    EntryQuery,
    KnownReport,
    MergedReport,
    PollOutcome,
    Report,
    Source,
    SourceHealth,
    SourceReport,
    SourceState,
    SourceStatus,
    StaffAction,
    StaffEntry,
    StoredEntry,
    Validators,
    WriteCounts,
    WritePlan,
)
from aggregator.pollstats import record_poll
from aggregator.schema import (
    UTCDateTime,
    entries,
    entry_categories,
    reports,
    sources,
    store_meta,
)
from aggregator.search.index import reindex_entries
from aggregator.search.query import SearchQuery
from aggregator.search.sql import Order, search_entries
from aggregator.store_merge import (
    Boilerplates,
    EntryChoice,
    actions_on,
    choose_entries,
    index_reports,
    join_together,
    log_action,
    mark_merged_by_staff,
    recent_texts,
    split_apart,
)

# At most this many sources of one host are leased at once, across every worker: the
# fetcher's own per-host limit, kept across processes.
PER_HOST_LEASES = 2
# PostgreSQL transaction-level advisory lock keys (arbitrary, fixed). Claims and syncs
# change which sources are leased and exist; ingest writes entries.
_CLAIM_LOCK = 0x61676701
_INGEST_LOCK = 0x61676702
# Execution option marking a transaction that writes: on SQLite it starts with BEGIN IMMEDIATE,
# so a second writer waits for the lock (busy timeout) instead of failing on upgrade.
_WRITES = "aggregator_writes"
_SQLITE_BUSY_TIMEOUT_MS = 15_000
_POSTGRES_CONNECT_TIMEOUT_S = 5
# Entry uids are uuid5 of the first report's source and identity in this namespace,
# so ingesting the same feeds into an empty store yields the same public ids.
_ENTRY_UID_NAMESPACE = uuid.UUID("6f1c5a2e-3b7d-5e8a-9c41-0d2b7e6f4a13")
# Bound parameters per statement stay well under SQLite's and psycopg's limits.
_IN_CHUNK = 1000
_T = TypeVar("_T")
_staff_log = logging.getLogger("aggregator.staff")
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


class StoreUnavailable(Exception):
    """The database does not answer."""


class StoreError(ValueError):
    """A write was refused (for example a report breaking a constraint); nothing was written."""


def open_store(url: str) -> Store:
    """An open store on `url`. Does not migrate: run `aggregator.migrate.upgrade(url)` first."""
    return Store(url, make_engine(url))


def make_engine(url: str) -> Engine:
    """An engine with the store's connection settings (SQLite pragmas, timeouts)."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed)
            _configure_sqlite(engine)
        else:
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"connect_timeout": _POSTGRES_CONNECT_TIMEOUT_S},
            )
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise ValueError(
            f"{_safe_url(url)} is not a database URL the store can use: {error}"
        ) from error
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own implicit BEGIN is switched off: the "begin" hook below emits it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(_WRITES, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


@dataclass(frozen=True, slots=True)
class _Match:
    """The existing entry a new report joins, and why."""

    entry_id: int
    rule: str
    score: float | None = None


class Store:
    def __init__(self, url: str, engine: Engine, *, merge_near_duplicates: bool = True) -> None:
        """`merge_near_duplicates=False` merges exact links only: for bench/dedup.py."""
        self.url = url
        self.dialect: str = engine.dialect.name
        self._engine = engine
        self._writer = engine.execution_options(**{_WRITES: True})
        self._merging = merge_near_duplicates
        self._boilerplates = Boilerplates()

    # --- connections ---------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self._connect(self._engine) as connection, self._answering():
            yield connection

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._connect(self._writer) as connection, self._answering(), connection.begin():
            yield connection

    def _connect(self, engine: Engine) -> Connection:
        try:
            return engine.connect()
        except DBAPIError as error:
            raise self._unavailable(error) from error

    @contextmanager
    def _answering(self) -> Iterator[None]:
        """A connection lost mid-way is the database not answering, too."""
        try:
            yield
        except DBAPIError as error:
            if error.connection_invalidated:
                raise self._unavailable(error) from error
            raise

    def _unavailable(self, error: DBAPIError) -> StoreUnavailable:
        return StoreUnavailable(
            f"the database at {_safe_url(self.url)} does not answer: {error.orig}"
        )

    def reading(self) -> AbstractContextManager[Connection]:
        """A connection for the store's companion modules (alerts, metrics) to read with."""
        return self._reading()

    def writing(self) -> AbstractContextManager[Connection]:
        """A writing transaction for the store's companion modules (alerts)."""
        return self._writing()

    def entries_by_id(self, connection: Connection, entry_ids: Sequence[int]) -> list[StoredEntry]:
        """The entries with these ids, in this order (ids no longer stored are left out)."""
        present = set(connection.scalars(select(entries.c.id).where(entries.c.id.in_(entry_ids))))
        return _load_entries(connection, [i for i in entry_ids if i in present])

    def ping(self) -> None:
        with self._reading() as connection:
            connection.execute(select(1))

    def close(self) -> None:
        self._engine.dispose()

    # --- sources -------------------------------------------------------------

    def sync_sources(self, configured: Sequence[Source], now: datetime) -> None:
        """Mirror the configuration: upsert each source, mark absent ones removed."""
        with self._writing() as connection:
            # Workers starting together must not both insert a new source.
            _serialise(connection, _CLAIM_LOCK)
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
                    select(reports.c.entry_id)
                    .distinct()
                    .where(reports.c.source_id.in_(recategorised))
                ).all()
                _rewrite_entry_categories(connection, entry_ids)
                _bump_version(connection)

    def due_sources(self, now: datetime, *, include_not_due: bool = False) -> list[SourceState]:
        """Enabled, not removed sources due by `now` (every one of them with include_not_due)."""
        condition = _pollable() if include_not_due else _due(now)
        with self._reading() as connection:
            rows = connection.execute(
                _state_columns().where(condition).order_by(sources.c.next_poll, sources.c.id)
            )
            return [_source_state(row) for row in rows]

    def claim_due(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        *,
        per_host: int = PER_HOST_LEASES,
    ) -> list[SourceState]:
        """Lease up to `limit` due sources to `worker`; a source leased to another is skipped
        until its lease expires, and no host gets more than `per_host` live leases across all
        workers. Several workers may claim at once without overlap."""
        with self._writing() as connection:
            # Counting a host's leases and adding to them must not interleave between
            # claimers: PostgreSQL serialises claims on a lock (a claim takes milliseconds);
            # SQLite's BEGIN IMMEDIATE already does.
            _serialise(connection, _CLAIM_LOCK)
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

    def known_reports(self, source_id: str) -> dict[str, KnownReport]:
        with self._reading() as connection:
            rows = connection.execute(
                select(reports.c.identity, reports.c.content_hash, reports.c.published).where(
                    reports.c.source_id == source_id
                )
            )
            return {
                row.identity: KnownReport(row.identity, row.content_hash, row.published)
                for row in rows
            }

    # --- the write path ------------------------------------------------------

    def apply_poll(self, outcome: PollOutcome) -> WriteCounts:
        """Write one poll of one source (health, then its new and changed reports) in one
        transaction, and release the source's lease. On any error nothing is written."""
        fingerprinted = self._fingerprint(outcome.plan)
        try:
            with self._writing() as connection:
                if outcome.plan is not None and outcome.plan.new:
                    # Two workers writing copies of one story at once must not both see
                    # "no entry yet" and create two: writers of new reports take turns.
                    _serialise(connection, _INGEST_LOCK)
                categories = connection.scalar(
                    select(sources.c.categories).where(sources.c.id == outcome.source_id)
                )
                if categories is None:
                    raise StoreError(
                        f"source {outcome.source_id!r} is not in the store: sync_sources first"
                    )
                _record_health(connection, outcome)
                counts = WriteCounts()
                if outcome.plan is not None:
                    counts = self._write_plan(
                        connection,
                        outcome.plan,
                        outcome.attempted_at,
                        json.loads(categories),
                        fingerprinted,
                    )
                    if outcome.plan.new or outcome.plan.changed:
                        _bump_version(connection)
                record_poll(connection, outcome, counts)
                return counts
        except IntegrityError as error:
            raise StoreError(
                f"the poll of source {outcome.source_id!r} was not written, the store is"
                f" unchanged: {error.orig}"
            ) from error

    def _write_plan(
        self,
        connection: Connection,
        plan: WritePlan,
        noticed: datetime,
        categories: list[str],
        fingerprinted: Sequence[Candidate] | None,
    ) -> WriteCounts:
        matches = self._find_entries(connection, plan.source_id, plan.new)
        if fingerprinted is not None:
            matches = _near_duplicate_matches(connection, plan.source_id, fingerprinted, matches)
        creating = [report for report, match in zip(plan.new, matches, strict=True) if not match]
        created_ids = _insert_entries(connection, creating, noticed)
        created = iter(created_ids)
        entry_ids = [match.entry_id if match else next(created) for match in matches]
        _insert_reports(connection, plan.new, matches, entry_ids, noticed, fingerprinted)
        if fingerprinted:
            index_reports(connection, plan.source_id, fingerprinted)
        _show_first_reports(connection, created_ids)
        _categorise(connection, created_ids, [r.published for r in creating], categories)
        merged_entry_ids = {m.entry_id for m in matches if m}
        _add_entry_categories(connection, merged_entry_ids, categories)
        if plan.new:
            connection.execute(
                update(sources)
                .where(sources.c.id == plan.source_id)
                .values(entries=sources.c.entries + len(plan.new))
            )
        changed_entry_ids = _update_reports(connection, plan.source_id, plan.changed)
        changed_in_sight = _refresh_entries(
            connection, merged_entry_ids | changed_entry_ids, noticed
        )
        reindex_entries(connection, set(created_ids) | changed_in_sight)
        return WriteCounts(
            new=len(created_ids),
            updated=len(changed_in_sight & changed_entry_ids),
            merged=len(plan.new) - len(created_ids),
            unchanged=plan.unchanged,
        )

    def _fingerprint(self, plan: WritePlan | None) -> list[Candidate] | None:
        """The new reports' fingerprints, computed before the write transaction opens (CPU
        work that must not hold the write lock); None when near-duplicates are not merged."""
        if not self._merging or plan is None or not plan.new:
            return None
        boilerplate = self._boilerplates.of(
            plan.source_id, len(plan.new), lambda: self._recent_texts(plan.source_id)
        )
        return [candidate_from_report(report, boilerplate) for report in plan.new]

    def _recent_texts(self, source_id: str) -> list[str]:
        with self._reading() as connection:
            return recent_texts(connection, source_id)

    def _find_entries(
        self, connection: Connection, source_id: str, new: Sequence[Report]
    ) -> list[_Match | None]:
        """For each new report, the existing entry it is another copy of, if any.

        Today: an entry holding a report from another source with the same canonical link.
        An entry never gets two reports from one source: a source that repeats a link under
        another identity is telling two stories.
        """
        links = sorted({r.canonical_link for r in new if r.canonical_link})
        other = reports.alias("other")
        from_this_source = exists().where(
            other.c.entry_id == reports.c.entry_id, other.c.source_id == source_id
        )
        entry_by_link: dict[str, int] = {}
        for chunk in _chunks(links):
            rows = connection.execute(
                select(reports.c.canonical_link, func.min(reports.c.entry_id))
                .where(
                    reports.c.canonical_link.in_(chunk),
                    reports.c.source_id != source_id,
                    ~from_this_source,
                )
                .group_by(reports.c.canonical_link)
            )
            entry_by_link.update({link: entry_id for link, entry_id in rows})
        matches: list[_Match | None] = []
        joined: set[int] = set()
        for report in new:
            entry_id = entry_by_link.get(report.canonical_link or "")
            if entry_id is None or entry_id in joined:
                matches.append(None)
            else:
                joined.add(entry_id)
                matches.append(_Match(entry_id, "same-url"))
        return matches

    # --- retention -----------------------------------------------------------

    def remove_entries_before(self, cutoff: datetime, limit: int) -> int:
        """Remove up to `limit` entries published and first seen before `cutoff`, with their
        reports, categories and search-index rows, in one short transaction; return how many
        went. Call again until it returns 0."""
        with self._writing() as connection:
            # A poll attaching a report to an entry that is going must not interleave.
            _serialise(connection, _INGEST_LOCK)
            ids = connection.scalars(
                select(entries.c.id)
                .where(entries.c.published < cutoff, entries.c.first_seen < cutoff)
                .order_by(entries.c.published, entries.c.id)
                .limit(limit)
            ).all()
            if not ids:
                return 0
            connection.execute(entry_categories.delete().where(entry_categories.c.entry_id.in_(ids)))
            connection.execute(reports.delete().where(reports.c.entry_id.in_(ids)))
            connection.execute(entries.delete().where(entries.c.id.in_(ids)))
            reindex_entries(connection, ids)  # drops the index rows of entries that are gone
            _bump_version(connection)
            return len(ids)

    # --- merging: the staff view and actions ----------------------------------

    def staff_entry(self, uid: str) -> StaffEntry | None:
        """The entry with every report and the rule that merged it, and the staff actions on it."""
        with self._reading() as connection:
            entry_id = connection.scalar(select(entries.c.id).where(entries.c.uid == uid))
            if entry_id is None:
                return None
            shown = _load_entries(connection, [entry_id])[0]
            rows = connection.execute(
                select(reports, sources.c.title.label("source_title"), sources.c.feed_title)
                .join(sources, sources.c.id == reports.c.source_id)
                .where(reports.c.entry_id == entry_id)
                .order_by(*_SHOWN_ORDER)
            ).all()
            shown_id = connection.scalar(
                select(entries.c.shown_report_id).where(entries.c.id == entry_id)
            )
            merged = sorted(
                (_merged_report(row, row.id == shown_id) for row in rows),
                key=lambda report: not report.shown,
            )
            return StaffEntry(shown, tuple(merged), tuple(actions_on(connection, uid)))

    def split_report(self, entry_uid: str, source_id: str, actor: str, now: datetime) -> str:
        """Detach the report of `source_id` from the entry into an entry of its own, kept
        apart from the entry's other reports across re-polls; return the new entry's id."""
        with self._writing() as connection:
            _serialise(connection, _INGEST_LOCK)
            entry_id = _entry_id(connection, entry_uid)
            attached = {
                row.source_id: row
                for row in connection.execute(select(reports).where(reports.c.entry_id == entry_id))
            }
            report = attached.get(source_id)
            if report is None:
                raise StoreError(f"entry {entry_uid} has no report from source {source_id!r}")
            if len(attached) == 1:
                raise StoreError(f"entry {entry_uid} has one report only: nothing to split")
            new_uid = str(uuid.uuid4())  # the report's own uuid5 may be the old entry's id
            connection.execute(
                insert(entries).values(
                    uid=new_uid,
                    **{name: report._mapping[name] for name in (*_SHOWN_FIELDS, "updated")},
                    first_seen=now,
                    shown_report_id=report.id,
                )
            )
            new_id = _entry_id(connection, new_uid)
            connection.execute(
                update(reports).where(reports.c.id == report.id).values(entry_id=new_id)
            )
            mark_merged_by_staff(connection, [report.id], "split")
            others = [row.id for row in attached.values() if row.id != report.id]
            split_apart(connection, report.id, others, now)
            self._after_staff_action(connection, [entry_id, new_id], now)
            action = StaffAction(
                now, actor, "split", entry_uid, {"source": source_id, "new_entry": new_uid}
            )
            log_action(connection, action)
        _log_staff_action(action)
        return new_uid

    def force_merge(self, entry_uid: str, other_uid: str, actor: str, now: datetime) -> None:
        """Attach every report of entry `other_uid` to entry `entry_uid`, which keeps its id;
        the pair stays merged across re-polls. The other entry's id stops resolving."""
        with self._writing() as connection:
            _serialise(connection, _INGEST_LOCK)
            entry_id = _entry_id(connection, entry_uid)
            other_id = _entry_id(connection, other_uid)
            if entry_id == other_id:
                raise StoreError(f"entry {entry_uid} cannot be merged with itself")
            kept = connection.execute(
                select(reports.c.id, reports.c.source_id).where(reports.c.entry_id == entry_id)
            ).all()
            moving = connection.execute(
                select(reports.c.id, reports.c.source_id).where(reports.c.entry_id == other_id)
            ).all()
            shared = {row.source_id for row in kept} & {row.source_id for row in moving}
            if shared:
                raise StoreError(
                    f"entries {entry_uid} and {other_uid} both hold a report of"
                    f" {', '.join(sorted(shared))}: one source's two reports are two stories"
                )
            moving_ids = [row.id for row in moving]
            connection.execute(
                update(reports).where(reports.c.id.in_(moving_ids)).values(entry_id=entry_id)
            )
            mark_merged_by_staff(connection, moving_ids, "forced")
            join_together(connection, [row.id for row in kept], moving_ids, now)
            connection.execute(
                entry_categories.delete().where(entry_categories.c.entry_id == other_id)
            )
            connection.execute(entries.delete().where(entries.c.id == other_id))
            self._after_staff_action(connection, [entry_id, other_id], now)
            action = StaffAction(now, actor, "force-merge", entry_uid, {"merged": other_uid})
            log_action(connection, action)
        _log_staff_action(action)

    def _after_staff_action(
        self, connection: Connection, entry_ids: Sequence[int], now: datetime
    ) -> None:
        _refresh_entries(connection, entry_ids, now)
        _rewrite_entry_categories(connection, entry_ids)
        reindex_entries(connection, entry_ids)
        _bump_version(connection)

    # --- the read path -------------------------------------------------------

    def entries(self, query: EntryQuery) -> EntryPage:
        """A page of entries, newest first. Raises ValueError for a cursor this store did
        not hand out or a limit below 1."""
        if query.limit < 1:
            raise ValueError(f"limit must be at least 1, not {query.limit}")
        if query.category is not None:
            published, entry_id = entry_categories.c.published, entry_categories.c.entry_id
            page: Select[Any] = select(published, entry_id).where(
                entry_categories.c.category == query.category
            )
        else:
            published, entry_id = entries.c.published, entries.c.id
            page = select(published, entry_id)
        if query.source is not None:
            page = page.where(
                entry_id.in_(select(reports.c.entry_id).where(reports.c.source_id == query.source))
            )
        if query.cursor is not None:
            after_published, after_id = decode_cursor(query.cursor)
            page = page.where(
                tuple_(published, entry_id)
                < tuple_(literal(after_published, UTCDateTime()), literal(after_id, Integer()))
            )
        page = page.order_by(published.desc(), entry_id.desc()).limit(query.limit + 1)
        with self._reading() as connection:
            keys = connection.execute(page).all()
            shown = keys[: query.limit]
            found = _load_entries(connection, [key[1] for key in shown])
        next_cursor = encode_cursor(shown[-1][0], shown[-1][1]) if len(keys) > query.limit else None
        return EntryPage(entries=tuple(found), next_cursor=next_cursor)

    def entry(self, uid: str) -> StoredEntry | None:
        with self._reading() as connection:
            entry_id = connection.scalar(select(entries.c.id).where(entries.c.uid == uid))
            if entry_id is None:
                return None
            return _load_entries(connection, [entry_id])[0]

    def search(
        self,
        query: SearchQuery,
        *,
        category: str | None = None,
        source: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        order: Order = "newest",
    ) -> EntryPage:
        """A page of the entries that match `query` (see `aggregator.search.sql`), loaded as
        `entries` loads them. Raises QueryError for a cursor or limit the search refuses,
        SearchTooSlow when it runs out of time."""
        with self._reading() as connection:
            page = search_entries(
                connection,
                query,
                category=category,
                source=source,
                limit=limit,
                cursor=cursor,
                order=order,
            )
            found = _load_entries(connection, page.entry_ids)
        return EntryPage(entries=tuple(found), next_cursor=page.next_cursor)

    def source_health(self) -> list[SourceHealth]:
        """Every configured (not removed) source, with how its polls have gone."""
        with self._reading() as connection:
            rows = connection.execute(
                select(sources).where(~sources.c.removed).order_by(sources.c.id)
            )
            return [_source_health(row) for row in rows]

    def version(self) -> int:
        with self._reading() as connection:
            value = connection.scalar(
                select(store_meta.c.value).where(store_meta.c.key == "version")
            )
            return int(value or 0)


def _entry_id(connection: Connection, uid: str) -> int:
    entry_id = connection.scalar(select(entries.c.id).where(entries.c.uid == uid))
    if entry_id is None:
        raise StoreError(f"there is no entry {uid!r}")
    return int(entry_id)


def _merged_report(row: AnyRow, shown: bool) -> MergedReport:
    return MergedReport(
        source_id=row.source_id,
        source_title=row.source_title or row.feed_title or row.source_id,
        title=row.title,
        link=row.link,
        published=row.published,
        merge_rule=row.merge_rule,
        merge_score=row.merge_score,
        shown=shown,
    )


def _log_staff_action(action: StaffAction) -> None:
    _staff_log.info(
        "staff action",
        extra={
            "actor": action.actor,
            "action": action.action,
            "entry": action.entry_uid,
            "detail": dict(action.detail),
        },
    )


# --- cursors -----------------------------------------------------------------


def encode_cursor(published: datetime, entry_id: int) -> str:
    raw = f"{published.isoformat()}|{entry_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        published_text, id_text = raw.split("|")
        published = datetime.fromisoformat(published_text)
        entry_id = int(id_text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"not a cursor from this site: {cursor!r}") from error
    if published.tzinfo is None:
        raise ValueError(f"not a cursor from this site: {cursor!r}")
    return published, entry_id


# --- sources: values and conditions ------------------------------------------


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


def _serialise(connection: Connection, key: int) -> None:
    """Hold the lock `key` until the transaction ends (PostgreSQL; on SQLite every writing
    transaction already holds the database's one write lock)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(key)))


def source_host(url: str) -> str:
    """The host name a source is fetched from, as the fetcher's per-host limit sees it."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


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


def _source_title(row: AnyRow) -> str:
    return str(row.title or row.feed_title or row.id)


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
        title=_source_title(row),
        url=row.url,
        categories=tuple(json.loads(row.categories)),
        status=status,
        last_attempt=row.last_attempt,
        last_success=row.last_success,
        last_error=row.last_error,
        failures=row.failures,
        entries=row.entries,
        next_poll=row.next_poll,
    )


def _record_health(connection: Connection, outcome: PollOutcome) -> None:
    values: dict[str, Any] = {
        "last_attempt": outcome.attempted_at,
        "last_http_status": outcome.http_status,
        "next_poll": outcome.next_poll,
        "lease_owner": None,
        "lease_until": None,
    }
    if outcome.status == "failed":
        values["failures"] = sources.c.failures + 1
        values["last_error"] = outcome.error or "the poll failed for an unknown reason"
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
    values |= {name: value for name, value in given.items() if value is not None}
    connection.execute(update(sources).where(sources.c.id == outcome.source_id).values(values))


def _bump_version(connection: Connection) -> None:
    connection.execute(
        update(store_meta).where(store_meta.c.key == "version").values(value=store_meta.c.value + 1)
    )


# --- entries and reports: writing ----------------------------------------------


def _entry_uid(report: Report) -> str:
    return str(uuid.uuid5(_ENTRY_UID_NAMESPACE, f"{report.source_id}\n{report.identity}"))


def _insert_entries(
    connection: Connection, creating: Sequence[Report], noticed: datetime
) -> list[int]:
    """Insert an entry for each report; return their ids, in order."""
    uids = [_entry_uid(report) for report in creating]
    if not uids:
        return []
    # A plain executemany, then the ids by uid: RETURNING in parameter order makes SQLite
    # insert one row per statement.
    connection.execute(
        insert(entries),
        [
            {
                "uid": uid,
                "title": report.title,
                "link": report.link,
                "summary": report.summary,
                "content": report.content,
                "published": report.published,
                "updated": report.updated,
                "first_seen": noticed,
            }
            for uid, report in zip(uids, creating, strict=True)
        ],
    )
    id_by_uid: dict[str, int] = {}
    for chunk in _chunks(uids):
        rows = connection.execute(
            select(entries.c.uid, entries.c.id).where(entries.c.uid.in_(chunk))
        )
        id_by_uid.update((uid, entry_id) for uid, entry_id in rows)
    return [id_by_uid[uid] for uid in uids]


def _insert_reports(
    connection: Connection,
    new: Sequence[Report],
    matches: Sequence[_Match | None],
    entry_ids: Sequence[int],
    noticed: datetime,
    fingerprinted: Sequence[Candidate] | None,
) -> None:
    if not new:
        return
    fingerprints = (
        [candidate.fingerprint.to_bytes() for candidate in fingerprinted]
        if fingerprinted
        else [None] * len(new)
    )
    connection.execute(
        insert(reports),
        [
            _report_values(report)
            | {
                "entry_id": entry_id,
                "source_id": report.source_id,
                "identity": report.identity,
                "first_seen": noticed,
                "merge_rule": match.rule if match else "first",
                "merge_score": match.score if match else None,
                "fingerprint": fingerprint,
            }
            for report, match, entry_id, fingerprint in zip(
                new, matches, entry_ids, fingerprints, strict=True
            )
        ],
    )


def _near_duplicate_matches(
    connection: Connection,
    source_id: str,
    fingerprinted: Sequence[Candidate],
    same_url: Sequence[_Match | None],
) -> list[_Match | None]:
    """The exact-link matches refined by staff overrides and completed with near-duplicates
    (see `aggregator.store_merge.choose_entries`)."""
    choices = choose_entries(
        connection, source_id, fingerprinted, [m.entry_id if m else None for m in same_url]
    )
    return [_match(choice) for choice in choices]


def _match(choice: EntryChoice | None) -> _Match | None:
    return _Match(choice.entry_id, choice.rule, choice.score) if choice else None


def _show_first_reports(connection: Connection, created_ids: Sequence[int]) -> None:
    """Point each new entry at its one report."""
    first_report = (
        select(func.min(reports.c.id)).where(reports.c.entry_id == entries.c.id).scalar_subquery()
    )
    for chunk in _chunks(created_ids):
        connection.execute(
            update(entries).where(entries.c.id.in_(chunk)).values(shown_report_id=first_report)
        )


def _categorise(
    connection: Connection,
    entry_ids: Sequence[int],
    published: Sequence[datetime],
    categories: Sequence[str],
) -> None:
    """File new entries under their source's categories."""
    rows = [
        {"category": category, "published": when, "entry_id": entry_id}
        for entry_id, when in zip(entry_ids, published, strict=True)
        for category in categories
    ]
    if rows:
        connection.execute(insert(entry_categories), rows)


def _report_values(report: Report) -> dict[str, Any]:
    """The columns of a report that a later poll may change."""
    return {
        "title": report.title,
        "link": report.link,
        "canonical_link": report.canonical_link,
        "summary": report.summary,
        "content": report.content,
        "content_hash": report.content_hash,
        "published": report.published,
        "updated": report.updated,
        "author": report.author,
    }


def _update_reports(connection: Connection, source_id: str, changed: Sequence[Report]) -> set[int]:
    """Rewrite the changed reports; return the ids of their entries."""
    if not changed:
        return set()
    first = _report_values(changed[0])
    connection.execute(
        update(reports)
        .where(reports.c.source_id == source_id, reports.c.identity == bindparam("b_identity"))
        .values({name: bindparam(f"b_{name}") for name in first}),
        [
            {f"b_{name}": value for name, value in _report_values(report).items()}
            | {"b_identity": report.identity}
            for report in changed
        ],
    )
    entry_ids: set[int] = set()
    for chunk in _chunks([report.identity for report in changed]):
        entry_ids.update(
            connection.scalars(
                select(reports.c.entry_id).where(
                    reports.c.source_id == source_id, reports.c.identity.in_(chunk)
                )
            )
        )
    return entry_ids


def _add_entry_categories(
    connection: Connection, entry_ids: Iterable[int], categories: Sequence[str]
) -> None:
    """Add a source's categories to existing entries its reports joined (a union over
    the entry's reports)."""
    ids = sorted(set(entry_ids))
    if not ids or not categories:
        return
    present: set[tuple[str, int]] = set()
    published: dict[int, datetime] = {}
    for chunk in _chunks(ids):
        present.update(
            (row.category, row.entry_id)
            for row in connection.execute(
                select(entry_categories.c.category, entry_categories.c.entry_id).where(
                    entry_categories.c.entry_id.in_(chunk)
                )
            )
        )
        published.update(
            (row.id, row.published)
            for row in connection.execute(
                select(entries.c.id, entries.c.published).where(entries.c.id.in_(chunk))
            )
        )
    missing = [
        {"category": category, "published": published[entry_id], "entry_id": entry_id}
        for entry_id in ids
        for category in categories
        if (category, entry_id) not in present
    ]
    if missing:
        connection.execute(insert(entry_categories), missing)


def _rewrite_entry_categories(connection: Connection, entry_ids: Sequence[int]) -> None:
    """Recompute the categories of entries from their reports' sources."""
    for chunk in _chunks(list(entry_ids)):
        rows = connection.execute(
            select(entries.c.id, entries.c.published, sources.c.categories)
            .join(reports, reports.c.entry_id == entries.c.id)
            .join(sources, sources.c.id == reports.c.source_id)
            .where(entries.c.id.in_(chunk))
        ).all()
        connection.execute(entry_categories.delete().where(entry_categories.c.entry_id.in_(chunk)))
        wanted = {
            (category, row.published, row.id)
            for row in rows
            for category in json.loads(row.categories)
        }
        if wanted:
            connection.execute(
                insert(entry_categories),
                [{"category": c, "published": p, "entry_id": e} for c, p, e in sorted(wanted)],
            )


# The report an entry shows: the highest source priority, then the earliest published,
# then the first stored.
_SHOWN_ORDER = (sources.c.priority.desc(), reports.c.published, reports.c.id)
_SHOWN_FIELDS = ("title", "link", "summary", "content", "published")


def _refresh_entries(
    connection: Connection, entry_ids: Iterable[int], noticed: datetime
) -> set[int]:
    """Make each entry show its preferred report; return the entries that visibly changed."""
    changes: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    visibly_changed_ids: set[int] = set()
    for chunk in _chunks(sorted(entry_ids)):
        current = {
            row.id: row
            for row in connection.execute(select(entries).where(entries.c.id.in_(chunk)))
        }
        preferred: dict[int, AnyRow] = {}
        for row in connection.execute(
            select(reports)
            .join(sources, sources.c.id == reports.c.source_id)
            .where(reports.c.entry_id.in_(chunk))
            .order_by(reports.c.entry_id, *_SHOWN_ORDER)
        ):
            preferred.setdefault(row.entry_id, row)
        for entry_id, shown in preferred.items():
            entry = current[entry_id]
            visibly_changed = any(
                getattr(shown, name) != getattr(entry, name) for name in _SHOWN_FIELDS
            )
            if not visibly_changed and shown.id == entry.shown_report_id:
                continue
            updated = entry.updated
            if visibly_changed:
                visibly_changed_ids.add(entry_id)
                updated = _moved_updated(entry.updated, shown.updated, noticed)
            changes.append(
                {f"b_{name}": getattr(shown, name) for name in _SHOWN_FIELDS}
                | {"b_id": entry_id, "b_updated": updated, "b_shown_report_id": shown.id}
            )
            if shown.published != entry.published:
                moved.append({"b_id": entry_id, "b_published": shown.published})
    if changes:
        connection.execute(
            update(entries)
            .where(entries.c.id == bindparam("b_id"))
            .values(
                {
                    name: bindparam(f"b_{name}")
                    for name in (*_SHOWN_FIELDS, "updated", "shown_report_id")
                }
            ),
            changes,
        )
    if moved:
        connection.execute(
            update(entry_categories)
            .where(entry_categories.c.entry_id == bindparam("b_id"))
            .values(published=bindparam("b_published")),
            moved,
        )
    return visibly_changed_ids


def _moved_updated(previous: datetime, reported: datetime, noticed: datetime) -> datetime:
    """An entry whose shown text changed must look updated to feed readers, even when the
    source did not move its own date."""
    return reported if reported > previous else max(previous, noticed)


# --- entries: reading ----------------------------------------------------------


def _load_entries(connection: Connection, entry_ids: Sequence[int]) -> list[StoredEntry]:
    """The entries with these ids, in this order, with their categories and reports."""
    if not entry_ids:
        return []
    rows = {
        row.id: row
        for row in connection.execute(select(entries).where(entries.c.id.in_(entry_ids)))
    }
    categories: dict[int, list[str]] = {entry_id: [] for entry_id in entry_ids}
    for category_row in connection.execute(
        select(entry_categories.c.entry_id, entry_categories.c.category)
        .where(entry_categories.c.entry_id.in_(entry_ids))
        .order_by(entry_categories.c.category)
    ):
        categories[category_row.entry_id].append(category_row.category)
    attached: dict[int, list[AnyRow]] = {entry_id: [] for entry_id in entry_ids}
    for report_row in connection.execute(
        select(
            reports.c.id,
            reports.c.entry_id,
            reports.c.source_id,
            reports.c.title,
            reports.c.link,
            reports.c.published,
            sources.c.title.label("source_title"),
            sources.c.feed_title,
        )
        .join(sources, sources.c.id == reports.c.source_id)
        .where(reports.c.entry_id.in_(entry_ids))
        .order_by(reports.c.entry_id, *_SHOWN_ORDER)
    ):
        attached[report_row.entry_id].append(report_row)
    return [
        _stored_entry(rows[entry_id], categories[entry_id], attached[entry_id])
        for entry_id in entry_ids
    ]


def _stored_entry(entry: AnyRow, categories: list[str], attached: list[AnyRow]) -> StoredEntry:
    # The shown report first, whatever the ranking says today.
    attached.sort(key=lambda report: report.id != entry.shown_report_id)
    return StoredEntry(
        id=entry.uid,
        title=entry.title,
        link=entry.link,
        summary=entry.summary,
        content=entry.content,
        published=entry.published,
        updated=entry.updated,
        categories=tuple(categories),
        reports=tuple(
            SourceReport(
                source_id=report.source_id,
                source_title=report.source_title or report.feed_title or report.source_id,
                title=report.title,
                link=report.link,
                published=report.published,
            )
            for report in attached
        ),
    )


# --- helpers -------------------------------------------------------------------


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]
