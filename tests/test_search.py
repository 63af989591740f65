"""Searching stored entries (the store indexes as it writes): Chinese without segmentation,
variants, syntax, filters, order, paging, the time bound, keeping the index current, and
highlighting. SQLite always, PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from alembic import command
from sqlalchemy import Engine, insert, select, text

from aggregator.search.highlight import highlight
from aggregator.search.query import QueryError, parse_query
from aggregator.store import Store, make_engine, open_store
from aggregator.store import search_sql as sql
from aggregator.store.migrate import upgrade
from aggregator.store.schema import entries, entry_categories, reports
from aggregator.store.search_index import reindex_entries
from aggregator.store.search_sql import SearchPage, SearchTooSlow, search_entries
from tests.fixtures_db import migrated_to
from tests.storedata import outcome, report, source

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "search" / "entries.yaml").read_text())
CATEGORIES = {"kcg": ("kaohsiung",), "tpe": ("taipei",), "xinhua": ("china",)}
DAY_ONE = datetime(2025, 3, 1, tzinfo=UTC)


def corpus_report(identity: str, **changes: Any) -> Any:
    item = CORPUS[identity] | changes
    return report(
        item["source"],
        identity,
        title=item["title"],
        content=item["content"],
        published=DAY_ONE + timedelta(hours=item["hours"]),
    )


class Searcher:
    """Runs queries on a store and names the results by their corpus keys."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, text: str, **options: Any) -> SearchPage:
        with self.engine.connect() as connection:
            return search_entries(connection, parse_query(text), **options)

    def names(self, page: SearchPage) -> list[str]:
        with self.engine.connect() as connection:
            identity = dict(
                connection.execute(
                    select(reports.c.entry_id, reports.c.identity).where(
                        reports.c.entry_id.in_(page.entry_ids)
                    )
                ).all()
            )
        return [identity[entry_id] for entry_id in page.entry_ids]

    def find(self, text: str, **options: Any) -> list[str]:
        return self.names(self.page(text, **options))

    def find_set(self, text: str, **options: Any) -> set[str]:
        return set(self.find(text, **options))


@pytest.fixture
def engine(store: Store) -> Iterator[Engine]:
    made = make_engine(store.url)
    yield made
    made.dispose()


@pytest.fixture
def search(store: Store, engine: Engine) -> Searcher:
    store.sync_sources(
        [source(source_id, categories=categories) for source_id, categories in CATEGORIES.items()],
        DAY_ONE,
    )
    for source_id in CATEGORIES:
        identities = [key for key, item in CORPUS.items() if item["source"] == source_id]
        store.apply_poll(outcome(source_id, [corpus_report(key) for key in identities]))
    return Searcher(engine)


# --- Chinese without word segmentation -------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("颱風", {"typhoon-kaohsiung", "drill"}, id="two-chars"),
        pytest.param(
            "高雄",
            {"typhoon-kaohsiung", "gtc-conference", "metro-kaohsiung", "metro-words-apart"},
            id="two-chars-inside-longer-words",
        ),
        pytest.param("仁", {"renwu-roadwork"}, id="one-char"),
        pytest.param("停班停課", {"typhoon-kaohsiung"}, id="four-char-run"),
    ],
)
def test_short_chinese_queries_match_inside_unsegmented_text(
    search: Searcher, query: str, expected: set[str]
) -> None:
    assert search.find_set(query) == expected


def test_a_chinese_run_must_appear_in_order(search: Searcher) -> None:
    assert search.find_set("雄高") == set()


# --- variants -----------------------------------------------------------------------


@pytest.mark.parametrize("query", ["臺北", "台北"])
def test_tai_and_its_variant_find_each_other(search: Searcher, query: str) -> None:
    assert search.find_set(query) == {"taipei-official", "taipei-common"}


def test_a_simplified_query_finds_traditional_text(search: Searcher) -> None:
    assert search.find_set("台风") == {"typhoon-kaohsiung", "typhoon-simplified", "drill"}


def test_a_traditional_character_does_not_find_another_that_simplified_writes_alike(
    search: Searcher,
) -> None:
    # 颱 and 臺 are both 台 in Simplified; 台北 is 臺北, not a typhoon.
    assert search.find_set("颱") == {"typhoon-kaohsiung", "drill"}


def test_a_traditional_query_finds_simplified_only_characters(search: Searcher) -> None:
    assert search.find_set("警報") == {"typhoon-simplified"}


def test_full_width_letters_find_ascii_and_back(search: Searcher) -> None:
    assert search.find_set("ＧＴＣ") == search.find_set("gtc") == {"gtc-conference", "gtc-older"}


# --- syntax -------------------------------------------------------------------------


def test_mixed_chinese_and_english_words_must_all_match(search: Searcher) -> None:
    assert search.find_set("GTC 2025") == {"gtc-conference"}


def test_words_match_anywhere_but_a_phrase_only_in_sequence(search: Searcher) -> None:
    assert search.find_set("捷運 高雄") == {"metro-kaohsiung", "metro-words-apart"}
    assert search.find_set('"高雄 捷運"') == {"metro-kaohsiung"}


