"""Retention: entries older than `settings.retention_days` leave the store, and so do
the outbox's messages once settled for `OUTBOX_KEEP`.

Entries go in small batches, each its own short transaction, so that removing a year's
worth never holds locks that polling or reading would wait on for long.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aggregator.store import Store
from aggregator.store.alerts import AlertStore

log = logging.getLogger("aggregator.schedule.retention")

BATCH = 500
# Delivered and given-up messages stay this long, for looking into a delivery.
OUTBOX_KEEP = timedelta(days=7)


def remove_expired(store: Store, retention_days: int, now: datetime) -> int:
    """Remove every entry published and first seen more than `retention_days` before `now`,
    with its reports, categories and search-index rows; return how many went."""
    cutoff = now - timedelta(days=retention_days)
    removed = 0
    while batch := store.remove_entries_before(cutoff, BATCH):
        removed += batch
    log.info("retention", extra={"removed": removed, "cutoff": cutoff.isoformat()})
    return removed


def remove_settled_messages(store: Store, now: datetime) -> int:
    """Remove the outbox messages delivered or given up, queued more than `OUTBOX_KEEP`
    before `now`; return how many went."""
    removed = AlertStore(store).remove_settled_outbox(now - OUTBOX_KEEP)
    log.info("outbox retention", extra={"removed": removed})
    return removed
