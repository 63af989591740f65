"""Text normalisation: spellings a reader calls the same compare equal."""

from __future__ import annotations

import pytest

from aggregator.text.normalize import normalize


@pytest.mark.parametrize(
    ("written", "plain"),
    [
        ("ＡＱＩ１５５", "aqi155"),
        ("ＰＭ２．５", "pm2.5"),
        ("１,２００人", "1200人"),
    ],
)
def test_full_width_letters_and_digits_become_ascii(written: str, plain: str) -> None:
    assert normalize(written) == plain


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("臺北市政府", "台北市政府"),
        ("颱風警報", "台风警报"),
        ("高雄市長陳其邁", "高雄市长陈其迈"),
        ("衞生局", "衛生局"),
    ],
)
def test_variant_and_simplified_characters_compare_equal(one: str, other: str) -> None:
    assert normalize(one) == normalize(other)


def test_case_is_folded() -> None:
    assert normalize("YouBike Taipei CAFÉ") == normalize("youbike taipei café")


@pytest.mark.parametrize(
    "punctuated",
    [
        "高雄，今日！",
        "高雄。 今日",
        "「高雄」『今日』",
        "高雄\u3000\n\t今日",
        "高雄——今日……",
        "高雄,今日!",
    ],
)
def test_punctuation_and_whitespace_fold_to_one_space(punctuated: str) -> None:
    assert normalize(punctuated) == "高雄 今日"


@pytest.mark.parametrize(
    "written", ["今(22)日", "今（22）日", "今(２２)日", "今天(22日)", "今天（22日）", "22日"]
)
def test_relative_day_becomes_the_plain_date(written: str) -> None:
    assert normalize(f"市府{written}表示") == "市府22日表示"


def test_yesterday_keeps_its_own_date() -> None:
    assert normalize("昨（21）日") == "21日"


def test_decimal_points_stay_and_thousands_separators_go() -> None:
    assert normalize("PM2.5濃度3.5，共1,234,567人") == "pm2.5浓度3.5 共1234567人"


def test_empty_text_stays_empty() -> None:
    assert normalize(" \n。") == ""
