"""Why two reports are one story, or two, in words a person reads: one sentence per pair,
in Traditional Chinese or English.

Each merge rule has a sentence builder (`RULES`); a rule without one (a new rule of
`aggregator.dedupe`) is told by its name and score, so a new signal never breaks a page.
The vetoes that keep two reports apart are told the same way (`VETOES`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

from aggregator.dedupe.decision import WINDOW, MergeExplanation, MergeSignals

Language = Literal["zh-Hant", "en"]

# A rule's sentence from its score (0..1) and, when the pair was compared, its signals.
RuleWords = Callable[[Language, float | None, MergeSignals | None], str]


def _percent(value: float | None) -> str:
    return "" if value is None else f"{round(value * 100)}%"


def _first(language: Language, score: float | None, signals: MergeSignals | None) -> str:
    return "最先收到的報導" if language == "zh-Hant" else "The first report of the story"


def _same_url(language: Language, score: float | None, signals: MergeSignals | None) -> str:
    return "同一網址" if language == "zh-Hant" else "Same link"


def _near_identical(language: Language, score: float | None, signals: MergeSignals | None) -> str:
    if language == "zh-Hant":
        return f"內文幾乎相同 {_percent(score)}"
    return f"Nearly identical text, {_percent(score)}"


def _same_text(language: Language, score: float | None, signals: MergeSignals | None) -> str:
    if language == "zh-Hant":
        return f"內文相同 {_percent(score)}"
    return f"The same text, {_percent(score)}"


def _contained(language: Language, score: float | None, signals: MergeSignals | None) -> str:
    if language == "zh-Hant":
        return f"摘錄：短文 {_percent(score)} 見於長文"
    return f"An excerpt: {_percent(score)} of the shorter text is in the longer one"


def _rewrite(language: Language, score: float | None, signals: MergeSignals | None) -> str:
    if signals is None:
        if language == "zh-Hant":
            return f"改寫：相似度 {_percent(score)}"
        return f"A rewrite: {_percent(score)} alike"
    shared, contained = _percent(signals.jaccard), _percent(signals.containment)
    if language == "zh-Hant":
        return (
            f"改寫：內文 {shared} 相同，短文 {contained} 見於長文，"
            f"共有 {signals.shared_figures} 個數字"
        )
    return (
        f"A rewrite: {shared} of the text shared, {contained} of the shorter text in the"
        f" longer, {signals.shared_figures} figures in common"
    )


def _same_figures(language: Language, score: float | None, signals: MergeSignals | None) -> str:
    if signals is None:
        if language == "zh-Hant":
            return f"改寫：數字相符 {_percent(score)}"
        return f"A rewrite: its figures agree, {_percent(score)}"
    figures, contained = signals.shared_figures, _percent(signals.figures_contained)
    if language == "zh-Hant":
        return f"改寫：共有 {figures} 個數字（較少一方的 {contained}）"
    return f"A rewrite: {figures} figures in common ({contained} of the fewer)"


def _forced(language: Language, score: float | None, signals: MergeSignals | None) -> str:
    return "由編輯合併" if language == "zh-Hant" else "Merged by staff"


def _split(language: Language, score: float | None, signals: MergeSignals | None) -> str:
    return "由編輯分出" if language == "zh-Hant" else "Split off by staff"


RULES: Mapping[str, RuleWords] = {
    "first": _first,
    "same-url": _same_url,
    "near-identical": _near_identical,
    "same-text": _same_text,
    "contained-text": _contained,
    "rewrite": _rewrite,
    "same-figures": _same_figures,
    "forced": _forced,
    "split": _split,
}

# The sentence of the veto (or missing rule) that kept a pair apart, by its name in
# `MergeExplanation.rule`.
VetoWords = Callable[[Language, MergeSignals], str]


def _same_source(language: Language, signals: MergeSignals) -> str:
    return "同一來源的兩篇報導" if language == "zh-Hant" else "Two reports of one source"


def _numbers_differ(language: Language, signals: MergeSignals) -> str:
    # A fact reads "context: values ≠ values"; the person wants the values. One conflict
    # alone is a rewrite's slip unless the titles are one series' or few figures agree.
    values = "；".join(fact.split(": ", 1)[-1] for fact in signals.conflicting_facts)
    single = len(signals.conflicting_facts) == 1
    if language == "zh-Hant":
        why = ""
        if single:
            why = "（同一系列的標題）" if signals.series_title else (
                f"（相符的數字只有 {signals.shared_figures} 個）"
            )
        return f"數字不符：{values}{why}"
    why = ""
    if single:
        why = " (one series' title)" if signals.series_title else (
            f" (only {signals.shared_figures} figures agree)"
        )
    return f"The numbers differ: {values.replace('；', '; ')}{why}"


def _far_apart(language: Language, signals: MergeSignals) -> str:
    if language == "zh-Hant":
        return f"相隔超過 {WINDOW.days} 天"
    return f"More than {WINDOW.days} days apart"


def _not_alike(language: Language, signals: MergeSignals) -> str:
    if language == "zh-Hant":
        return (
            f"內文不夠相似：{_percent(signals.jaccard)} 相同，"
            f"共有 {signals.shared_figures} 個數字"
        )
    return (
        f"The texts are not alike enough: {_percent(signals.jaccard)} shared,"
        f" {signals.shared_figures} figures in common"
    )


VETOES: Mapping[str, VetoWords] = {
    "same-source": _same_source,
    "facts-conflict": _numbers_differ,
    "outside-window": _far_apart,
    "no-rule": _not_alike,
}


def rule_sentence(
    rule: str, score: float | None, language: Language, signals: MergeSignals | None = None
) -> str:
    """How a report joined its entry, from the rule the store recorded and its score."""
    words = RULES.get(rule)
    if words is None:
        return rule if score is None else f"{rule} {_percent(score)}"
    return words(language, score, signals)


def pair_sentence(explanation: MergeExplanation, language: Language) -> str:
    """Why the two reports of `explanation` are one story, or what keeps them apart."""
    decision, signals = explanation.decision, explanation.signals
    if decision is not None:
        return rule_sentence(decision.rule, decision.score, language, signals)
    return VETOES.get(explanation.rule, _not_alike)(language, signals)
