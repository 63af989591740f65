"""What every store module passes around: result rows, ids in bounded batches, and
inserts that a key already present makes a no-op."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Connection, Row, Table
from sqlalchemy.dialects import postgresql, sqlite

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
# Bound parameters per statement stay well under SQLite's and psycopg's limits.
_IN_CHUNK = 1000
_T = TypeVar("_T")


def chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """`items` in slices small enough for one `IN (...)` list."""
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def insert_ignoring(connection: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert a row unless its key exists (also when another worker inserts it meanwhile);
    True when this call inserted it."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(dict(values)).on_conflict_do_nothing()
    # RETURNING, not rowcount: drivers disagree on the rowcount of a skipped insert.
    inserted = connection.execute(statement.returning(*table.primary_key.columns)).first()
    return inserted is not None
