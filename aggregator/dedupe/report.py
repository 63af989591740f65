"""Fingerprint a `Report` as the pipeline hands it over: its HTML made clean text first."""

from __future__ import annotations

from collections.abc import Sequence

from aggregator.dedupe.decision import Candidate
from aggregator.dedupe.fingerprint import Fingerprint, fingerprint
from aggregator.models import Report
from aggregator.text.story import story_text


def fingerprint_report(report: Report, boilerplate: frozenset[str] = frozenset()) -> Fingerprint:
    """Fingerprint the report's title and text; `boilerplate` is its source's learnt
    header and footer."""
    return fingerprint(
        report.title, story_text(report.content or report.summary), boilerplate=boilerplate
    )


def fingerprint_reports(
    reports: Sequence[Report], boilerplate: frozenset[str]
) -> tuple[bytes, ...]:
    """Each report's fingerprint in its stored form (`Fingerprint.to_bytes`), in order: a
    task for the poller's parse processes. Stored, not decoded: a poll's fingerprints wait
    in memory until it is written, and the decoded shingle sets are 15 times larger."""
    return tuple(fingerprint_report(report, boilerplate).to_bytes() for report in reports)


def candidate_from_report(report: Report, fingerprinted: Fingerprint) -> Candidate:
    """The report as the merge decision compares it."""
    return Candidate(
        source_id=report.source_id,
        identity=report.identity,
        published=report.published,
        fingerprint=fingerprinted,
    )
