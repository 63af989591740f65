"""The search box language: each syntax element, and the reason given for what is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from aggregator.search.query import (
    MAX_QUERY_LENGTH,
    MAX_SPELLINGS,
    QueryError,
    SearchQuery,
    parse_query,
)


def required(query: SearchQuery) -> list[list[str]]:
    """The groups that must all match, each as the terms of which any may match."""
    return [[term.text for term in group] for group in query.all_of]


def test_several_words_must_all_match() -> None:
    assert required(parse_query("颱風 高雄")) == [["颱風"], ["高雄"]]


def test_a_chinese_run_is_a_phrase_of_its_characters() -> None:
    (term,) = parse_query("停班停課").terms

    assert term.tokens == (("停",), ("班",), ("停",), ("課", "课"))


def test_a_quoted_phrase_is_one_term() -> None:
    (term,) = parse_query('"GTC 2025"').terms

    assert term.tokens == (("gtc",), ("2025",))


def test_mixed_chinese_and_latin_keeps_latin_words_whole() -> None:
    (term,) = parse_query("高雄MRT").terms

    assert term.tokens == (("高",), ("雄",), ("mrt",))


def test_a_simplified_character_stands_for_each_traditional_one_it_may_be() -> None:
    (term,) = parse_query("台风").terms

    assert term.tokens == (("台", "檯", "颱"), ("风", "風"))


def test_a_term_with_too_many_spellings_is_refused_with_the_way_out() -> None:
    with pytest.raises(QueryError, match=f"the limit is {MAX_SPELLINGS}: split it"):
        parse_query("台风警报发布会议记录")


def test_the_same_term_split_into_words_is_accepted() -> None:
    assert len(parse_query("台风警报 发布会议 记录").terms) == 3


def test_or_joins_the_terms_on_either_side() -> None:
    assert required(parse_query("颱風 OR 地震 高雄")) == [["颱風", "地震"], ["高雄"]]


def test_lower_case_or_is_a_word() -> None:
    assert required(parse_query("this or that")) == [["this"], ["or"], ["that"]]


def test_minus_excludes_a_word_or_a_phrase() -> None:
    query = parse_query('颱風 -演習 -"防災 演習"')

    assert [term.text for term in query.none_of] == ["演習", "防災 演習"]
    assert required(query) == [["颱風"]]


def test_source_and_category_filters_repeat_as_alternatives() -> None:
    query = parse_query("颱風 source:kcg source:tpe category:kaohsiung")

    assert query.sources == ("kcg", "tpe")
    assert query.categories == ("kaohsiung",)


def test_since_and_until_cover_whole_days_in_the_given_zone() -> None:
    query = parse_query("颱風 since:2025-03-01 until:2025-03-31", zone=ZoneInfo("Asia/Taipei"))

    assert query.since == datetime(2025, 2, 28, 16, tzinfo=UTC)
    assert query.until == datetime(2025, 3, 31, 16, tzinfo=UTC)


def test_punctuation_alone_is_not_a_term() -> None:
    assert required(parse_query("颱風 ！ ...")) == [["颱風"]]


def test_filters_alone_are_a_filtered_list() -> None:
    query = parse_query("source:kcg since:2025-03-01")
    assert query.filters_only
    assert query.sources == ("kcg",)
    assert not parse_query("颱風 source:kcg").filters_only


REFUSED = [
    pytest.param("x" * (MAX_QUERY_LENGTH + 1), "characters long", id="too-long"),
    pytest.param(" ".join(f"w{n}" for n in range(11)), "11 terms", id="too-many-terms"),
    pytest.param("-演習", "besides exclusions", id="only-exclusions"),
    pytest.param("-演習 source:kcg", "besides exclusions", id="exclusions-and-filters"),
    pytest.param("", "no word to search for", id="empty"),
    pytest.param("！？", "no word to search for", id="only-punctuation"),
    pytest.param('"停班 停課', "quote at column 1 is never closed", id="unclosed-quote"),
    pytest.param("OR 颱風", "OR at column 1 needs a term before it", id="leading-or"),
    pytest.param("颱風 OR", "OR at column 4 needs a term after it", id="trailing-or"),
    pytest.param("颱風 OR -演習", "cannot be followed by an excluded term", id="or-exclusion"),
    pytest.param("颱風 OR since:2025-03-01", "cannot be followed by a since:", id="or-filter"),
    pytest.param("颱風 since:2025-13-01", "since: at column 4 needs a date", id="bad-date"),
    pytest.param("颱風 since:昨天", "needs a date such as since:2025-03-01", id="word-date"),
    pytest.param("a since:2025-03-01 since:2025-03-02", "since: is given twice", id="two-since"),
    pytest.param("颱風 source:", "source: at column 4 needs an id", id="empty-source"),
    pytest.param("颱風 category:高雄", "category: at column 4 needs an id", id="non-slug"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_a_refused_query_says_what_is_wrong_and_where(text: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        parse_query(text)
