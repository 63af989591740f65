"""Near-duplicate detection: one story, one entry, however many sources republish it.

Pure functions, no I/O. The poller fingerprints each new report in its parse processes
(`fingerprint_reports`), without what its source repeats on every entry (`SourceBoilerplates`,
learnt from the texts the store reads for it); the store looks up stored reports sharing one
of its `band_keys`, and asks `choose_entry` which entry, if any, it joins and by which rule.
"""

from aggregator.dedupe.boilerplate import learn_boilerplate, strip_boilerplate, strip_title_affixes
from aggregator.dedupe.decision import (
    Candidate,
    MergeDecision,
    MergeExplanation,
    MergeSignals,
    choose_entry,
    decide_merge,
    explain_merge,
    matching_entries,
)
from aggregator.dedupe.fingerprint import Fingerprint, fingerprint
from aggregator.dedupe.learning import RecentTexts, SourceBoilerplates
from aggregator.dedupe.report import (
    candidate_from_report,
    fingerprint_report,
    fingerprint_reports,
)

__all__ = [
    "Candidate",
    "Fingerprint",
    "MergeDecision",
    "MergeExplanation",
    "MergeSignals",
    "RecentTexts",
    "SourceBoilerplates",
    "candidate_from_report",
    "choose_entry",
    "decide_merge",
    "explain_merge",
    "fingerprint",
    "fingerprint_report",
    "fingerprint_reports",
    "learn_boilerplate",
    "matching_entries",
    "strip_boilerplate",
    "strip_title_affixes",
]
