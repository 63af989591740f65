"""Each source's last polls, for its page (`/sources/<id>`) and the sources API: when, how
it went (new reports, nothing changed, or the error), the HTTP status and how long it took.

`record_attempt` writes one poll's row in the poll's own transaction and prunes the source's
rows beyond KEPT_PER_SOURCE in the same write, so the table never holds more than that many
rows a source. `poll_now` asks the running workers to poll a source on their next tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from aggregator.models import PollAttempt, PollOutcome, StaffAction, WriteCounts
from aggregator.store.engine import Database
from aggregator.store.errors import StoreError
from aggregator.store.merge import log_action
from aggregator.store.schema import poll_attempts, sources
from aggregator.store.sources import stored_error

KEPT_PER_SOURCE = 20

POLL_NOW = "poll-now"  # the audit log's name for a staff "poll now"




# Built once: a poll writes its row and prunes in two statements compiled once per process.
_INSERT = insert(poll_attempts)
_PRUNE = delete(poll_attempts).where(
    poll_attempts.c.source_id == bindparam("b_source_id"),
    poll_attempts.c.id.not_in(
        select(poll_attempts.c.id)
        .where(poll_attempts.c.source_id == bindparam("b_source_id"))
        .order_by(poll_attempts.c.attempted_at.desc(), poll_attempts.c.id.desc())
        .limit(KEPT_PER_SOURCE)
        .scalar_subquery()
    ),
)


def record_attempt(connection: Connection, outcome: PollOutcome, counts: WriteCounts) -> None:
    """Add one poll to its source's history and drop what falls beyond the last
    KEPT_PER_SOURCE, in the caller's (the poll's) transaction."""
    connection.execute(
        _INSERT,
        {
            "source_id": outcome.source_id,
            "attempted_at": outcome.attempted_at,
            "status": outcome.status,
            "new_reports": counts.new + counts.merged,
            "updated_reports": counts.updated,
            "http_status": outcome.http_status,
            "elapsed_ms": outcome.elapsed_ms,
            "error": stored_error(outcome),
        },
    )
    connection.execute(_PRUNE, {"b_source_id": outcome.source_id})


def recent_attempts(db: Database, source_ids: Sequence[str]) -> dict[str, list[PollAttempt]]:
    """The kept polls of each of these sources, newest first (a source never polled: [])."""
    found: dict[str, list[PollAttempt]] = {source_id: [] for source_id in source_ids}
    if not source_ids:
        return found
    with db.reading() as connection:
        rows = connection.execute(
            select(poll_attempts)
            .where(poll_attempts.c.source_id.in_(source_ids))
            .order_by(
                poll_attempts.c.source_id,
                poll_attempts.c.attempted_at.desc(),
                poll_attempts.c.id.desc(),
            )
        )
        for row in rows:
            found[row.source_id].append(
                PollAttempt(
                    attempted_at=row.attempted_at,
                    status=row.status,
                    new_reports=row.new_reports,
                    updated_reports=row.updated_reports,
                    http_status=row.http_status,
                    elapsed_ms=row.elapsed_ms,
                    error=row.error,
                )
            )
    return found


def poll_now(db: Database, source_id: str, actor: str, now: datetime) -> None:
    """Make the source due at `now`, so the running workers poll it on their next tick (a
    poll under way keeps its lease and sets the next time itself), with an audit row."""
    with db.writing() as connection:
        changed = connection.execute(
            update(sources)
            .where(sources.c.id == source_id, sources.c.enabled, ~sources.c.removed)
            .values(next_poll=now)
        ).rowcount
        if not changed:
            raise StoreError(f"there is no enabled source {source_id!r} to poll")
        log_action(
            connection,
            StaffAction(
                at=now, actor=actor, action=POLL_NOW, entry_uid="", detail={"source": source_id}
            ),
        )
