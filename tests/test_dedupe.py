"""Near-duplicate detection, specified on the labelled set in tests/data/dedup/.

One test per republication transformation and one per hard negative, so a regression
names its cause; then the parts: boilerplate removal, containment, the time window,
the stored fingerprint.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from aggregator.dedupe import (
    Candidate,
    Fingerprint,
    candidate_from_report,
    choose_entry,
    decide_merge,
    explain_merge,
    fingerprint,
    fingerprint_report,
    learn_boilerplate,
    strip_boilerplate,
    strip_title_affixes,
)
from aggregator.dedupe.decision import (
    CONTAINED,
    FIGURES_CONTAINED,
    REWRITE_JACCARD,
    SHARED_FIGURES,
    SLIP_AGREEING_FIGURES,
)
from aggregator.models import Report
from tests.dedup_corpus import (
    Item,
    cluster,
    hard_negatives,
    load_items,
    pair_counts,
    transformations,
)

TRANSFORMATIONS = transformations(load_items())
HARD_NEGATIVES = hard_negatives(load_items())


@cache
def corpus() -> dict[str, Item]:
    return load_items()


def of_kind(kind: str) -> list[Item]:
    return [item for item in corpus().values() if item.kind == kind]


def entries_of(stories: set[str]) -> dict[str, list[Candidate]]:
    """The stored entries of `stories`, every report of each attached, as the store holds them."""
    entries: dict[str, list[Candidate]] = {story: [] for story in stories}
    for item in corpus().values():
        if item.story in stories:
            entries[item.story].append(item.candidate)
    return entries


# --- the evaluation set: one test per kind -----------------------------------------


@pytest.mark.parametrize("kind", TRANSFORMATIONS)
def test_republication_is_found_and_merged_with_its_original(kind: str) -> None:
    missed = []
    for item in of_kind(kind):
        original = corpus()[item.of or ""].candidate
        found = set(item.candidate.fingerprint.band_keys) & set(original.fingerprint.band_keys)
        if not found or decide_merge(item.candidate, original) is None:
            missed.append(item.id)
    assert missed == []


@pytest.mark.parametrize("kind", HARD_NEGATIVES)
def test_hard_negative_joins_no_entry_of_another_story(kind: str) -> None:
    joined = []
    for item in of_kind(kind):
        others = {other.story for other in of_kind(kind)} | {
            corpus()[against].story for against in item.against
        }
        choice = choose_entry(item.candidate, entries_of(others - {item.story}))
        if choice:
            joined.append((item.id, choice))
    assert joined == []


def test_merging_the_whole_set_meets_the_issue_targets() -> None:
    items = list(corpus().values())
    overall = pair_counts(items, cluster(items))["all"]
    assert overall.precision >= 0.98
    assert overall.recall >= 0.90


# --- boilerplate ---------------------------------------------------------------------

STORY = "高雄市政府今(22)日表示，將擴大登革熱防治。"


def test_subheadings_of_a_rewrite_are_removed() -> None:
    text = f"【前鎮瑞隆里2例　研判社區感染】\n{STORY}\n■巡倒清刷"
    assert strip_boilerplate(text) == STORY


@pytest.mark.parametrize(
    "tagged",
    ["【中央社】高雄燈會登場", "〔即時新聞〕高雄燈會登場", "[快訊] 高雄燈會登場",
     "高雄燈會登場 | 南方日報", "高雄燈會登場｜新聞視界"],
)
def test_title_tags_and_site_names_are_removed(tagged: str) -> None:
    assert strip_title_affixes(tagged) == "高雄燈會登場"


def source_entries(stories: list[str]) -> list[str]:
    return [f"南方日報訊\n{story}\n本報訊息歡迎轉載，請註明出處。" for story in stories]


STORIES = ["高雄燈會今晚點燈。", "北市公車路線調整。", "颱風假明日停班停課。", "烏魚季豐收。"]


def test_a_sources_repeated_header_and_footer_are_learnt() -> None:
    learnt = learn_boilerplate(source_entries(STORIES))
    new_entry = source_entries(["北市跨年晚會登場。"])[0]
    assert strip_boilerplate(new_entry, learnt) == "北市跨年晚會登場。"


def test_nothing_is_learnt_from_fewer_than_three_entries() -> None:
    assert learn_boilerplate(source_entries(STORIES[:2])) == frozenset()


# --- similarity and the decision -----------------------------------------------------


def test_english_copies_merge_across_case_and_punctuation() -> None:
    text = ("The city council approved the new bus routes on Monday. Service starts in July, "
            "with 8 routes changed and about 40,000 riders affected each day.")
    original = Candidate("en-city", "a", datetime(2025, 6, 2, tzinfo=UTC), fingerprint("Bus", text))
    copy = Candidate(
        "en-portal", "b", datetime(2025, 6, 2, 3, tzinfo=UTC),
        fingerprint("BUS ROUTES CHANGE", text.upper().replace(",", "").replace(".", " ..."))
    )
    decision = decide_merge(copy, original)
    assert decision is not None and decision.rule == "same-text"


def test_truncated_summary_is_contained_in_its_full_text() -> None:
    original = corpus()["k03"]
    summary = replace(
        original.candidate,
        source_id="digest",
        fingerprint=fingerprint(original.title, original.text[:90] + "…"),
    )
    decision = decide_merge(summary, original.candidate)
    assert decision is not None and decision.rule == "contained-text"


def test_the_decision_says_which_rule_merged_and_how_strongly() -> None:
    copy = corpus()["k01-tracking_link"].candidate
    decision = decide_merge(copy, corpus()["k01"].candidate)
    assert decision is not None and decision.rule == "same-text" and decision.score == 1.0


def test_an_edited_copy_days_later_is_a_new_story() -> None:
    light_edit = corpus()["k04-light_edits"].candidate
    later = replace(light_edit, published=light_edit.published + timedelta(days=10))
    assert decide_merge(later, corpus()["k04"].candidate) is None


def test_an_identical_copy_merges_even_days_later() -> None:
    copy = corpus()["k04-tracking_link"].candidate
    later = replace(copy, published=copy.published + timedelta(days=10))
    decision = decide_merge(later, corpus()["k04"].candidate)
    assert decision is not None and decision.rule == "near-identical"


def test_one_different_number_with_few_other_figures_agreeing_keeps_copies_apart() -> None:
    # 增加5元 → 增加8元, and only 5 other figures to say it is a slip: two programmes.
    original = corpus()["k06"]
    altered = replace(
        original.candidate,
        source_id="portal",
        fingerprint=fingerprint(original.title, original.text.replace("增加5元", "增加8元")),
    )
    explanation = explain_merge(altered, original.candidate)
    assert explanation.decision is None and explanation.rule == "facts-conflict"
    assert len(explanation.signals.conflicting_facts) == 1
    assert explanation.signals.shared_figures < SLIP_AGREEING_FIGURES


def test_one_wrong_number_in_a_rewrite_whose_other_figures_agree_is_a_slip() -> None:
    # 超過80萬人次 written as 60萬, ten other figures the same: the same story.
    rewrite, original = corpus()["h01-rewrite-wrong-number"], corpus()["h01"]
    explanation = explain_merge(rewrite.candidate, original.candidate)
    assert len(explanation.signals.conflicting_facts) == 1
    assert explanation.signals.shared_figures >= SLIP_AGREEING_FIGURES
    assert explanation.decision is not None


def test_one_different_number_under_one_series_title_keeps_reports_apart() -> None:
    # The mayor's schedule of 3 March and its portal copy of 4 March: one date differs,
    # most times agree, and the title is the series' own.
    explanation = explain_merge(corpus()["sched-0304-portal"].candidate,
                                corpus()["sched-0303"].candidate)
    assert explanation.signals.series_title
    assert explanation.decision is None and explanation.rule == "facts-conflict"


def test_two_different_numbers_keep_a_template_apart_however_much_else_agrees() -> None:
    explanation = explain_merge(corpus()["air-0115-portal"].candidate,
                                corpus()["air-0114"].candidate)
    assert explanation.signals.containment >= CONTAINED
    assert len(explanation.signals.conflicting_facts) >= 2
    assert explanation.decision is None and explanation.rule == "facts-conflict"


def test_a_rewrite_that_rewords_most_sentences_merges_on_its_figures() -> None:
    # Little text in common (containment 0.25), but eleven figures with their units.
    explanation = explain_merge(corpus()["h01-rewrite"].candidate, corpus()["h01"].candidate)
    assert explanation.signals.jaccard < REWRITE_JACCARD
    assert explanation.decision is not None and explanation.rule == "same-figures"


def test_a_follow_up_within_the_window_restating_the_figures_stays_apart() -> None:
    # Two days later: 1,240戶, 780元, 3成, 6分鐘 again, around new figures (8,612件, 14%).
    follow_up = corpus()["h03-followup"]
    for other in ("h03", "h03-rewrite", "h03-flash"):
        explanation = explain_merge(follow_up.candidate, corpus()[other].candidate)
        assert explanation.signals.shared_figures >= SHARED_FIGURES
        assert explanation.signals.figures_contained < FIGURES_CONTAINED
        assert explanation.decision is None


def test_a_flash_that_abbreviates_the_city_and_bureau_still_merges() -> None:
    # 臺北市政府都市發展局 → 北市府都發局, 社會住宅 → 社宅, 今(2)日 → 2日, 臺 → 台.
    flash, original = corpus()["h03-flash"], corpus()["h03"]
    shared = set(flash.candidate.fingerprint.band_keys) & set(
        original.candidate.fingerprint.band_keys
    )
    assert shared
    assert decide_merge(flash.candidate, original.candidate) is not None


def test_a_related_news_list_naming_a_story_does_not_join_it() -> None:
    listing = corpus()["h04-related"]
    for other in ("h03", "h03-rewrite"):
        assert decide_merge(listing.candidate, corpus()[other].candidate) is None


def test_the_explanation_names_the_rule_that_merged() -> None:
    explanation = explain_merge(corpus()["k01-tracking_link"].candidate, corpus()["k01"].candidate)
    assert explanation.rule == "same-text" and explanation.decision is not None
    assert explanation.decision.rule == explanation.rule


def test_the_best_matching_entry_is_chosen() -> None:
    summary = replace(corpus()["t04-truncated_summary"].candidate, source_id="another-digest")
    choice = choose_entry(summary, entries_of({"t04", "t05", "t06"}))
    assert choice is not None and choice[0] == "t04"


# --- fingerprints for the store ------------------------------------------------------


def test_a_stored_fingerprint_reads_back_equal() -> None:
    stored = corpus()["t02-byline_related"].candidate.fingerprint
    assert Fingerprint.from_bytes(stored.to_bytes()) == stored


@pytest.mark.parametrize("damaged", [b"", b"not a fingerprint", b'{"v": 99}\n'])
def test_a_damaged_stored_fingerprint_is_refused_with_a_reason(damaged: bytes) -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        Fingerprint.from_bytes(damaged)


def test_a_report_in_html_merges_with_the_same_story_in_plain_text() -> None:
    original = corpus()["t07"]
    paragraphs = "".join(f"<p>{line}</p>" for line in original.text.splitlines())
    related = "<p>相關新聞</p><ul><li>別的新聞</li></ul>"
    report = Report(
        source_id="html-portal", identity="x", title=original.title, link=None,
        canonical_link=None, summary="", content=paragraphs + related,
        published=original.candidate.published, updated=original.candidate.published,
        content_hash="x",
    )
    candidate = candidate_from_report(report, fingerprint_report(report))
    decision = decide_merge(candidate, original.candidate)
    assert decision is not None and decision.rule == "same-text"
