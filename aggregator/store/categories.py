"""Which categories each entry is filed under: the union of its reports' sources' categories
and of those its reports add (an alert's areas)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select

from aggregator.models import Report
from aggregator.store.rows import chunks
from aggregator.store.schema import entries, entry_categories, reports, sources


def categorise(
    connection: Connection,
    entry_ids: Sequence[int],
    created_from: Sequence[Report],
    categories: Sequence[str],
) -> None:
    """File new entries under their source's categories, and those their report adds (an
    alert's areas)."""
    rows = [
        {"category": category, "published": report.published, "entry_id": entry_id}
        for entry_id, report in zip(entry_ids, created_from, strict=True)
        for category in dict.fromkeys((*categories, *report.categories))
    ]
    if rows:
        connection.execute(insert(entry_categories), rows)


def add_entry_categories(
    connection: Connection, entry_ids: Iterable[int], categories: Sequence[str]
) -> None:
    """Add a source's categories to existing entries its reports joined (a union over
    the entry's reports)."""
    ids = sorted(set(entry_ids))
    if not ids or not categories:
        return
    present: set[tuple[str, int]] = set()
    published: dict[int, datetime] = {}
    for chunk in chunks(ids):
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


def rewrite_entry_categories(connection: Connection, entry_ids: Sequence[int]) -> None:
    """Recompute the categories of entries from their reports' sources and their reports'
    own (an alert's areas)."""
    for chunk in chunks(list(entry_ids)):
        rows = connection.execute(
            select(
                entries.c.id,
                entries.c.published,
                sources.c.categories,
                reports.c.categories.label("added"),
            )
            .join(reports, reports.c.entry_id == entries.c.id)
            .join(sources, sources.c.id == reports.c.source_id)
            .where(entries.c.id.in_(chunk))
        ).all()
        connection.execute(entry_categories.delete().where(entry_categories.c.entry_id.in_(chunk)))
        wanted = {
            (category, row.published, row.id)
            for row in rows
            for category in (*json.loads(row.categories), *json.loads(row.added or "[]"))
        }
        if wanted:
            connection.execute(
                insert(entry_categories),
                [{"category": c, "published": p, "entry_id": e} for c, p, e in sorted(wanted)],
            )
