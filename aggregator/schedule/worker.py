"""The worker: one APScheduler runs every periodic duty, each a job of its own.

- `poll` (every `TICK`): claim the due sources a batch at a time and poll them, until
  none is due. Sources are claimed from the store with a lease, so several workers on
  PostgreSQL share the work without a coordinator, and a worker that dies loses its
  sources to the others when the lease runs out. A claim never takes more than a host's
  share (see `Store.claim_due`), so on many hosts the next batch starts while it would
  otherwise sit out a tick.
- `alerting` (every `ALERTING_EVERY`): watches and silence (`alerts.run`).
- `outbox` (every `OUTBOX_EVERY`): webhooks and WebSub pings (`alerts.outbox`).
- `retention` (daily): old entries leave the store.

Every job runs one instance at a time and coalesces missed runs: a pass longer than its
interval makes the next run wait for it instead of piling up. Each duty is also a method,
so a caller (a test) can run one pass without the scheduler.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.engine import make_url

from aggregator.alerts.outbox import OutboxSender
from aggregator.alerts.run import Alerting
from aggregator.fetch.netpolicy import AddressPolicy
from aggregator.models import Config
from aggregator.schedule.poll import FETCH_THREADS, PassSummary, Poller
from aggregator.schedule.retention import remove_expired, remove_settled_messages
from aggregator.store import Store
from aggregator.store.alerts import AlertStore

log = logging.getLogger("aggregator.schedule.worker")

# Short: a tick that finds nothing claimable costs one small query, and a source whose
# host had no lease free waits at most this long for its turn.
TICK = timedelta(seconds=1)
# Longer than one batch can take: fetches have a 30 s deadline, parses are bounded.
LEASE = timedelta(minutes=5)
BATCH = FETCH_THREADS * 2
# Watches and silence need not look every tick (the silence judgement reads 30 days of
# arrivals); a watch's webhook goes out within this and an outbox round.
ALERTING_EVERY = timedelta(seconds=30)
# How soon a queued message or a due retry goes out.
OUTBOX_EVERY = timedelta(seconds=2)
RETENTION_EVERY = timedelta(days=1)
# After start, once: a worker restarted daily would otherwise never reach its first run.
RETENTION_FIRST_AFTER = timedelta(minutes=1)


class WorkerAlreadyRunning(Exception):
    pass


class Worker:
    def __init__(
        self,
        config: Config,
        store: Store,
        poller: Poller,
        *,
        lease: timedelta = LEASE,
        scheduler: BaseScheduler | None = None,  # a BackgroundScheduler if None
    ) -> None:
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._store = store
        self._poller = poller
        self._lease = lease
        self._retention_days = config.settings.retention_days
        self._lock: IO[str] | None = None
        self._stopping = threading.Event()
        self._alerting = Alerting(config, store)
        policy = AddressPolicy.build(allow_private=config.settings.allow_private_addresses)
        self._outbox = OutboxSender(AlertStore(store), policy, stopping=self._stopping)
        store.sync_sources(config.sources, datetime.now(UTC))
        self._scheduler = scheduler or BackgroundScheduler(timezone=UTC)
        self._add_jobs(datetime.now(UTC))

    def _add_jobs(self, now: datetime) -> None:
        jobs: list[tuple[str, Callable[[], object], timedelta, datetime]] = [
            ("poll", self.poll_due, TICK, now),
            ("alerting", self.check_alerts, ALERTING_EVERY, now),
            ("outbox", self.deliver_outbox, OUTBOX_EVERY, now),
            ("retention", self.remove_expired, RETENTION_EVERY, now + RETENTION_FIRST_AFTER),
        ]
        for name, duty, every, first in jobs:
            self._scheduler.add_job(
                duty, "interval", seconds=every.total_seconds(), id=name, name=name,
                max_instances=1, coalesce=True, next_run_time=first,
                misfire_grace_time=None,  # late is better than never: each pass catches up
            )

    # --- the duties: each one pass, never raising (the store may be down) -------------

    def run_pass(self) -> PassSummary:
        """Claim one batch of the sources that are due and poll it."""
        states = self._store.claim_due(self.name, datetime.now(UTC), self._lease, BATCH)
        if not states:
            return PassSummary()
        return self._poller.poll(states)

    def poll_due(self) -> None:
        """Poll batches until no source is due (or the worker is stopping)."""
        try:
            while not self._stopping.is_set() and self.run_pass() != PassSummary():
                pass
        except Exception:
            # Sources whose poll was not written keep their lease until it runs out,
            # then any worker polls them again.
            log.exception("poll pass failed", extra={"worker": self.name})

    def check_alerts(self) -> None:
        """Watches and silence, on what the store holds now."""
        try:
            self._alerting.check(datetime.now(UTC))
        except Exception:
            log.exception("alerting failed", extra={"worker": self.name})

    def deliver_outbox(self) -> None:
        """Deliver every message due now (or until the worker is stopping)."""
        try:
            while not self._stopping.is_set() and self._outbox.deliver_due():
                pass
        except Exception:
            log.exception("outbox round failed", extra={"worker": self.name})

    def remove_expired(self) -> None:
        """Old entries, and settled outbox messages."""
        try:
            now = datetime.now(UTC)
            remove_expired(self._store, self._retention_days, now)
            remove_settled_messages(self._store, now)
        except Exception:  # the next run removes what this one left
            log.exception("retention failed", extra={"worker": self.name})

    # --- running ---------------------------------------------------------------------

    def start(self) -> None:
        if self._store.dialect == "sqlite":
            self._lock = _lock_sqlite_worker(self._store.url)
        self._scheduler.start()
        log.info("worker started", extra={"worker": self.name})

    def stop(self) -> None:
        """Stop scheduling, let the running passes finish (a poll pass stops after its
        batch), then release the parse processes and the lock."""
        self._stopping.set()
        self._scheduler.shutdown(wait=True)
        self._poller.close()
        if self._lock is not None:
            self._lock.close()
        log.info("worker stopped", extra={"worker": self.name})

    def run_until(self, stop: threading.Event) -> None:
        self.start()
        try:
            stop.wait()
        finally:
            self.stop()


class _NotSkippedRuns(logging.Filter):
    """A pass that outlasts its interval is normal (a poll pass of many sources outlasts
    every tick): the next run waits for it, which APScheduler words as a warning that a
    run was skipped, once per tick."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_NotSkippedRuns())


def _lock_sqlite_worker(url: str) -> IO[str]:
    """SQLite has one writer: a second worker on the same file would only wait on
    locks, so it refuses to start."""
    database = make_url(url).database or "aggregator.db"
    path = Path(f"{database}.worker.lock")
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise WorkerAlreadyRunning(
            f"another worker is already polling {database}; SQLite allows one worker. "
            "Stop it, or use PostgreSQL (DATABASE_URL) to run several."
        ) from None
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
