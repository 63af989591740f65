"""Merging by exact link only: the fingerprint strategy of benchmarks that measure
something else, or measure what near-duplicate merging costs."""

from __future__ import annotations

from collections.abc import Sequence

from aggregator.dedupe import Fingerprint
from aggregator.models import Report

# No band key: the store finds no near-duplicate candidate for a report carrying it.
_MATCHES_NOTHING = Fingerprint(
    title_key="", shingles=frozenset(), facts=frozenset(), band_keys=()
).to_bytes()


def fingerprints_without_band_keys(
    reports: Sequence[Report], boilerplate: frozenset[str]
) -> tuple[bytes, ...]:
    """A fingerprint per report that shares nothing with any other: copies of a story
    then join only when they have the same canonical link."""
    return (_MATCHES_NOTHING,) * len(reports)
