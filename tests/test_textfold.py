"""fold(): spellings a reader calls the same word become the same string, length kept."""

import pytest

from aggregator.text.fold import fold

SAME_WORD = [
    pytest.param("臺北", "台北", id="tai-variant"),
    pytest.param("颱風", "台风", id="simplified-query-finds-traditional"),
    pytest.param("高雄市政府", "高雄市政府", id="plain-traditional"),
    pytest.param("峯", "峰", id="feng-variant"),
    pytest.param("裏", "裡", id="li-variant"),
    pytest.param("綫", "線", id="xian-variant"),
    pytest.param("着", "著", id="zhe-variant"),
    pytest.param("衞生局", "衛生局", id="wei-variant"),
    pytest.param("發展", "发展", id="simplified"),
    pytest.param("ＧＴＣ　２０２５", "gtc 2025", id="full-width-ascii"),
    pytest.param("Kaohsiung MRT", "kaohsiung mrt", id="ascii-case"),
]


@pytest.mark.parametrize(("one", "other"), SAME_WORD)
def test_variant_spellings_fold_to_the_same_string(one: str, other: str) -> None:
    assert fold(one) == fold(other)


def test_different_words_stay_different() -> None:
    assert fold("高雄") != fold("台北")


MESSY_TEXT = [
    "",
    "臺灣颱風停班停課，ＧＴＣ 2025！",
    "İstanbul ß ﬁ",  # characters whose str.lower()/casefold() would change length
    "emoji 🌀 and combining e\u0301",
    "\x00\ufffd\U0010ffff",
]


@pytest.mark.parametrize("text", MESSY_TEXT)
def test_fold_keeps_the_length_so_positions_map_back(text: str) -> None:
    assert len(fold(text)) == len(text)


@pytest.mark.parametrize("text", MESSY_TEXT)
def test_folding_twice_changes_nothing(text: str) -> None:
    assert fold(fold(text)) == fold(text)
