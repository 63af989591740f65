"""Poll counters kept in the database, so that every process reports the same numbers.

The web app serves `/metrics` and the workers poll: they are different processes (and on
PostgreSQL, several workers on several machines), so in-memory counters would each tell a
part of the story and reset on every restart. `record_poll` adds one poll's numbers in the
poll's own transaction (a poll that is not written is not counted); `read_poll_stats` reads
them all.

Each counter is one row, added to with an upsert, so concurrent workers never lose an
increment nor abort each other's poll over a first insert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from aggregator.models import PollOutcome, WriteCounts
from aggregator.schema import metric_counters

# Upper bounds of the fetch latency histogram, in seconds (the fetch deadline is 30 s).
LATENCY_BUCKETS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_INFINITY = "+Inf"

POLLS = "polls"  # label: the poll status
ENTRIES = "entries"  # label: new, updated
MERGES = "merges"
LATENCY_BUCKET = "fetch_latency_bucket"  # label: the bucket's upper bound; not cumulative
LATENCY_SUM_MS = "fetch_latency_sum_ms"
LATENCY_COUNT = "fetch_latency_count"


@dataclass(frozen=True, slots=True)
class PollStats:
    """Every counter, as (name, label) → value; a counter never incremented is absent."""

    counters: Mapping[tuple[str, str], int]

    def value(self, name: str, label: str = "") -> int:
        return self.counters.get((name, label), 0)

    def latency_buckets(self) -> list[tuple[str, int]]:
        """(upper bound, cumulative count) for each bucket, then +Inf: Prometheus's shape."""
        cumulative = 0
        buckets: list[tuple[str, int]] = []
        for bound in (*(_bound_label(b) for b in LATENCY_BUCKETS), _INFINITY):
            cumulative += self.value(LATENCY_BUCKET, bound)
            buckets.append((bound, cumulative))
        return buckets


def record_poll(connection: Connection, outcome: PollOutcome, counts: WriteCounts) -> None:
    """Add one poll to the counters, in the caller's (the poll's) transaction."""
    increments: dict[tuple[str, str], int] = {(POLLS, outcome.status): 1}
    if counts.new:
        increments[(ENTRIES, "new")] = counts.new
    if counts.updated:
        increments[(ENTRIES, "updated")] = counts.updated
    if counts.merged:
        increments[(MERGES, "")] = counts.merged
    if outcome.elapsed_ms > 0 or outcome.http_status is not None:
        # A poll that never reached the network (an internal error) has no latency.
        increments[(LATENCY_BUCKET, latency_bucket(outcome.elapsed_ms))] = 1
        increments[(LATENCY_SUM_MS, "")] = outcome.elapsed_ms
        increments[(LATENCY_COUNT, "")] = 1
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
            return _bound_label(bound)
    return _INFINITY


def _bound_label(bound: float) -> str:
    return f"{bound:g}"
