"""Staff corrections of merging: the staff view of an entry, splitting a report off,
forcing two entries together. Each action is one transaction with its audit row."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from aggregator.models import MergedReport, StaffAction, StaffEntry
from aggregator.store.categories import rewrite_entry_categories
from aggregator.store.engine import INGEST_LOCK, Database, serialise
from aggregator.store.errors import StoreError
from aggregator.store.merge import (
    actions_on,
    join_entries,
    join_together,
    log_action,
    mark_merged_by_staff,
    split_apart,
)
from aggregator.store.read import find_entry_id, load_entries, source_report
from aggregator.store.rows import AnyRow
from aggregator.store.schema import entries, reports, sources
from aggregator.store.search_index import reindex_entries
from aggregator.store.shown import SHOWN_FIELDS, SHOWN_ORDER, refresh_entries
from aggregator.store.version import bump_version

_staff_log = logging.getLogger("aggregator.staff")


def staff_entry(db: Database, uid: str) -> StaffEntry | None:
    """The entry with every report and the rule that merged it, and the staff actions on it."""
    with db.reading() as connection:
        entry_id = find_entry_id(connection, uid)
        if entry_id is None:
            return None
        shown = load_entries(connection, [entry_id])[0]
        rows = connection.execute(
            select(reports, sources.c.title.label("source_title"), sources.c.feed_title)
            .join(sources, sources.c.id == reports.c.source_id)
            .where(reports.c.entry_id == entry_id)
            .order_by(*SHOWN_ORDER)
        ).all()
        shown_id = connection.scalar(
            select(entries.c.shown_report_id).where(entries.c.id == entry_id)
        )
        merged = sorted(
            (_merged_report(row, row.id == shown_id) for row in rows),
            key=lambda report: not report.shown,
        )
        return StaffEntry(shown, tuple(merged), tuple(actions_on(connection, uid)))


def split_report(db: Database, entry_uid: str, source_id: str, actor: str, now: datetime) -> str:
    """Detach the report of `source_id` from the entry into an entry of its own, kept
    apart from the entry's other reports across re-polls; return the new entry's id."""
    with db.writing() as connection:
        serialise(connection, INGEST_LOCK)
        entry_id = _existing_entry_id(connection, entry_uid)
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
                **{name: report._mapping[name] for name in (*SHOWN_FIELDS, "updated")},
                first_seen=now,
                shown_report_id=report.id,
            )
        )
        new_id = _existing_entry_id(connection, new_uid)
        connection.execute(update(reports).where(reports.c.id == report.id).values(entry_id=new_id))
        mark_merged_by_staff(connection, [report.id], "split")
        others = [row.id for row in attached.values() if row.id != report.id]
        split_apart(connection, report.id, others, now)
        _after_staff_action(connection, [entry_id, new_id], now)
        action = StaffAction(
            now, actor, "split", entry_uid, {"source": source_id, "new_entry": new_uid}
        )
        log_action(connection, action)
    _log_staff_action(action)
    return new_uid


def force_merge(db: Database, entry_uid: str, other_uid: str, actor: str, now: datetime) -> None:
    """Attach every report of entry `other_uid` to entry `entry_uid`, which keeps its id;
    the pair stays merged across re-polls. The other entry's id (and any it had absorbed)
    stays an alias of `entry_uid`, so links to it still find the story."""
    with db.writing() as connection:
        serialise(connection, INGEST_LOCK)
        entry_id = _existing_entry_id(connection, entry_uid)
        other_id = _existing_entry_id(connection, other_uid)
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
        join_entries(connection, entry_id, [other_id])
        mark_merged_by_staff(connection, moving_ids, "forced")
        join_together(connection, [row.id for row in kept], moving_ids, now)
        _after_staff_action(connection, [entry_id, other_id], now)
        action = StaffAction(now, actor, "force-merge", entry_uid, {"merged": other_uid})
        log_action(connection, action)
    _log_staff_action(action)


def _after_staff_action(connection: Connection, entry_ids: Sequence[int], now: datetime) -> None:
    refresh_entries(connection, entry_ids, now)
    rewrite_entry_categories(connection, entry_ids)
    reindex_entries(connection, entry_ids)
    bump_version(connection)


def _existing_entry_id(connection: Connection, uid: str) -> int:
    entry_id = find_entry_id(connection, uid)
    if entry_id is None:
        raise StoreError(f"there is no entry {uid!r}")
    return int(entry_id)


def _merged_report(row: AnyRow, shown: bool) -> MergedReport:
    return MergedReport(
        **asdict(source_report(row)),
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
