"""Numbers and dates in context, so that template releases stay apart.

Two daily air-quality notices, or two briefings of a typhoon response centre, share
nearly every sentence; what tells them apart is the date and the figures. A fact is a
number with its context (the two characters before it and the unit after it, digits
and spaces skipped), so "AQI達到155" and "AQI達到162" are the same slot with different
values, while a number a republication merely left out is no disagreement at all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

Fact = tuple[str, str]  # (context, value)

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NOT_CONTEXT = re.compile(r"[\d\s.]+")
_CONTEXT_WINDOW = 8  # characters looked at on each side; enough for 2 after skipping digits


def extract_facts(normalised: str) -> frozenset[Fact]:
    """The numbers of text that `normalize` produced, with their context."""
    facts = set()
    for match in _NUMBER.finditer(normalised):
        start, end = match.span()
        before = _NOT_CONTEXT.sub("", normalised[max(0, start - _CONTEXT_WINDOW) : start])
        after = _NOT_CONTEXT.sub("", normalised[end : end + _CONTEXT_WINDOW])
        facts.add((f"{before[-2:]}|{after[:1]}", match.group()))
    return frozenset(facts)


def _values_by_context(facts: Iterable[Fact]) -> Mapping[str, frozenset[str]]:
    grouped: defaultdict[str, set[str]] = defaultdict(set)
    for context, value in facts:
        grouped[context].add(value)
    return {context: frozenset(values) for context, values in grouped.items()}


def disagreements(first: frozenset[Fact], second: frozenset[Fact]) -> tuple[str, ...]:
    """The contexts that hold different numbers in the two texts (neither text's values
    there contain the other's: a copy that drops a number is not disagreeing), each as
    "context: first values ≠ second values"."""
    first_values, second_values = _values_by_context(first), _values_by_context(second)
    return tuple(
        f"{context}: {','.join(sorted(first_values[context]))}"
        f" ≠ {','.join(sorted(second_values[context]))}"
        for context in sorted(first_values.keys() & second_values.keys())
        if not (
            first_values[context] <= second_values[context]
            or second_values[context] <= first_values[context]
        )
    )


def number_tokens(facts: Iterable[Fact]) -> frozenset[str]:
    """Each number with the unit written after it ("1240户", "21公"), whatever its context:
    a rewrite rewords the words around a figure but keeps the figure and its unit."""
    return frozenset(f"{value}{context.partition('|')[2]}" for context, value in facts)
