"""Poll counters kept in the database, so that every process reports the same numbers.

The web app serves `/metrics` and the workers poll: they are different processes (and on
PostgreSQL, several workers on several machines), so in-memory counters would each tell a
part of the story and reset on every restart. `record_polls` adds a batch's numbers in the
batch's own transaction (a poll that is not written is not counted); `read_poll_stats` reads
them all.

Each counter is one row, added to with an upsert, so concurrent workers never lose an
increment nor abort each other's poll over a first insert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from aggregator.models import (
    ENTRIES,
    INFINITY,
    LATENCY_BUCKET,
    LATENCY_BUCKETS,
    LATENCY_COUNT,
    LATENCY_SUM_MS,
    MERGES,
    POLLS,
    PollOutcome,
    PollStats,
    WriteCounts,
    bound_label,
)
from aggregator.store.schema import metric_counters


def record_polls(
    connection: Connection, polls: Sequence[tuple[PollOutcome, WriteCounts]]
) -> None:
    """Add a batch of written polls to the counters, in the caller's (the batch's)
    transaction: one upsert per counter a batch, so workers queue on these rows once a
    batch rather than once a poll."""
    increments: Counter[tuple[str, str]] = Counter()
    for outcome, counts in polls:
        increments[(POLLS, outcome.status)] += 1
        increments[(ENTRIES, "new")] += counts.new
        increments[(ENTRIES, "updated")] += counts.updated
        increments[(MERGES, "")] += counts.merged
        if outcome.elapsed_ms > 0 or outcome.http_status is not None:
            # A poll that never reached the network (an internal error) has no latency.
            increments[(LATENCY_BUCKET, latency_bucket(outcome.elapsed_ms))] += 1
            increments[(LATENCY_SUM_MS, "")] += outcome.elapsed_ms
            increments[(LATENCY_COUNT, "")] += 1
    increments = +increments  # a counter no poll added to is not written
    if not increments:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(metric_counters)
    statement = statement.on_conflict_do_update(
        index_elements=[metric_counters.c.name, metric_counters.c.label],
        set_={"value": metric_counters.c.value + statement.excluded.value},
    )
    # Sorted: concurrent workers lock the rows in one order and cannot deadlock.
    connection.execute(
        statement,
        [
            {"name": name, "label": label, "value": value}
            for (name, label), value in sorted(increments.items())
        ],
    )


def read_poll_stats(connection: Connection) -> PollStats:
    rows = connection.execute(
        select(metric_counters.c.name, metric_counters.c.label, metric_counters.c.value)
    )
    return PollStats({(row.name, row.label): int(row.value) for row in rows})


def latency_bucket(elapsed_ms: int) -> str:
    """The label of the smallest bucket that holds `elapsed_ms`."""
    for bound in LATENCY_BUCKETS:
        if elapsed_ms <= bound * 1000:
            return bound_label(bound)
    return INFINITY
