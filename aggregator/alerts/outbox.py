"""The outbox's one sender: every queued POST (watch and silence webhooks, WebSub pings),
retried with exponential backoff until the receiver takes it or `MAX_ATTEMPTS` are spent.

Messages are rows in the database, queued in the transaction that decided them (a watch
match, a silence episode, a poll that changed a feed), so a restart loses none; a claim
hides a row from other senders for a lease, so several workers deliver each one once.

Receiver URLs are configuration: deliveries go through `outbound.post`, under the
fetcher's address policy, redirects not followed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aggregator.fetch.netpolicy import AddressPolicy
from aggregator.fetch.outbound import FIRST_RETRY, TIMEOUT_SECONDS, backoff, post
from aggregator.store.alerts import AlertStore
from aggregator.store.outbox import OutboxMessage

log = logging.getLogger("aggregator.alerts.outbox")

MAX_ATTEMPTS = 12  # about 8 hours of retries, then the message is given up
# Each message is claimed just before its delivery, for far longer than the delivery's
# deadline (`timeout`, the whole POST): no other sender can take it while it is under way.
CLAIM_LEASE = timedelta(minutes=2)
BATCH = 20


class OutboxSender:
    """Delivers the messages that are due, one batch per `deliver_due`."""

    def __init__(
        self,
        alerts: AlertStore,
        policy: AddressPolicy,
        *,
        first_retry: timedelta = FIRST_RETRY,
        timeout: float = TIMEOUT_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stopping: threading.Event | None = None,
    ) -> None:
        if timedelta(seconds=timeout) >= CLAIM_LEASE:
            raise ValueError(f"a delivery's deadline must be shorter than its claim, {CLAIM_LEASE}")
        self._alerts = alerts
        self._policy = policy
        self._first_retry = first_retry
        self._timeout = timeout
        self._clock = clock
        self._stopping = stopping or threading.Event()

    def deliver_due(self) -> int:
        """Attempt up to `BATCH` messages due now, claiming each just before its delivery,
        until `stopping` is set; returns how many were attempted."""
        attempted = 0
        while attempted < BATCH and not self._stopping.is_set():
            claimed = self._alerts.claim_outbox(self._clock(), CLAIM_LEASE, 1)
            if not claimed:
                break
            self._attempt(claimed[0])
            attempted += 1
        return attempted

    def _attempt(self, message: OutboxMessage) -> None:
        error = post(
            message.post.url,
            message.post.body.encode(),
            message.post.content_type,
            self._policy,
            self._timeout,
            receiver="the receiver",
        )
        now = self._clock()
        attempts = message.attempts + 1
        retry_at = None
        if error is not None:
            if attempts < MAX_ATTEMPTS:
                retry_at = now + backoff(attempts, self._first_retry)
            log.warning(
                "outbox delivery failed",
                extra={"outbox_id": message.id, "attempt": attempts, "error": error},
            )
        self._alerts.settle_outbox(message.id, now, error, retry_at)
