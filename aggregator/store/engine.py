"""Connections to the store's database: engine settings (SQLite pragmas, timeouts),
reading and writing transactions, and the locks writers take turns on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from aggregator.store.errors import StoreUnavailable

# PostgreSQL transaction-level advisory lock keys (arbitrary, fixed). Claims and syncs
# change which sources are leased and exist; ingest writes entries (poll writers share it,
# staff actions and retention hold it alone).
CLAIM_LOCK = 0x61676701
INGEST_LOCK = 0x61676702
# Execution option marking a transaction that writes: on SQLite it starts with BEGIN IMMEDIATE,
# so a second writer waits for the lock (busy timeout) instead of failing on upgrade.
_WRITES = "aggregator_writes"
_SQLITE_BUSY_TIMEOUT_MS = 15_000
_POSTGRES_CONNECT_TIMEOUT_S = 5
# A partition that drops packets leaves sockets open: without these a request waits on
# the database for as long as the kernel retransmits (many minutes).
_POSTGRES_CONNECT_ARGS = {
    "connect_timeout": _POSTGRES_CONNECT_TIMEOUT_S,
    # An idle connection (waiting for a result) is probed after 10 s, given up after 3
    # unanswered probes 5 s apart.
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    # Data sent and not acknowledged for 15 s: the connection is gone.
    "tcp_user_timeout": 15_000,
}
# The server gives up a statement after this long (migrations lift the limit).
_POSTGRES_STATEMENT_TIMEOUT_MS = 60_000
# How long a request waits for a pooled connection when all are busy.
_POOL_CHECKOUT_TIMEOUT_S = 5


def make_engine(url: str) -> Engine:
    """An engine with the store's connection settings (SQLite pragmas, timeouts)."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed)
            _configure_sqlite(engine)
        else:
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                pool_timeout=_POOL_CHECKOUT_TIMEOUT_S,
                connect_args=_POSTGRES_CONNECT_ARGS,
            )
            _configure_postgres(engine)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise ValueError(
            f"{_safe_url(url)} is not a database URL the store can use: {error}"
        ) from error
    return engine


def _configure_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def set_statement_timeout(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {_POSTGRES_STATEMENT_TIMEOUT_MS}")
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own implicit BEGIN is switched off: the "begin" hook below emits it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(_WRITES, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


class Database:
    """Reading connections and writing transactions on one engine; a database that does
    not answer (or stops answering mid-way) raises StoreUnavailable."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.dialect: str = engine.dialect.name
        self._engine = engine
        self._writer = engine.execution_options(**{_WRITES: True})

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self._connect(self._engine) as connection, self._answering():
            yield connection

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        with self._connect(self._writer) as connection, self._answering(), connection.begin():
            yield connection

    def dispose(self) -> None:
        self._engine.dispose()

    def _connect(self, engine: Engine) -> Connection:
        try:
            return engine.connect()
        except DBAPIError as error:
            raise self._unavailable(error) from error
        except PoolTimeout as error:  # every pooled connection is busy, or stuck
            raise StoreUnavailable(
                f"the database at {_safe_url(self.url)} has no free connection: {error}"
            ) from error

    @contextmanager
    def _answering(self) -> Iterator[None]:
        """A connection lost mid-way is the database not answering, too."""
        try:
            yield
        except DBAPIError as error:
            if error.connection_invalidated:
                raise self._unavailable(error) from error
            raise

    def _unavailable(self, error: DBAPIError) -> StoreUnavailable:
        return StoreUnavailable(
            f"the database at {_safe_url(self.url)} does not answer: {error.orig}"
        )


def serialise(connection: Connection, key: int) -> None:
    """Hold the lock `key` until the transaction ends (PostgreSQL; on SQLite every writing
    transaction already holds the database's one write lock)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(key)))


def share(connection: Connection, key: int) -> None:
    """Hold the lock `key` shared until the transaction ends: with the other holders of a
    share, never with the holder of `serialise` (PostgreSQL; SQLite as `serialise`)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock_shared(key)))
