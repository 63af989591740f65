"""Which of its reports an entry shows, and bringing entries up to date with that choice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from aggregator.store.rows import AnyRow, chunks
from aggregator.store.schema import entries, entry_categories, reports, sources

# The report an entry shows: the highest source priority, then the earliest published,
# then the first stored.
SHOWN_ORDER = (sources.c.priority.desc(), reports.c.published, reports.c.id)
SHOWN_FIELDS = ("title", "link", "summary", "content", "published")


def refresh_entries(
    connection: Connection, entry_ids: Iterable[int], noticed: datetime
) -> set[int]:
    """Make each entry show its preferred report; return the entries that visibly changed."""
    changes: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    visibly_changed_ids: set[int] = set()
    for chunk in chunks(sorted(entry_ids)):
        current = {
            row.id: row
            for row in connection.execute(select(entries).where(entries.c.id.in_(chunk)))
        }
        preferred: dict[int, AnyRow] = {}
        for row in connection.execute(
            select(reports)
            .join(sources, sources.c.id == reports.c.source_id)
            .where(reports.c.entry_id.in_(chunk))
            .order_by(reports.c.entry_id, *SHOWN_ORDER)
        ):
            preferred.setdefault(row.entry_id, row)
        for entry_id, shown in preferred.items():
            entry = current[entry_id]
            visibly_changed = any(
                getattr(shown, name) != getattr(entry, name) for name in SHOWN_FIELDS
            )
            if not visibly_changed and shown.id == entry.shown_report_id:
                continue
            updated = entry.updated
            if visibly_changed:
                visibly_changed_ids.add(entry_id)
                updated = _moved_updated(entry.updated, shown.updated, noticed)
            changes.append(
                {f"b_{name}": getattr(shown, name) for name in SHOWN_FIELDS}
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
                    for name in (*SHOWN_FIELDS, "updated", "shown_report_id")
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
