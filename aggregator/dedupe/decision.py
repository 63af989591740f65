"""Decide whether a new report tells the same story as a stored one, and say why.

Signals, strongest first:
- guards: one source never reports one story twice under two identities (a second
  identity is a second story: the daily "市長今日公開行程", two releases of one bureau);
  and one number or date that two texts give differently in the same context vetoes
  (template releases: air-quality notices, typhoon briefings, daily schedules);
- the time window: reports more than WINDOW apart merge only when nearly identical, so a
  follow-up days later that reuses the names and background stays a new story;
- text overlap on character shingles: Jaccard for copies, containment for a copy that is
  an excerpt of the other (a truncated summary ending in "…"), and both together, more
  loosely, for an edited rewrite (整理報導) published within the window.
Titles are not a merge signal: republishers rewrite them freely and template releases
share them ("高雄地區空氣品質不良預警通知" every day); they only find candidates.

Thresholds are set from the labelled set in tests/data/dedup/ (bench/dedup.py scores
them): light edits keep Jaccard ≥ 0.69 and containment ≥ 0.97, truncated summaries
containment 1.0, edited rewrites Jaccard 0.35-0.57 with containment 0.55-0.78; different
stories of other sources within the window that no number tells apart stay at Jaccard
≤ 0.27 (containment ≤ 0.54): the rewrite rule's margin is the thinnest one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.dedupe.facts import disagreements
from aggregator.dedupe.fingerprint import Fingerprint
from aggregator.dedupe.shingles import containment, jaccard

WINDOW = timedelta(days=3)
NEAR_IDENTICAL = 0.9  # Jaccard: merges at any distance in time
SAME_TEXT = 0.7  # Jaccard: light edits, bylines, a paragraph dropped or reordered
CONTAINED = 0.8  # containment: an excerpt or truncated summary of the other text
MIN_CONTAINED_SHINGLES = 30  # an excerpt shorter than ~35 characters proves nothing
REWRITE_JACCARD = 0.3  # an edited rewrite: both, within the window
REWRITE_CONTAINMENT = 0.5


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


@dataclass(frozen=True, slots=True)
class MergeExplanation:
    """The signals, the decision (None: kept apart), and the rule or veto that decided."""

    signals: MergeSignals
    decision: MergeDecision | None
    reason: str


def explain_merge(new: Candidate, existing: Candidate) -> MergeExplanation:
    """Whether `new` tells the same story as `existing`, with every signal and why."""
    first, second = new.fingerprint, existing.fingerprint
    signals = MergeSignals(
        same_source=new.source_id == existing.source_id,
        hours_apart=abs(new.published - existing.published) / timedelta(hours=1),
        jaccard=jaccard(first.shingles, second.shingles),
        containment=containment(first.shingles, second.shingles),
        smaller_shingles=min(len(first.shingles), len(second.shingles)),
        conflicting_facts=disagreements(first.facts, second.facts),
    )
    decision, reason = _decide(signals)
    return MergeExplanation(signals, decision, reason)


def _decide(signals: MergeSignals) -> tuple[MergeDecision | None, str]:
    if signals.same_source:
        return None, "kept apart by the veto: one source, two identities, two stories"
    if signals.conflicting_facts:
        return None, "kept apart by the veto: a number or date conflicts"
    similarity, contained = signals.jaccard, signals.containment
    if signals.hours_apart > WINDOW / timedelta(hours=1):
        if similarity >= NEAR_IDENTICAL:
            return (
                MergeDecision("near-identical", similarity),
                f"merged by near-identical: jaccard ≥ {NEAR_IDENTICAL} at any distance",
            )
        return None, (
            f"kept apart: more than {WINDOW.days} days apart and jaccard < {NEAR_IDENTICAL}"
        )
    if similarity >= SAME_TEXT:
        return MergeDecision("same-text", similarity), f"merged by same-text: jaccard ≥ {SAME_TEXT}"
    if contained >= CONTAINED and signals.smaller_shingles >= MIN_CONTAINED_SHINGLES:
        return MergeDecision("contained-text", contained), (
            f"merged by contained-text: containment ≥ {CONTAINED}"
            f" over ≥ {MIN_CONTAINED_SHINGLES} shingles"
        )
    if similarity >= REWRITE_JACCARD and contained >= REWRITE_CONTAINMENT:
        return MergeDecision("rewrite", (similarity + contained) / 2), (
            f"merged by rewrite: jaccard ≥ {REWRITE_JACCARD} and containment"
            f" ≥ {REWRITE_CONTAINMENT}"
        )
    return None, (
        f"kept apart: no rule holds (same-text: jaccard ≥ {SAME_TEXT}; contained-text:"
        f" containment ≥ {CONTAINED} over ≥ {MIN_CONTAINED_SHINGLES} shingles; rewrite:"
        f" jaccard ≥ {REWRITE_JACCARD} and containment ≥ {REWRITE_CONTAINMENT})"
    )


def decide_merge(new: Candidate, existing: Candidate) -> MergeDecision | None:
    """The rule by which `new` tells the same story as `existing`, or None when it does not."""
    return explain_merge(new, existing).decision


def matching_entries(
    new: Candidate, entries: Mapping[str, Iterable[Candidate]]
) -> list[tuple[str, MergeDecision]]:
    """Every entry (by id) that `new` tells the story of, best match first, each with the
    decision of its best-matching report.

    `entries` maps each candidate entry to its reports. An entry that already holds a
    report of `new`'s source is skipped: the source reported it under another identity,
    so it is another story. A report matching two entries says they tell one story: the
    store joins them, so that the order reports arrive in does not decide the grouping.
    """
    found: list[tuple[str, MergeDecision]] = []
    for entry_id, reports in entries.items():
        reports = tuple(reports)
        if any(report.source_id == new.source_id for report in reports):
            continue
        decisions = [d for d in (decide_merge(new, report) for report in reports) if d]
        if decisions:
            found.append((entry_id, max(decisions, key=lambda decision: decision.score)))
    return sorted(found, key=lambda match: -match[1].score)


def choose_entry(
    new: Candidate, entries: Mapping[str, Iterable[Candidate]]
) -> tuple[str, MergeDecision] | None:
    """The entry (by id) that matches `new` best, with the decision, or None for a new entry."""
    found = matching_entries(new, entries)
    return found[0] if found else None
