"""The store's version: a counter every visible change bumps, which web caches key on."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from aggregator.store.schema import store_meta


def bump_version(connection: Connection) -> None:
    connection.execute(
        update(store_meta).where(store_meta.c.key == "version").values(value=store_meta.c.value + 1)
    )


def read_version(connection: Connection) -> int:
    value = connection.scalar(select(store_meta.c.value).where(store_meta.c.key == "version"))
    return int(value or 0)
