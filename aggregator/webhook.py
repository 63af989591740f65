"""Webhook delivery: JSON POSTs from the outbox, retried with exponential backoff.

A `WebhookSender` runs on its own thread in the worker, so a slow or dead receiver never
holds up polling. Notifications are rows in the database (`AlertStore`), queued in the
transaction that decided them, so a restart loses none; a claim hides a row from other
senders for a lease, so several workers deliver each one once.

Webhook URLs are configuration, like feed URLs, and connections go through the same
address policy (`netpolicy`): no loopback or private address unless the settings allow it.
Redirects are not followed: a receiver that moved must be reconfigured.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.client import HTTPException
from urllib.parse import urlsplit

import urllib3.exceptions
from urllib3.connection import HTTPConnection, HTTPSConnection

from aggregator.alertstore import AlertStore, Notification
from aggregator.fetch import USER_AGENT
from aggregator.netpolicy import AddressPolicy, connect_allowed

log = logging.getLogger("aggregator.webhook")

TIMEOUT_SECONDS = 10.0
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
MAX_ATTEMPTS = 12  # about 8 hours of retries, then the notification is given up
CLAIM_LEASE = timedelta(minutes=2)  # longer than one delivery can take
BATCH = 20
IDLE_WAIT_SECONDS = 2.0


def backoff(attempts: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """The wait before the next attempt, after `attempts` failed ones: doubling, capped."""
    wait: timedelta = first * 2 ** max(attempts - 1, 0)
    return min(wait, MAX_RETRY)


class _GuardedHTTPConnection(HTTPConnection):
    """Dials only where the address policy allows, as the fetcher does for feeds."""

    policy: AddressPolicy

    def _new_conn(self) -> socket.socket:
        return connect_allowed(self._dns_host, self.port, self.timeout, self.policy)


class _GuardedHTTPSConnection(HTTPSConnection, _GuardedHTTPConnection):
    """TLS over the guarded dialer."""


def post_json(url: str, body: bytes, policy: AddressPolicy, timeout: float) -> str | None:
    """POST `body` to `url`; None when the receiver took it (2xx), else what went wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    kind = _GuardedHTTPSConnection if parts.scheme == "https" else _GuardedHTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=timeout)
    connection.policy = policy
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        response.read(64 * 1024)
    except (OSError, HTTPException, urllib3.exceptions.HTTPError) as error:
        return f"could not deliver to {parts.hostname}: {error}"
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return None
    return f"{parts.hostname} answered {response.status} {response.reason}"


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
        error = post_json(notification.url, notification.payload, self._policy, self._timeout)
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
