"""Retention: entries older than `settings.retention_days` leave the store.

They go in small batches, each its own short transaction, so that removing a year's worth
never holds locks that polling or reading would wait on for long.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aggregator.store import Store

log = logging.getLogger("aggregator.schedule.retention")

BATCH = 500


def remove_expired(store: Store, retention_days: int, now: datetime) -> int:
    """Remove every entry published and first seen more than `retention_days` before `now`,
    with its reports, categories and search-index rows; return how many went."""
    cutoff = now - timedelta(days=retention_days)
    removed = 0
    while batch := store.remove_entries_before(cutoff, BATCH):
        removed += batch
    log.info("retention", extra={"removed": removed, "cutoff": cutoff.isoformat()})
    return removed
