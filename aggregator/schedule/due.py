"""When a source is polled next: its interval, jittered; backoff after failures."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from aggregator.models import PollStatus

# A failing source is retried later and later, but at least twice a day, so a
# server that comes back is noticed the same day.
MAX_BACKOFF = timedelta(hours=12)
# A Retry-After further away than this is a misconfigured server, not a plan.
MAX_RETRY_AFTER = timedelta(days=1)
# ±10 %: sources configured with one interval drift apart instead of polling in step.
JITTER = 0.1


def next_poll(
    *,
    interval: timedelta,
    status: PollStatus,
    failures: int,
    now: datetime,
    retry_after: datetime | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The time of the next poll. `failures` counts consecutive failures including
    this poll's (0 after a success)."""
    rng = rng or random.Random()
    if status != "failed" or failures <= 0:
        delay = interval
    else:
        delay = min(interval * 2 ** min(failures - 1, 20), max(MAX_BACKOFF, interval))
    delay *= 1 + rng.uniform(-JITTER, JITTER)
    due = now + delay
    if retry_after is not None:
        due = max(due, min(retry_after, now + MAX_RETRY_AFTER))
    return due
