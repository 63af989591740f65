"""The polling worker: a loop that, every tick, claims due sources and polls them.

Sources are claimed from the store with a lease, so several workers on
PostgreSQL share the work without a coordinator, and a worker that dies loses
its sources to the others when the lease runs out. Each tick claims a batch at a
time and polls it, and claims again while sources are due: a claim never takes more
than a host's share (see `Store.claim_due`), so on many hosts the next batch starts
while it would otherwise sit out a tick. Retention (and alerting) run on an
APScheduler beside it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import make_url

from aggregator.alerts.run import Alerting
from aggregator.alerts.websub import feed_watcher
from aggregator.models import Config
from aggregator.schedule.poll import FETCH_THREADS, PassSummary, Poller
from aggregator.schedule.retention import remove_expired
from aggregator.store import Store

log = logging.getLogger("aggregator.schedule.worker")

# Short: a tick that finds nothing claimable costs one small query, and a source whose
# host had no lease free waits at most this long for its turn.
TICK = timedelta(seconds=1)
# Longer than one batch can take: fetches have a 30 s deadline, parses are bounded.
LEASE = timedelta(minutes=5)
BATCH = FETCH_THREADS * 2
RETENTION_EVERY = timedelta(days=1)
# After start, once: a worker restarted daily would otherwise never reach its first run.
RETENTION_FIRST_AFTER = timedelta(minutes=1)


class WorkerAlreadyRunning(Exception):
    pass


class Worker:
    def __init__(
        self, config: Config, store: Store, poller: Poller, *, lease: timedelta = LEASE
    ) -> None:
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._store = store
        self._poller = poller
        self._lease = lease
        self._retention_days = config.settings.retention_days
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._lock: IO[str] | None = None
        self._stopping = threading.Event()
        self._websub = feed_watcher(config, store)  # None: no hub to tell about changes
        # A loop, not a scheduler job: a pass may outlast a tick, and the next tick should
        # then wait for it rather than be skipped with a warning.
        self._polling = threading.Thread(target=self._poll_until_stopped, name="poll")
        self._alerting = Alerting(config, store)
        store.sync_sources(config.sources, datetime.now(UTC))

    def run_pass(self) -> PassSummary:
        """Claim one batch of the sources that are due and poll it."""
        states = self._store.claim_due(self.name, datetime.now(UTC), self._lease, BATCH)
        if not states:
            return PassSummary()
        return self._poller.poll(states, self._websub.saw_poll if self._websub else None)

    def run_due(self) -> None:
        """Poll batches until no source is due (or the worker is stopping)."""
        while not self._stopping.is_set() and self.run_pass() != PassSummary():
            pass

    def start(self) -> None:
        if self._store.dialect == "sqlite":
            self._lock = _lock_sqlite_worker(self._store.url)
        now = datetime.now(UTC)
        if self._websub is not None:
            self._websub.start()  # before the first pass: what feeds hold before it writes
        self._polling.start()
        self._scheduler.add_job(
            self._retain, "interval", seconds=RETENTION_EVERY.total_seconds(), id="retention",
            max_instances=1, coalesce=True, next_run_time=now + RETENTION_FIRST_AFTER,
        )
        self._scheduler.start()
        self._alerting.start()
        log.info("worker started", extra={"worker": self.name})

    def stop(self) -> None:
        self._stopping.set()
        if self._polling.is_alive():
            self._polling.join()
        self._scheduler.shutdown(wait=True)
        if self._websub is not None:
            self._websub.stop()
        self._alerting.stop()
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

    def _poll_until_stopped(self) -> None:
        while True:
            self._tick()
            if self._stopping.wait(TICK.total_seconds()):
                return

    def _tick(self) -> None:
        try:
            self.run_due()
            if self._websub is not None:
                self._websub.after_tick()
            # Watches and silence look at what the pass wrote.
            self._alerting.after_pass(datetime.now(UTC))
        except Exception:  # the store may be down: log, and try again next tick
            # Sources whose poll was not written keep their lease until it runs out,
            # then any worker polls them again.
            log.exception("poll pass failed", extra={"worker": self.name})

    def _retain(self) -> None:
        try:
            remove_expired(self._store, self._retention_days, datetime.now(UTC))
        except Exception:  # the store may be down: the next run removes what this one left
            log.exception("retention failed", extra={"worker": self.name})


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
