"""The read path: pages of the river of news behind an opaque keyset cursor, single entries,
search results, each loaded as a `StoredEntry` with its categories and reports."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Integer, Select, exists, literal, select, tuple_

from aggregator.models import (
    EntryPage,
    EntryQuery,
    SourceReport,
    StoredEntry,
    Story,
    StoryReport,
)
from aggregator.search.query import SearchQuery
from aggregator.store.engine import Database
from aggregator.store.rows import AnyRow
from aggregator.store.schema import (
    UTCDateTime,
    entries,
    entry_aliases,
    entry_categories,
    reports,
    sources,
)
from aggregator.store.search_sql import Order, search_entries
from aggregator.store.shown import SHOWN_ORDER


def entry_page(db: Database, query: EntryQuery) -> EntryPage:
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
    # An alert that has expired stays stored but is no longer news: left out at read time.
    now = query.now or datetime.now(UTC)
    page = page.where(
        ~exists()
        .where(reports.c.id == entries.c.shown_report_id, reports.c.expires <= now)
        .where(entries.c.id == entry_id)
    )
    if query.cursor is not None:
        after_published, after_id = decode_cursor(query.cursor)
        page = page.where(
            tuple_(published, entry_id)
            < tuple_(literal(after_published, UTCDateTime()), literal(after_id, Integer()))
        )
    page = page.order_by(published.desc(), entry_id.desc()).limit(query.limit + 1)
    with db.reading() as connection:
        keys = connection.execute(page).all()
        shown = keys[: query.limit]
        found = load_entries(connection, [key[1] for key in shown])
    next_cursor = encode_cursor(shown[-1][0], shown[-1][1]) if len(keys) > query.limit else None
    return EntryPage(entries=tuple(found), next_cursor=next_cursor)


def search_page(db: Database, query: SearchQuery, page: EntryQuery, order: Order) -> EntryPage:
    """The page of the entries that match `query` within `page`'s category, source, limit
    and (search) cursor (see `aggregator.store.search_sql`). Raises QueryError for a cursor or
    limit the search refuses, SearchTooSlow when it runs out of time."""
    with db.reading() as connection:
        found = search_entries(
            connection,
            query,
            category=page.category,
            source=page.source,
            limit=page.limit,
            cursor=page.cursor,
            order=order,
        )
        loaded = load_entries(connection, found.entry_ids)
    # Expired alerts are left out of the page found, not of the search itself: a lookup per
    # candidate would slow every search, and few pages hold an alert. The page may come out
    # short; its cursor still continues after everything it looked at.
    now = page.now or datetime.now(UTC)
    in_force = tuple(entry for entry in loaded if entry.expires is None or entry.expires > now)
    return EntryPage(entries=in_force, next_cursor=found.next_cursor)


def find_entry_id(connection: Connection, uid: str) -> int | None:
    """The row id of the entry whose public id is `uid` (or was, before a later report
    joined it to an older entry), if there is one."""
    found = connection.scalar(select(entries.c.id).where(entries.c.uid == uid))
    if found is None:
        found = connection.scalar(
            select(entry_aliases.c.entry_id).where(entry_aliases.c.uid == uid)
        )
    return found


def entry(db: Database, uid: str) -> StoredEntry | None:
    with db.reading() as connection:
        entry_id = find_entry_id(connection, uid)
        return None if entry_id is None else load_entries(connection, [entry_id])[0]


def story(db: Database, uid: str) -> Story | None:
    """The entry `uid` with the content of each of its reports, the shown report first."""
    with db.reading() as connection:
        entry_id = find_entry_id(connection, uid)
        if entry_id is None:
            return None
        (stored,) = load_entries(connection, [entry_id])
        shown_report_id = connection.scalar(
            select(entries.c.shown_report_id).where(entries.c.id == entry_id)
        )
        rows = list(
            connection.execute(
                _report_columns(reports.c.summary, reports.c.content)
                .where(reports.c.entry_id == entry_id)
                .order_by(*SHOWN_ORDER)
            )
        )
    rows.sort(key=lambda row: row.id != shown_report_id)
    return Story(
        entry=stored,
        reports=tuple(StoryReport(source_report(row), row.content or row.summary) for row in rows),
    )


def _report_columns(*extra: Any) -> Select[Any]:
    """A report with its source's titles, as `source_report` reads it."""
    return select(
        reports.c.id,
        reports.c.entry_id,
        reports.c.source_id,
        reports.c.title,
        reports.c.link,
        reports.c.published,
        reports.c.published_has_time,
        reports.c.agency,
        reports.c.severity,
        reports.c.expires,
        reports.c.attachments,
        sources.c.title.label("source_title"),
        sources.c.feed_title,
        *extra,
    ).join(sources, sources.c.id == reports.c.source_id)


def entries_by_id(connection: Connection, entry_ids: Sequence[int]) -> list[StoredEntry]:
    """The entries with these ids, in this order (ids no longer stored are left out)."""
    present = set(connection.scalars(select(entries.c.id).where(entries.c.id.in_(entry_ids))))
    return load_entries(connection, [i for i in entry_ids if i in present])


def load_entries(connection: Connection, entry_ids: Sequence[int]) -> list[StoredEntry]:
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
        _report_columns()
        .where(reports.c.entry_id.in_(entry_ids))
        .order_by(reports.c.entry_id, *SHOWN_ORDER)
    ):
        attached[report_row.entry_id].append(report_row)
    return [
        _stored_entry(rows[entry_id], categories[entry_id], attached[entry_id])
        for entry_id in entry_ids
    ]


def _stored_entry(entry: AnyRow, categories: list[str], attached: list[AnyRow]) -> StoredEntry:
    # The shown report first, whatever the ranking says today.
    attached.sort(key=lambda report: report.id != entry.shown_report_id)
    shown = attached[0] if attached else None
    return StoredEntry(
        id=entry.uid,
        title=entry.title,
        link=entry.link,
        summary=entry.summary,
        content=entry.content,
        published=entry.published,
        updated=entry.updated,
        categories=tuple(categories),
        reports=tuple(source_report(report) for report in attached),
        agency=shown.agency if shown else None,
        severity=shown.severity if shown else None,
        expires=shown.expires if shown else None,
        attachments=tuple(json.loads(shown.attachments)) if shown and shown.attachments else (),
        published_has_time=shown.published_has_time if shown else True,
    )


def source_report(row: AnyRow) -> SourceReport:
    """A report row joined with its source's `source_title` and `feed_title`."""
    return SourceReport(
        source_id=row.source_id,
        source_title=row.source_title or row.feed_title or row.source_id,
        title=row.title,
        link=row.link,
        published=row.published,
        published_has_time=row.published_has_time,
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
    if published.tzinfo is None or not 0 < entry_id < _ENTRY_ID_LIMIT:
        raise ValueError(f"not a cursor from this site: {cursor!r}")
    try:
        published.astimezone(UTC)  # the store compares instants in UTC
    except OverflowError as error:
        raise ValueError(f"not a cursor from this site: {cursor!r}") from error
    return published, entry_id


_ENTRY_ID_LIMIT = 1 << 63  # ids are BIGINTs
