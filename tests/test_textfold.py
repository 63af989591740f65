"""Folding: `fold` (the search index) joins only one character written two ways, and keeps
the length; `query_spellings` lets a Simplified query find the Traditional characters it may
stand for; `fold_simplified` (duplicate detection) goes on to Simplified."""

from collections.abc import Callable

import pytest

from aggregator.text.fold import fold, fold_simplified, query_spellings

SAME_CHARACTER = [
    pytest.param("臺北", "台北", id="tai-variant"),
    pytest.param("峯", "峰", id="feng-variant"),
    pytest.param("裏", "裡", id="li-variant"),
    pytest.param("綫", "線", id="xian-variant"),
    pytest.param("着", "著", id="zhe-variant"),
    pytest.param("麪", "麵", id="mian-variant"),
    pytest.param("衞生局", "衛生局", id="wei-variant"),
    pytest.param("ＧＴＣ　２０２５", "gtc 2025", id="full-width-ascii"),
    pytest.param("Kaohsiung MRT", "kaohsiung mrt", id="ascii-case"),
]


@pytest.mark.parametrize(("one", "other"), SAME_CHARACTER)
def test_true_variants_fold_to_the_same_string(one: str, other: str) -> None:
    assert fold(one) == fold(other)


# Traditional characters that Simplified writes alike, and other pairs that are different
# words in Taiwanese text: the index must keep them apart.
DISTINCT = [
    ("颱", "臺"), ("颱", "台"), ("後", "后"), ("乾", "幹"), ("乾", "干"), ("幹", "干"),
    ("發", "髮"), ("範", "范"), ("鐘", "鍾"), ("麵", "面"), ("髮", "发"), ("裡", "里"),
    ("颱風", "台风"), ("發展", "发展"),
]  # fmt: skip


@pytest.mark.parametrize(("one", "other"), DISTINCT)
def test_different_characters_stay_apart_in_the_index(one: str, other: str) -> None:
    assert fold(one) != fold(other)


@pytest.mark.parametrize(
    ("query", "finds"),
    [
        ("台", {"臺", "颱", "台"}),  # Simplified 台 may stand for 臺 or 颱
        ("风", {"風", "风"}),
        ("后", {"後", "后"}),
        ("面", {"麵", "面"}),
        ("發", {"發", "发"}),  # 发 is only ever Simplified: a Simplified text's 發
    ],
)
def test_a_query_character_finds_every_character_it_may_stand_for(
    query: str, finds: set[str]
) -> None:
    assert {fold(character) for character in finds} <= set(query_spellings(query))


@pytest.mark.parametrize(
    ("query", "never"),
    [
        ("颱", "臺"),  # 颱 is Traditional: it stands for itself only
        ("颱", "台"),  # 台 in Traditional text is 臺
        ("臺", "颱"),
        ("後", "后"),  # 后 is also a Traditional character (the empress)
        ("麵", "面"),
    ],
)
def test_a_traditional_query_character_does_not_find_others(query: str, never: str) -> None:
    assert fold(never) not in query_spellings(query)


def test_duplicate_detection_compares_simplified_and_traditional_as_one() -> None:
    assert fold_simplified("颱風警報 臺北") == fold_simplified("台风警报 台北")


MESSY_TEXT = [
    "",
    "臺灣颱風停班停課，ＧＴＣ 2025！",
    "İstanbul ß ﬁ",  # characters whose str.lower()/casefold() would change length
    "emoji 🌀 and combining e\u0301",
    "\x00\ufffd\U0010ffff",
]


@pytest.mark.parametrize("text", MESSY_TEXT)
@pytest.mark.parametrize("folding", [fold, fold_simplified])
def test_folding_keeps_the_length_so_positions_map_back(
    text: str, folding: Callable[[str], str]
) -> None:
    assert len(folding(text)) == len(text)


@pytest.mark.parametrize("text", MESSY_TEXT)
@pytest.mark.parametrize("folding", [fold, fold_simplified])
def test_folding_twice_changes_nothing(text: str, folding: Callable[[str], str]) -> None:
    assert folding(folding(text)) == folding(text)