def test_or_finds_either(search: Searcher) -> None:
    assert search.find_set("仁武 OR 紅線") == {"renwu-roadwork", "metro-kaohsiung"}


def test_an_excluded_word_removes_its_entries(search: Searcher) -> None:
    assert search.find_set("台风 -演習") == {"typhoon-kaohsiung", "typhoon-simplified"}


def test_an_excluded_phrase_removes_only_entries_with_the_phrase(search: Searcher) -> None:
    assert search.find_set('高雄 -"紅線 延伸"') == {
        "typhoon-kaohsiung",
        "gtc-conference",
        "metro-words-apart",
    }


def test_content_is_searched_as_well_as_titles(search: Searcher) -> None:
    assert search.find_set("keynote") == {"gtc-conference"}


# --- filters ------------------------------------------------------------------------


def test_source_filter(search: Searcher) -> None:
    assert search.find_set("台风 source:xinhua") == {"typhoon-simplified"}


def test_category_filter(search: Searcher) -> None:
    assert search.find_set("台北 OR 颱風 category:taipei") == {"taipei-official", "taipei-common"}


def test_since_keeps_entries_published_from_that_day(search: Searcher) -> None:
    assert search.find_set("台风 since:2025-03-02") == set()
    assert search.find_set("台风 since:2025-03-01") == {
        "typhoon-kaohsiung",
        "typhoon-simplified",
        "drill",
    }


def test_until_keeps_entries_published_up_to_the_end_of_that_day(search: Searcher) -> None:
    assert search.find_set("台风 until:2025-02-28") == set()
    assert len(search.find("台风 until:2025-03-01")) == 3


def test_filters_alone_list_every_entry_they_select_newest_first(search: Searcher) -> None:
    newest_first = sorted(CORPUS, key=lambda key: -CORPUS[key]["hours"])
    assert search.find("category:kaohsiung category:taipei category:china") == newest_first
    assert search.find("source:kcg", order="relevance") == [
        key for key in newest_first if CORPUS[key]["source"] == "kcg"
    ]


def test_the_page_category_narrows_the_query(search: Searcher) -> None:
    assert search.find_set("台风", category="china") == {"typhoon-simplified"}


def test_the_page_source_narrows_the_query(search: Searcher) -> None:
    assert search.find_set("台北", source="tpe") == {"taipei-official", "taipei-common"}
    assert search.find_set("台北", source="kcg") == set()


# --- order and paging ---------------------------------------------------------------


def test_results_come_newest_first(search: Searcher) -> None:
    assert search.find("台风") == ["typhoon-kaohsiung", "typhoon-simplified", "drill"]


def test_by_relevance_an_older_title_match_ranks_above_a_newer_body_match(
    search: Searcher,
) -> None:
    assert search.find("市府") == ["taipei-official", "drill"]
    assert search.find("市府", order="relevance") == ["drill", "taipei-official"]


def test_relevance_ranks_only_the_newest_matches_so_its_cost_is_bounded(
    search: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql, "RELEVANCE_CANDIDATES", 1)

    assert search.find("市府", order="relevance") == ["taipei-official"]


@pytest.mark.parametrize("order", ["newest", "relevance"])
def test_pages_follow_each_other_without_gaps_or_repeats(search: Searcher, order: str) -> None:
    everything = search.find("高雄", order=order)
    first = search.page("高雄", order=order, limit=3)
    second = search.page("高雄", order=order, limit=3, cursor=first.next_cursor)

    assert search.names(first) + search.names(second) == everything
    assert second.next_cursor is None


def test_a_cursor_from_elsewhere_is_refused_with_the_reason(search: Searcher) -> None:
    with pytest.raises(QueryError, match="not one this search gave"):
        search.page("高雄", cursor="abc")


# --- bounded time -------------------------------------------------------------------


def test_a_search_past_its_time_limit_stops_with_a_reason(store: Store, engine: Engine) -> None:
    store.sync_sources([source("kcg")], DAY_ONE)
    body = "<p>高雄市政府</p>" * 20
    store.apply_poll(
        outcome(
            "kcg",
            [
                report("kcg", f"n{n}", title=f"高雄市政新聞第{n}則", content=body)
                for n in range(3000)
            ],
        )
    )

    with pytest.raises(SearchTooSlow, match="took longer than 1 ms"):
        Searcher(engine).page("高 OR 市 OR 政", order="relevance", time_limit_ms=1)


# --- keeping the index current --------------------------------------------------------


def test_a_changed_entry_is_found_by_its_new_words_only(store: Store, search: Searcher) -> None:
    store.apply_poll(
        outcome("kcg", changed=[report("kcg", "renwu-roadwork", title="仁武區道路施工結束")])
    )

    assert search.find_set("結束") == {"renwu-roadwork"}
    assert search.find_set("夜間封閉") == set()


