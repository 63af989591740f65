"""Alembic environment: runs migrations on the connection `aggregator.store.migrate` hands over.

The connection comes through `config.attributes["connection"]`, so the store's own engine
(with its SQLite pragmas) is used and no alembic.ini is needed.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from aggregator.store.schema import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: later migrations rebuild tables in batch mode.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "run migrations through aggregator.store.migrate.upgrade(url), not the alembic CLI"
    )
run_migrations(connection)
