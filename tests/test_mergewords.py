"""Why two reports are one story, in words staff read: a sentence per pair in either
language, for every rule and veto, and a plain fallback for a rule not known yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.dedupe import Candidate, explain_merge, fingerprint
from aggregator.dedupe.decision import MergeDecision, MergeExplanation, MergeSignals
from aggregator.render.mergewords import pair_sentence, rule_sentence

DAY = datetime(2026, 12, 3, 9, tzinfo=UTC)
RELEASE = (
    "高雄市政府今日宣布，高雄港第二貨櫃中心擴建工程正式動工，總經費新臺幣1200億元，"
    "預計2029年完工，完工後每年可增加300萬個貨櫃的裝卸量。市長表示，港區擴建將帶動"
    "周邊產業發展，創造5000個就業機會。"
)


def candidate(source: str, text: str, published: datetime = DAY) -> Candidate:
    return Candidate(source, source, published, fingerprint("高雄港擴建", text))


def signals(**changed: object) -> MergeSignals:
    plain: dict[str, object] = {
        "same_source": False,
        "hours_apart": 1.0,
        "jaccard": 0.1,
        "containment": 0.2,
        "smaller_shingles": 100,
        "conflicting_facts": (),
        "shared_figures": 2,
        "figures_contained": 0.5,
        "series_title": False,
    }
    return MergeSignals(**(plain | changed))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "score", "chinese", "english"),
    [
        ("same-url", None, "同一網址", "Same link"),
        ("same-text", 0.92, "內文相同 92%", "The same text, 92%"),
        ("contained-text", 1.0, "摘錄：短文 100% 見於長文", "An excerpt: 100% of the shorter"),
        ("first", None, "最先收到的報導", "The first report"),
        ("forced", None, "由編輯合併", "Merged by staff"),
        ("split", None, "由編輯分出", "Split off by staff"),
    ],
)
def test_each_rule_reads_as_a_sentence(
    rule: str, score: float | None, chinese: str, english: str
) -> None:
    assert rule_sentence(rule, score, "zh-Hant") == chinese
    assert rule_sentence(rule, score, "en").startswith(english)


def test_a_rule_not_known_yet_is_told_by_its_name_and_score() -> None:
    assert rule_sentence("same-names", 0.615, "zh-Hant") == "same-names 62%"
    assert rule_sentence("same-names", None, "en") == "same-names"


def test_a_copy_of_the_release_reads_as_the_same_text() -> None:
    copied = explain_merge(candidate("cna", RELEASE), candidate("kcg", RELEASE))

    assert pair_sentence(copied, "zh-Hant") == "內文相同 100%"


def test_one_sources_two_reports_read_as_such() -> None:
    twice = explain_merge(candidate("kcg", RELEASE), candidate("kcg", RELEASE))

    assert pair_sentence(twice, "zh-Hant") == "同一來源的兩篇報導"
    assert pair_sentence(twice, "en") == "Two reports of one source"


def test_numbers_that_differ_are_named_with_why_one_was_enough() -> None:
    other_day = RELEASE.replace("1200億元", "1500億元")

    differing = explain_merge(candidate("cna", other_day), candidate("kcg", RELEASE))

    # The two reports carry one title: a series' (a template's, a daily notice's).
    assert pair_sentence(differing, "zh-Hant") == "數字不符：1500 ≠ 1200（同一系列的標題）"
    assert pair_sentence(differing, "en") == "The numbers differ: 1500 ≠ 1200 (one series' title)"


def test_one_number_differing_where_few_figures_agree_says_how_few() -> None:
    apart = MergeExplanation(
        signals(conflicting_facts=("經費: 1500 ≠ 1200",), shared_figures=3),
        None,
        "kept apart",
        "facts-conflict",
    )

    assert pair_sentence(apart, "zh-Hant") == "數字不符：1500 ≠ 1200（相符的數字只有 3 個）"


def test_reports_days_apart_say_so() -> None:
    late = explain_merge(
        candidate("cna", RELEASE[:60] + "後續報導。" * 20, DAY + timedelta(days=5)),
        candidate("kcg", RELEASE),
    )

    assert pair_sentence(late, "zh-Hant") == "相隔超過 3 天"
    assert pair_sentence(late, "en") == "More than 3 days apart"


def test_a_rewrite_says_how_much_it_shares() -> None:
    rewrite = MergeExplanation(
        signals(jaccard=0.45, containment=0.62, shared_figures=6),
        MergeDecision("rewrite", 0.535),
        "merged",
        "rewrite",
    )

    assert pair_sentence(rewrite, "zh-Hant") == (
        "改寫：內文 45% 相同，短文 62% 見於長文，共有 6 個數字"
    )


def test_a_rewrite_merged_on_its_figures_says_how_many() -> None:
    rewrite = MergeExplanation(
        signals(shared_figures=14, figures_contained=0.875),
        MergeDecision("same-figures", 0.3),
        "merged",
        "same-figures",
    )

    assert pair_sentence(rewrite, "zh-Hant") == "改寫：共有 14 個數字（較少一方的 88%）"
    assert pair_sentence(rewrite, "en") == "A rewrite: 14 figures in common (88% of the fewer)"


def test_texts_too_different_say_how_little_they_share() -> None:
    apart = MergeExplanation(signals(jaccard=0.08), None, "kept apart", "no-rule")

    assert pair_sentence(apart, "zh-Hant") == "內文不夠相似：8% 相同，共有 2 個數字"
    assert pair_sentence(apart, "en") == (
        "The texts are not alike enough: 8% shared, 2 figures in common"
    )
