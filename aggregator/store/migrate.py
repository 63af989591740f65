"""Schema migrations (Alembic), run from code: `upgrade(url)` and `is_current(url)`.

The scripts live in `aggregator/store/migrations/`; no alembic.ini is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from aggregator.store.engine import make_engine
from aggregator.store.errors import StoreUnavailable

SCRIPT_LOCATION = "aggregator.store:migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def upgrade(url: str) -> None:
    """Apply every migration the database at `url` lacks, in one transaction.
    Raises StoreUnavailable when the database does not answer."""
    with _connected(url) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            # A migration may rewrite a large table: no per-statement limit for it.
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_current(url: str) -> bool:
    """Whether the database at `url` has every migration applied."""
    with _connected(url) as connection:
        return schema_is_current(connection)


def schema_is_current(connection: Connection) -> bool:
    """Whether the database on `connection` has exactly the migrations this code has."""
    applied = frozenset(MigrationContext.configure(connection).get_current_heads())
    return applied == _code_heads()


@cache  # the scripts do not change while the process runs; reading them takes milliseconds
def _code_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


@contextmanager
def _connected(url: str) -> Iterator[Connection]:
    engine = make_engine(url)
    try:
        try:
            connection = engine.connect()
        except DBAPIError as error:
            raise StoreUnavailable(
                f"the database at {engine.url.render_as_string(hide_password=True)}"
                f" does not answer: {error.orig}"
            ) from error
        with connection:
            yield connection
    finally:
        engine.dispose()
