"""The migrations build exactly the schema the store's code describes."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from aggregator.migrate import alembic_config, is_current, upgrade
from aggregator.schema import metadata
from aggregator.search.index import is_search_index_table
from aggregator.store import StoreUnavailable


def outside_search_index(name: str | None, type_: str, _parent: object) -> bool:
    # The search index's tables (on SQLite an FTS5 virtual table and its shadow tables) are
    # not in schema.metadata: `aggregator.search` owns them.
    return not (type_ == "table" and name is not None and is_search_index_table(name))


def test_an_empty_database_is_not_current(db_url: str) -> None:
    assert not is_current(db_url)


def test_upgrade_from_empty_makes_the_database_current(db_url: str) -> None:
    upgrade(db_url)

    assert is_current(db_url)


def test_upgrade_twice_changes_nothing(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)

    assert is_current(db_url)


def test_the_migrated_database_matches_the_schema_metadata(db_url: str) -> None:
    upgrade(db_url)

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_name": outside_search_index}
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_upgrade_of_an_unreachable_database_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="does not answer"):
        upgrade(f"sqlite:///{tmp_path}/no/such/directory/store.db")


def test_the_migrations_form_one_line_of_history() -> None:
    # `upgrade` goes to "head": a second head (two branches added in parallel) would be
    # left out, or refused, until someone merges them.
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()

    assert len(heads) == 1, f"migration heads {heads}: merge them with `alembic merge`"


def test_upgrading_an_existing_store_records_each_sources_host(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
            connection.execute(
                text(
                    "INSERT INTO sources (id, url, categories, interval_s, priority, enabled,"
                    " removed, failures, entries) VALUES ('kcg', 'https://WWW.KCG.gov.tw/rss',"
                    " '[]', 900, 0, true, false, 0, 0)"
                )
            )
        upgrade(db_url)
        with engine.connect() as connection:
            host = connection.scalar(text("SELECT host FROM sources WHERE id = 'kcg'"))
    finally:
        engine.dispose()

    assert host == "www.kcg.gov.tw"
