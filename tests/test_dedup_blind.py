"""Merging on the blind set (tests/data/dedup-blind/, written blind and never tuned on),
written through the store in publication order, held to what was measured on it.

These are floors, not the issue's targets (precision ≥ 0.98, recall ≥ 0.95 overall and
≥ 0.90 on pairs involving a rewrite or a flash): the method misses most edited rewrites and
wire flashes of this set, and these tests keep it from getting worse unnoticed. Measured
once with `python bench/dedup.py --entries 0` (the same in every arrival order); raise a
floor only with a change that was not tuned on this set.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from aggregator.store import open_store
from aggregator.store.migrate import upgrade
from tests.dedup_corpus import (
    ARRIVAL_ORDERS,
    BLIND_DIR,
    PairCounts,
    ingest_polls,
    load_items,
    pair_counts,
)

# kind → (precision, recall) measured: pairs merged rightly over merged, over same-story.
FLOORS = {
    "all": (Fraction(1), Fraction(17, 95)),
    "rewrite or flash": (Fraction(1), Fraction(2, 80)),
    "original": (Fraction(1), Fraction(14, 45)),
    "verbatim": (Fraction(1), Fraction(12, 32)),
    "rewrite": (Fraction(1), Fraction(0)),
    "flash": (Fraction(1), Fraction(2, 49)),
    "follow_up": (Fraction(1), Fraction(0)),
    "template": (Fraction(1), Fraction(1, 2)),
    "daily_series": (Fraction(1), Fraction(1)),
    "two_cities": (Fraction(1), Fraction(1, 3)),
    "related_list": (Fraction(1), Fraction(4, 10)),
}


@pytest.fixture(scope="module")
def blind_counts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PairCounts]:
    url = f"sqlite:///{tmp_path_factory.mktemp('blind') / 'store.db'}"
    upgrade(url)
    store = open_store(url)
    items = list(load_items(BLIND_DIR).values())
    try:
        return pair_counts(items, ingest_polls(store, ARRIVAL_ORDERS["publication"](items)))
    finally:
        store.close()


@pytest.mark.parametrize("kind", FLOORS)
def test_merging_on_the_blind_set_holds_its_measured_floor(
    kind: str, blind_counts: dict[str, PairCounts]
) -> None:
    precision, recall = FLOORS[kind]
    counts = blind_counts[kind]
    # Compared as the counts' exact ratios, so a floor equal to the measure holds.
    merged = counts.true_positive + counts.false_positive
    same = counts.true_positive + counts.false_negative
    assert (Fraction(counts.true_positive, merged) if merged else 1) >= precision
    assert (Fraction(counts.true_positive, same) if same else 1) >= recall
