"""What a source has been reporting lately: the arrivals that cadence and charts are built on.

An arrival is one poll that brought new reports: its time (the reports' first-seen time,
which every report of one poll shares) and how many. Publication dates are not used: they
are whatever the source claims, often missing or wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from aggregator.models import Arrival

WINDOW = timedelta(days=30)


def daily_counts(
    arrivals: Sequence[Arrival], now: datetime, zone: tzinfo, days: int = 30
) -> list[int]:
    """Reports per local calendar day for the last `days` days, oldest first, today last."""
    today = now.astimezone(zone).date()
    counts = [0] * days
    for arrival in arrivals:
        age = (today - arrival.at.astimezone(zone).date()).days
        if 0 <= age < days:
            counts[days - 1 - age] += arrival.reports
    return counts
