"""What every store module passes around: result rows, and ids in bounded batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Row

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
# Bound parameters per statement stay well under SQLite's and psycopg's limits.
_IN_CHUNK = 1000
_T = TypeVar("_T")


def chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """`items` in slices small enough for one `IN (...)` list."""
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]
