"""Removing old entries, in short transactions, for `aggregator.schedule.retention`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from aggregator.store.engine import INGEST_LOCK, Database, serialise
from aggregator.store.schema import entries, entry_categories, reports
from aggregator.store.search_index import reindex_entries
from aggregator.store.version import bump_version


def remove_entries_before(db: Database, cutoff: datetime, limit: int) -> int:
    """Remove up to `limit` entries published and first seen before `cutoff`, with their
    reports, categories and search-index rows, in one short transaction; return how many
    went. Call again until it returns 0."""
    with db.writing() as connection:
        # A poll attaching a report to an entry that is going must not interleave.
        serialise(connection, INGEST_LOCK)
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
        bump_version(connection)
        return len(ids)