def test_an_entry_removed_from_the_store_leaves_the_index(engine: Engine, search: Searcher) -> None:
    with engine.begin() as connection:
        (gone,) = search.page("仁武").entry_ids
        connection.execute(reports.delete().where(reports.c.entry_id == gone))
        connection.execute(entry_categories.delete().where(entry_categories.c.entry_id == gone))
        connection.execute(entries.delete().where(entries.c.id == gone))
        reindex_entries(connection, [gone])

    assert search.find_set("仁武") == set()


def test_the_migration_indexes_entries_stored_before_it(db_url: str) -> None:
    with migrated_to(db_url, "0001") as connection:
        connection.execute(
            insert(entries).values(
                uid="before-search",
                title="颱風前夕的高雄",
                summary="",
                content="",
                published=DAY_ONE,
                updated=DAY_ONE,
                first_seen=DAY_ONE,
            )
        )
    upgrade(db_url)

    made = make_engine(db_url)
    try:
        with made.connect() as connection:
            page = search_entries(connection, parse_query("颱風"))
            found = connection.scalars(
                select(entries.c.uid).where(entries.c.id.in_(page.entry_ids))
            ).all()
    finally:
        made.dispose()
    assert found == ["before-search"]


# --- what is indexed: every report's clean text --------------------------------------


def test_a_related_news_headline_does_not_make_its_story_match(
    store: Store, search: Searcher
) -> None:
    content = "<p>市府公告元旦交通管制措施。</p><h3>相關新聞</h3><ul><li>颱風逼近</li></ul>"
    store.apply_poll(outcome("tpe", [report("tpe", "with-related", content=content)]))

    assert "with-related" not in search.find_set("颱風")
    assert "with-related" in search.find_set("交通管制")


def test_a_name_only_a_merged_rewrite_mentions_finds_the_story(
    store: Store, search: Searcher
) -> None:
    link = "http://news.example/kcg/dengue"
    first = report("kcg", "dengue", link=link, content="<p>市府宣布擴大登革熱防治。</p>")
    rewrite = report(
        "tpe", "dengue-rewrite", link=link, content="<p>衛生局長黃志中宣布擴大登革熱防治。</p>"
    )
    store.apply_poll(outcome("kcg", [first]))
    store.apply_poll(outcome("tpe", [rewrite]))

    (merged,) = search.page("登革熱").entry_ids  # one entry: the rewrite joined the story
    assert search.page("黃志中").entry_ids == (merged,)


def test_the_migration_to_the_clean_text_index_reindexes_stored_entries(db_url: str) -> None:
    upgrade(db_url)
    opened = open_store(db_url)
    try:
        opened.sync_sources([source("tpe")], DAY_ONE)
        content = "<p>北市公告交通管制。</p><p>延伸閱讀</p><p>颱風來襲</p>"
        opened.apply_poll(outcome("tpe", [report("tpe", "before", content=content)]))
    finally:
        opened.close()
    with migrated_to(db_url, "0006", command.downgrade) as connection:
        # An index of the old code's tokens: here, one that has nothing in it.
        for table in ("entry_search", "entry_search_keys"):
            if connection.dialect.name == "sqlite" or table == "entry_search":
                connection.execute(text(f"DELETE FROM {table}"))
    upgrade(db_url)

    made = make_engine(db_url)
    try:
        found = Searcher(made)
        assert (found.find_set("交通管制"), found.find_set("颱風")) == ({"before"}, set())
    finally:
        made.dispose()


# --- highlighting ---------------------------------------------------------------------


def test_highlight_marks_matches_in_the_original_spelling() -> None:
    html = highlight("臺北市 GTC 2025", parse_query("台北 ｇｔｃ"))

    assert html == "<mark>臺北</mark>市 <mark>GTC</mark> 2025"


def test_highlight_escapes_the_text_around_and_inside_matches() -> None:
    html = highlight("<b>高雄</b> & <script>", parse_query("高雄"))

    assert html == "&lt;b&gt;<mark>高雄</mark>&lt;/b&gt; &amp; &lt;script&gt;"


def test_highlight_marks_a_phrase_across_the_spaces_inside_it() -> None:
    assert highlight("高雄 捷運", parse_query('"高雄捷運"')) == "<mark>高雄 捷運</mark>"


def test_highlight_does_not_mark_part_of_a_longer_word() -> None:
    assert highlight("GTCX GTC", parse_query("gtc")) == "GTCX <mark>GTC</mark>"


def test_highlight_marks_every_traditional_spelling_of_a_simplified_query() -> None:
    html = highlight("颱風過後 臺北 台北", parse_query("台风 OR 台北"))

    assert html == "<mark>颱風</mark>過後 <mark>臺北</mark> <mark>台北</mark>"


def test_highlight_does_not_mark_a_character_the_query_cannot_stand_for() -> None:
    assert highlight("臺北颱風", parse_query("颱")) == "臺北<mark>颱</mark>風"


def test_highlight_does_not_mark_excluded_terms() -> None:
    assert highlight("颱風演習", parse_query("颱風 -演習")) == "<mark>颱風</mark>演習"
