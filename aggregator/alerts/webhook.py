"""Webhook delivery: JSON POSTs from the outbox, retried with exponential backoff.

A `WebhookSender` runs on its own thread in the worker, so a slow or dead receiver never
holds up polling. Notifications are rows in the database (`AlertStore`), queued in the
transaction that decided them, so a restart loses none; a claim hides a row from other
senders for a lease, so several workers deliver each one once.

Webhook URLs are configuration: deliveries go through `outbound.post`, under the fetcher's
address policy, redirects not followed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aggregator.fetch.netpolicy import AddressPolicy
from aggregator.fetch.outbound import FIRST_RETRY, TIMEOUT_SECONDS, backoff, post
from aggregator.store.alerts import AlertStore, Notification

log = logging.getLogger("aggregator.alerts.webhook")

MAX_ATTEMPTS = 12  # about 8 hours of retries, then the notification is given up
CLAIM_LEASE = timedelta(minutes=2)  # longer than one delivery can take
BATCH = 20
IDLE_WAIT_SECONDS = 2.0
_JSON = "application/json; charset=utf-8"


class WebhookSender:
    """Delivers due notifications until stopped; `deliver_due` is one round, for tests."""

    def __init__(
        self,
        alerts: AlertStore,
        policy: AddressPolicy,
        *,
        first_retry: timedelta = FIRST_RETRY,
        timeout: float = TIMEOUT_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._alerts = alerts
        self._policy = policy
        self._first_retry = first_retry
        self._timeout = timeout
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def deliver_due(self) -> int:
        """Attempt every notification due now; returns how many were attempted."""
        due = self._alerts.claim_notifications(self._clock(), CLAIM_LEASE, BATCH)
        for notification in due:
            self._attempt(notification)
        return len(due)

    def _attempt(self, notification: Notification) -> None:
        error = post(
            notification.url,
            notification.payload,
            _JSON,
            self._policy,
            self._timeout,
            receiver="the webhook receiver",
        )
        now = self._clock()
        attempts = notification.attempts + 1
        retry_at = None
        if error is not None:
            if attempts < MAX_ATTEMPTS:
                retry_at = now + backoff(attempts, self._first_retry)
            log.warning(
                "webhook failed",
                extra={"notification": notification.id, "attempt": attempts, "error": error},
            )
        self._alerts.settle_notification(notification.id, now, error, retry_at)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                attempted = self.deliver_due()
            except Exception:  # the store may be down: try again shortly
                log.exception("webhook round failed")
                attempted = 0
            if not attempted:
                self._stopping.wait(self._idle_wait())

    def _idle_wait(self) -> float:
        """Until the next retry is due, or `IDLE_WAIT_SECONDS` to look for new alerts."""
        try:
            due = self._alerts.next_notification_due()
        except Exception:  # the store may be down
            return IDLE_WAIT_SECONDS
        if due is None:
            return IDLE_WAIT_SECONDS
        return min(max((due - self._clock()).total_seconds(), 0.01), IDLE_WAIT_SECONDS)
