"""The migrations build exactly the schema the store's code describes."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from aggregator.models import EntryQuery
from aggregator.store import StoreUnavailable, open_store
from aggregator.store.migrate import alembic_config, is_current, upgrade
from aggregator.store.schema import metadata
from aggregator.store.search_index import is_search_index_table
from tests.fixtures_db import migrated_to
from tests.storedata import T0, outcome, report, source


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
    with migrated_to(db_url, "0002") as connection:
        connection.execute(
            text(
                "INSERT INTO sources (id, url, categories, interval_s, priority, enabled,"
                " removed, failures, entries) VALUES ('kcg', 'https://WWW.KCG.gov.tw/rss',"
                " '[]', 900, 0, true, false, 0, 0)"
            )
        )
    upgrade(db_url)
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            host = connection.scalar(text("SELECT host FROM sources WHERE id = 'kcg'"))
    finally:
        engine.dispose()

    assert host == "www.kcg.gov.tw"


RELEASE = (
    "高雄市政府今日宣布，為因應颱風來襲，全市各級學校明日停課一天，市民應避免外出。"
    "市長表示，各區公所已完成防災整備，災害應變中心將持續監控雨量與風速變化。"
    "工務局也派員巡查抽水站與低窪地區，確保排水功能正常運作。"
)


def test_a_story_stored_before_the_band_index_was_rebuilt_still_finds_its_copy(
    db_url: str,
) -> None:
    upgrade(db_url)
    store = open_store(db_url)
    store.sync_sources([source("kcg"), source("outlet")], T0)
    store.apply_poll(outcome("kcg", new=[report("kcg", "1", content=f"<p>{RELEASE}</p>")]))
    store.close()
    with migrated_to(db_url, "0005", command.downgrade):  # no fingerprints, no band index
        pass

    upgrade(db_url)
    store = open_store(db_url)
    copy = f"<p>【記者王小明／高雄報導】</p><p>{RELEASE}</p>"
    store.apply_poll(outcome("outlet", new=[report("outlet", "9", content=copy)]))
    entries = store.entries(EntryQuery()).entries
    store.close()

    assert [[r.source_id for r in entry.reports] for entry in entries] == [["kcg", "outlet"]]
