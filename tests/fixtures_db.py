"""Database fixtures: a migrated store on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

`db_url` is an empty database (a fresh SQLite file, or a private PostgreSQL schema that is
dropped afterwards, so tests may run in parallel and beside other people's tests).
`store` is a migrated, open `Store` on it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from aggregator.store import Store, open_store
from aggregator.store.migrate import alembic_config, upgrade

POSTGRES_ENV = "TEST_DATABASE_URL"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}=postgresql+psycopg://...")
    with postgres_schema(server_url) as url:
        yield url


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A private schema on the PostgreSQL server at `server_url`, dropped afterwards;
    gives a URL whose connections use it as their search_path."""
    schema = f"t_{secrets.token_hex(6)}"
    _run_on(server_url, f"CREATE SCHEMA {schema}")
    try:
        url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        _run_on(server_url, f"DROP SCHEMA {schema} CASCADE")


def _run_on(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    upgrade(db_url)
    opened = open_store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty private schema on PostgreSQL, for tests of several processes sharing one
    database (SQLite allows one worker); skipped without TEST_DATABASE_URL."""
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}=postgresql+psycopg://...")
    with postgres_schema(server_url) as url:
        yield url


@contextmanager
def migrated_to(
    db_url: str, revision: str, step: Callable[[Config, str], None] = command.upgrade
) -> Iterator[Connection]:
    """A transaction on `db_url` once Alembic has taken it to `revision` (`step`:
    `command.upgrade`, or `command.downgrade` to go back), to store what an older schema held."""
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            step(config, revision)
            yield connection
    finally:
        engine.dispose()
