"""WebSub publishing: tell the hub (`settings.websub_hub`) which output feeds changed.

After each tick of the worker, `FeedWatcher` compares what every category feed (and
`all`) now holds with what it held before: the feeds whose content changed are announced
to the hub with `hub.mode=publish&hub.url=<feed URL>`, one URL per request, for each
format. `HubPinger` sends those on a thread of its own, so a slow or dead hub never holds
up polling; a failed ping is retried with exponential backoff, and a URL already waiting
is not queued twice (the hub fetches the feed as it is then, so one ping covers both).

The hub URL is configuration: pings go through `outbound.post`, under the fetcher's
address policy.

Several workers each compare against what they last saw; a worker only announces
changes after a tick in which it wrote something, so a change is normally announced by the
worker that made it. Two workers writing in the same few seconds may both announce one
change: harmless, the hub fetches the same document twice.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from aggregator.fetch.netpolicy import AddressPolicy
from aggregator.fetch.outbound import FIRST_RETRY, TIMEOUT_SECONDS, backoff, post
from aggregator.models import Config, EntryQuery, PollOutcome, StoredEntry, WriteCounts
from aggregator.render import ALL_CATEGORIES, FORMATS
from aggregator.store import Store

log = logging.getLogger("aggregator.alerts.websub")

# What a plain feed URL holds: the feeds blueprint's default limit.
FEED_LIMIT = 50
MAX_ATTEMPTS = 10  # about 5 hours of retries, then the ping is given up


def feed_urls(base_url: str, feeds: Iterable[str]) -> list[str]:
    """The public URLs of `feeds` (category slugs or `all`) in every format."""
    base = base_url.rstrip("/")
    return [f"{base}/feeds/{feed}.{extension}" for feed in feeds for extension in FORMATS]


def publish(hub_url: str, feed_url: str, policy: AddressPolicy, timeout: float) -> str | None:
    """Tell the hub that `feed_url` changed; None when it took it (2xx), else what went wrong."""
    body = urlencode({"hub.mode": "publish", "hub.url": feed_url}).encode("ascii")
    return post(
        hub_url,
        body,
        "application/x-www-form-urlencoded",
        policy,
        timeout,
        receiver="the WebSub hub",
    )


@dataclass(order=True, slots=True)
class _Ping:
    due: float
    feed_url: str = field(compare=False)
    attempts: int = field(default=0, compare=False)


class HubPinger:
    """Delivers pings to one hub from a thread of its own until stopped."""

    def __init__(
        self,
        hub_url: str,
        policy: AddressPolicy,
        *,
        first_retry: timedelta = FIRST_RETRY,
        timeout: float = TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub_url = hub_url
        self._policy = policy
        self._first_retry = first_retry
        self._timeout = timeout
        self._clock = clock
        self._queue: list[_Ping] = []  # a heap, soonest due first
        self._waiting: set[str] = set()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def announce(self, feed_urls: Sequence[str]) -> None:
        """Queue a ping for each of `feed_urls` not already waiting. Never blocks on the hub."""
        with self._wake:
            for url in feed_urls:
                if url not in self._waiting:
                    self._waiting.add(url)
                    heapq.heappush(self._queue, _Ping(self._clock(), url))
            self._wake.notify()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="websub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the ping in flight, if any; pings still queued are dropped."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            ping = self._next_due()
            if ping is None:
                return
            self._attempt(ping)

    def _next_due(self) -> _Ping | None:
        """The next ping once it is due, or None when stopping."""
        with self._wake:
            while not self._stopping:
                if self._queue:
                    wait = self._queue[0].due - self._clock()
                    if wait <= 0:
                        ping = heapq.heappop(self._queue)
                        # A change made from now on needs a ping of its own.
                        self._waiting.discard(ping.feed_url)
                        return ping
                    self._wake.wait(wait)
                else:
                    self._wake.wait()
            return None

    def _attempt(self, ping: _Ping) -> None:
        error = publish(self.hub_url, ping.feed_url, self._policy, self._timeout)
        if error is None:
            log.info("websub published", extra={"feed": ping.feed_url})
            return
        attempts = ping.attempts + 1
        log.warning(
            "websub ping failed",
            extra={"feed": ping.feed_url, "attempt": attempts, "error": error},
        )
        if attempts >= MAX_ATTEMPTS:
            return
        wait = backoff(attempts, self._first_retry).total_seconds()
        with self._wake:
            if ping.feed_url not in self._waiting:  # a newer change queued it meanwhile
                self._waiting.add(ping.feed_url)
                heapq.heappush(self._queue, _Ping(self._clock() + wait, ping.feed_url, attempts))
            self._wake.notify()


class FeedWatcher:
    """Finds the output feeds whose content a worker's tick changed and announces them."""

    def __init__(self, config: Config, store: Store, pinger: HubPinger) -> None:
        self._store = store
        self._pinger = pinger
        self._base_url = config.settings.base_url
        self._feeds = [ALL_CATEGORIES, *config.categories]
        self._wrote = threading.Event()
        self._seen_version: int | None = None
        self._seen: dict[str, tuple[StoredEntry, ...]] = {}

    def start(self) -> None:
        """Remember what the feeds hold now (nothing is announced), and start pinging."""
        self._look()
        self._pinger.start()

    def stop(self) -> None:
        self._pinger.stop()

    def saw_poll(self, outcome: PollOutcome, counts: WriteCounts) -> None:
        """A poll's progress callback: note whether this worker wrote entries."""
        if counts.new or counts.updated or counts.merged:
            self._wrote.set()

    def after_tick(self) -> None:
        """Announce the feeds that changed, if this worker wrote during the tick."""
        wrote = self._wrote.is_set()
        self._wrote.clear()
        changed = self._look()
        if wrote and changed:
            self._pinger.announce(feed_urls(self._base_url, changed))

    def _look(self) -> list[str]:
        """Read the feeds again if the store changed; the ones whose content differs."""
        version = self._store.version()
        if version == self._seen_version:
            return []
        changed = []
        for feed in self._feeds:
            category = None if feed == ALL_CATEGORIES else feed
            entries = self._store.entries(EntryQuery(category=category, limit=FEED_LIMIT)).entries
            if self._seen.get(feed) != entries:
                changed.append(feed)
                self._seen[feed] = entries
        first_look = self._seen_version is None
        self._seen_version = version
        return [] if first_look else changed


def feed_watcher(config: Config, store: Store) -> FeedWatcher | None:
    """The watcher for `config`'s hub, or None when no hub is configured."""
    hub = config.settings.websub_hub
    if hub is None:
        return None
    policy = AddressPolicy.build(allow_private=config.settings.allow_private_addresses)
    return FeedWatcher(config, store, HubPinger(hub, policy))
