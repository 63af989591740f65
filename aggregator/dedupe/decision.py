"""Decide whether a new report tells the same story as a stored one, and say why.

Signals, strongest first:
- guards: one source never reports one story twice under two identities (a second
  identity is a second story: the daily "市長今日公開行程", two releases of one bureau);
- the facts veto, which weighs the numbers and dates that conflict (the same context, a
  different value) against the figures both texts give (a number with its unit, "1240户",
  wherever it stands). Two or more conflicts veto: templates (air-quality notices, typhoon
  briefings, schedules) differ in several figures and little else, 2 to 5 on
  tests/data/dedup/. One conflict vetoes unless SLIP_AGREEING_FIGURES figures agree and
  neither title contains the other: a rewrite that dates a visit 2023 instead of 2025 or
  writes 60萬 for 80萬 keeps ten other figures (h01-rewrite-wrong-number: 10), while the
  look-alikes with one conflict share at most 5 (k06-kindergarten and k06's copies 4,
  k11-dementia 4, the altered k06 copy of the tests 5) and a daily series with one
  conflict and 7 agreeing figures is told apart by its title (one within the other);
  margin: one figure below, four above;
- the time window: reports more than WINDOW apart merge only when nearly identical, so a
  follow-up days later that reuses the names and background stays a new story;
- text overlap on character shingles: Jaccard for copies, containment for a copy that is
  an excerpt of the other (a truncated summary or a wire flash ending in "…"), and both
  together, more loosely, for an edited rewrite (整理報導) published within the window;
- the figures, for a rewrite that rewords most sentences (its 4-character shingles then
  overlap little, Jaccard 0.14-0.24 on the hand-written h01-h03 rewrites): SHARED_FIGURES
  shared, FIGURES_CONTAINED of the text with fewer, and some text in common. Rewrites and
  heavily abbreviated flashes measure 4-18 figures at 0.9-1.0 with containment 0.25-0.59;
  different stories with no conflict share at most 4 figures at ≤ 0.5 (a 相關新聞 list
  naming another story, with containment 0.03) or 2 (t06-sewer), and a follow-up two days
  later that restates 8 of the release's figures around new ones holds 0.57-0.62 of them:
  FIGURES_CONTAINED has the wide margin (0.62 vs 0.8), FIGURES_TEXT_CONTAINMENT the thin
  one (h01-rewrite at 0.25).
Titles are not a merge signal: republishers rewrite them freely and template releases
share them ("高雄地區空氣品質不良預警通知" every day); they find candidates, and a title
repeated within another only makes a single conflict a veto.

Thresholds are set from the labelled set in tests/data/dedup/ (bench/dedup.py scores
them): light edits keep Jaccard ≥ 0.69 and containment ≥ 0.97, truncated summaries
containment 1.0, edited rewrites Jaccard 0.35-0.57 with containment 0.55-0.78; different
stories of other sources within the window that no number tells apart stay at Jaccard
≤ 0.27 (containment ≤ 0.54): the rewrite rule's margin is the thinnest one.
Not yet weighed: how rare a shared n-gram is (names and places against 高雄市政府) and the
sources' cities; the figures stand in for the rare names in the measurements above.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.dedupe.facts import disagreements, number_tokens
from aggregator.dedupe.fingerprint import Fingerprint
from aggregator.dedupe.shingles import containment, jaccard

WINDOW = timedelta(days=3)
NEAR_IDENTICAL = 0.9  # Jaccard: merges at any distance in time
SAME_TEXT = 0.7  # Jaccard: light edits, bylines, a paragraph dropped or reordered
CONTAINED = 0.8  # containment: an excerpt or truncated summary of the other text
MIN_CONTAINED_SHINGLES = 30  # an excerpt shorter than ~35 characters proves nothing
REWRITE_JACCARD = 0.3  # an edited rewrite: both, within the window
REWRITE_CONTAINMENT = 0.5
# An edited rewrite that rewords most sentences: its figures with their units agree.
SHARED_FIGURES = 4
FIGURES_CONTAINED = 0.8
FIGURES_TEXT_CONTAINMENT = 0.2
# One conflicting number is a slip, not another story, when this many figures agree and
# the titles are not one series' title.
SLIP_AGREEING_FIGURES = 6


@dataclass(frozen=True, slots=True)
class Candidate:
    """One stored or incoming report, as the merge decision sees it."""

    source_id: str
    identity: str
    published: datetime
    fingerprint: Fingerprint


@dataclass(frozen=True, slots=True)
class MergeDecision:
    """Why two reports were merged: the rule that fired and its score (0..1)."""

    rule: str
    score: float


@dataclass(frozen=True, slots=True)
class MergeSignals:
    """Every signal the decision weighs, for two reports."""

    same_source: bool
    hours_apart: float
    jaccard: float  # of the two texts' shingles
    containment: float  # of the smaller text's shingles in the larger
    smaller_shingles: int
    conflicting_facts: tuple[str, ...]  # numbers or dates given differently in one context
    shared_figures: int  # numbers with their unit ("1240户") that both texts give
    figures_contained: float  # share of the text with fewer figures found in the other
    series_title: bool  # one title contains the other: a daily series or a template's title


@dataclass(frozen=True, slots=True)
class MergeExplanation:
    """The signals, the decision (None: kept apart), and the rule or veto that decided
    (`rule`: the merging rule's name, or the veto's or "no-rule" when kept apart)."""

    signals: MergeSignals
    decision: MergeDecision | None
    reason: str
    rule: str


def explain_merge(new: Candidate, existing: Candidate) -> MergeExplanation:
    """Whether `new` tells the same story as `existing`, with every signal and why."""
    first, second = new.fingerprint, existing.fingerprint
    first_figures, second_figures = number_tokens(first.facts), number_tokens(second.facts)
    shared_figures = len(first_figures & second_figures)
    fewer = min(len(first_figures), len(second_figures))
    titles = sorted((first.title_key, second.title_key), key=len)
    signals = MergeSignals(
        same_source=new.source_id == existing.source_id,
        hours_apart=abs(new.published - existing.published) / timedelta(hours=1),
        jaccard=jaccard(first.shingles, second.shingles),
        containment=containment(first.shingles, second.shingles),
        smaller_shingles=min(len(first.shingles), len(second.shingles)),
        conflicting_facts=disagreements(first.facts, second.facts),
        shared_figures=shared_figures,
        figures_contained=shared_figures / fewer if fewer else 0.0,
        series_title=bool(titles[0]) and titles[0] in titles[1],
    )
    rule, decision, reason = _decide(signals)
    return MergeExplanation(signals, decision, reason, rule)


def _decide(signals: MergeSignals) -> tuple[str, MergeDecision | None, str]:
    if signals.same_source:
        return "same-source", None, (
            "kept apart by the veto: one source, two identities, two stories"
        )
    conflicts = len(signals.conflicting_facts)
    if conflicts > 1:
        return "facts-conflict", None, "kept apart by the veto: several numbers or dates conflict"
    if conflicts == 1 and (
        signals.series_title or signals.shared_figures < SLIP_AGREEING_FIGURES
    ):
        return "facts-conflict", None, (
            "kept apart by the veto: a number or date conflicts"
            + (" under one series' title" if signals.series_title else
               f" and fewer than {SLIP_AGREEING_FIGURES} figures agree")
        )
    similarity, contained = signals.jaccard, signals.containment
    if signals.hours_apart > WINDOW / timedelta(hours=1):
        if similarity >= NEAR_IDENTICAL:
            return "near-identical", MergeDecision("near-identical", similarity), (
                f"merged by near-identical: jaccard ≥ {NEAR_IDENTICAL} at any distance"
            )
        return "outside-window", None, (
            f"kept apart: more than {WINDOW.days} days apart and jaccard < {NEAR_IDENTICAL}"
        )
    if similarity >= SAME_TEXT:
        return "same-text", MergeDecision("same-text", similarity), (
            f"merged by same-text: jaccard ≥ {SAME_TEXT}"
        )
    if contained >= CONTAINED and signals.smaller_shingles >= MIN_CONTAINED_SHINGLES:
        return "contained-text", MergeDecision("contained-text", contained), (
            f"merged by contained-text: containment ≥ {CONTAINED}"
            f" over ≥ {MIN_CONTAINED_SHINGLES} shingles"
        )
    if similarity >= REWRITE_JACCARD and contained >= REWRITE_CONTAINMENT:
        return "rewrite", MergeDecision("rewrite", (similarity + contained) / 2), (
            f"merged by rewrite: jaccard ≥ {REWRITE_JACCARD} and containment"
            f" ≥ {REWRITE_CONTAINMENT}"
        )
    if (
        signals.shared_figures >= SHARED_FIGURES
        and signals.figures_contained >= FIGURES_CONTAINED
        and contained >= FIGURES_TEXT_CONTAINMENT
    ):
        score = signals.figures_contained * contained
        return "same-figures", MergeDecision("same-figures", score), (
            f"merged by same-figures: ≥ {SHARED_FIGURES} figures shared, ≥"
            f" {FIGURES_CONTAINED:.0%} of the fewer, and containment ≥ {FIGURES_TEXT_CONTAINMENT}"
        )
    return "no-rule", None, (
        f"kept apart: no rule holds (same-text: jaccard ≥ {SAME_TEXT}; contained-text:"
        f" containment ≥ {CONTAINED} over ≥ {MIN_CONTAINED_SHINGLES} shingles; rewrite:"
        f" jaccard ≥ {REWRITE_JACCARD} and containment ≥ {REWRITE_CONTAINMENT}; same-figures:"
        f" ≥ {SHARED_FIGURES} figures, ≥ {FIGURES_CONTAINED:.0%} of the fewer, containment"
        f" ≥ {FIGURES_TEXT_CONTAINMENT})"
    )


def decide_merge(new: Candidate, existing: Candidate) -> MergeDecision | None:
    """The rule by which `new` tells the same story as `existing`, or None when it does not."""
    return explain_merge(new, existing).decision


def matching_entries(
    new: Candidate, entries: Mapping[str, Iterable[Candidate]]
) -> list[tuple[str, MergeDecision]]:
    """Every entry (by id) that `new` tells the story of, best match first, each with the
    decision of its best-matching report; then the entries bridged to those.

    `entries` maps each candidate entry to its reports. An entry that already holds a
    report of `new`'s source is skipped: the source reported it under another identity,
    so it is another story. A report matching two entries says they tell one story: the
    store joins them, so that the order reports arrive in does not decide the grouping.

    Bridged: a candidate entry that `new` does not match, but whose report one of the
    matched entries' reports does (a flash that shares no candidate key with its release,
    and that an edited rewrite finds but does not match). Had the rewrite arrived first,
    the flash would have met the release inside the rewrite's entry and joined it; the
    bridge gives the same grouping when the rewrite comes last.
    """
    by_id = {entry_id: tuple(reports) for entry_id, reports in entries.items()}
    found: list[tuple[str, MergeDecision]] = []
    for entry_id, reports in by_id.items():
        if any(report.source_id == new.source_id for report in reports):
            continue
        decisions = [d for d in (decide_merge(new, report) for report in reports) if d]
        if decisions:
            found.append((entry_id, max(decisions, key=lambda decision: decision.score)))
    found.sort(key=lambda match: -match[1].score)
    matched = {entry_id for entry_id, _ in found}
    joined = [report for entry_id in matched for report in by_id[entry_id]]
    for entry_id, reports in by_id.items():
        if entry_id in matched or any(report.source_id == new.source_id for report in reports):
            continue
        bridges = [
            decision
            for report in reports
            for other in joined
            if (decision := decide_merge(report, other)) is not None
        ]
        if bridges:
            found.append((entry_id, max(bridges, key=lambda decision: decision.score)))
    return found


def choose_entry(
    new: Candidate, entries: Mapping[str, Iterable[Candidate]]
) -> tuple[str, MergeDecision] | None:
    """The entry (by id) that matches `new` best, with the decision, or None for a new entry."""
    found = matching_entries(new, entries)
    return found[0] if found else None
