"""Many sources on one local server, and `aggregator worker` processes polling them.

    site = NewsSite(feed_server, count=500)          # /s000.xml ... /s499.xml, on two host names
    config = site.write_config(tmp_path, interval="20s")
    with WorkerProcess(config, db_url) as worker: ...  # a real `aggregator worker`
    site.visits["/s000.xml"]                           # when each request started and ended

Each source's feed has two stories of its own and one it shares with its neighbour (the
same link), so a correct store holds `site.expected_entries` entries whoever polls them.
The server records every request's start and end per path, and how many requests each
host name had in flight at once, so tests can check overlap and politeness from outside.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from aggregator.models import EntryQuery
from aggregator.store import open_store
from tests.closing import ClosesOnExit
from tests.feedbuilder import FeedItem, rss
from tests.feedserver import FeedServer, Reply, RequestInfo

# Two names for 127.0.0.1 that every machine resolves: two hosts for politeness.
HOSTS = ("127.0.0.1", "localhost")
PUBLISHED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Visit:
    start: float  # time.monotonic()
    end: float


class NewsSite:
    def __init__(self, server: FeedServer, count: int, *, delay: float = 0.02) -> None:
        self.server = server
        self.count = count
        self.delay = delay  # each answer takes this long: overlapping polls would show
        self.visits: dict[str, list[Visit]] = defaultdict(list)
        self.peak_in_flight: dict[str, int] = defaultdict(int)
        self._in_flight: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        for number in range(count):
            self._serve(number)

    @property
    def paths(self) -> list[str]:
        return [self.path(number) for number in range(self.count)]

    @staticmethod
    def path(number: int) -> str:
        return f"/s{number:03}.xml"

    @property
    def expected_entries(self) -> int:
        """Two stories per source, and one per pair of neighbours."""
        return 2 * self.count + (self.count + 1) // 2

    def url(self, number: int) -> str:
        host = HOSTS[number % len(HOSTS)]
        return self.server.url(self.path(number)).replace("127.0.0.1", host, 1)

    def write_config(self, directory: Path, *, interval: str) -> Path:
        sources = "".join(
            f"  - id: s{number:03}\n    url: {self.url(number)}\n    categories: [news]\n"
            for number in range(self.count)
        )
        path = directory / "feeds.yaml"
        path.write_text(
            f"settings:\n  allow_private_addresses: true\n  interval: {interval}\n"
            "categories:\n  news:\n    title: 新聞\n"
            f"sources:\n{sources}",
            encoding="utf-8",
        )
        return path

    def polled_paths(self) -> set[str]:
        with self._lock:
            return {path for path, visits in self.visits.items() if visits}

    def times_polled(self, path: str) -> int:
        with self._lock:
            return len(self.visits[path])

    def _serve(self, number: int) -> None:
        items = [
            FeedItem(
                distinct_text(f"{number}{letter}", 8),
                link=f"https://news.example/{number}/{letter}",
                description=distinct_text(f"{number}{letter} body", 60),
                published=PUBLISHED + timedelta(minutes=number),
            )
            for letter in "ab"
        ] + [
            FeedItem(
                distinct_text(f"shared {number // 2}", 8),
                link=f"https://news.example/shared/{number // 2}",
                description=distinct_text(f"shared {number // 2} body", 60),
                published=PUBLISHED,
            )
        ]
        body = rss(items)
        etag = f'"s{number}"'

        def answer(request: RequestInfo) -> Reply:
            host = (request.header("Host") or "").rsplit(":", 1)[0]
            start = time.monotonic()
            with self._lock:
                self._in_flight[host] += 1
                self.peak_in_flight[host] = max(self.peak_in_flight[host], self._in_flight[host])
            try:
                time.sleep(self.delay)
                if request.header("If-None-Match") == etag:
                    return Reply(status=304, headers={"ETag": etag})
                return Reply(body, headers={"Content-Type": "application/rss+xml", "ETag": etag})
            finally:
                with self._lock:
                    self._in_flight[host] -= 1
                    self.visits[self.path(number)].append(Visit(start, time.monotonic()))

        self.server.handle(self.path(number), answer)


def one_source_config(server: FeedServer, directory: Path, path: str = "/city.xml") -> Path:
    """feeds.yaml with one source, `city`, at `path` on `server`, polled every 30 s."""
    config = directory / "feeds.yaml"
    config.write_text(
        "settings:\n  allow_private_addresses: true\n  interval: 30s\n"
        "categories:\n  news:\n    title: 新聞\n"
        f"sources:\n  - id: city\n    url: {server.url(path)}\n    categories: [news]\n",
        encoding="utf-8",
    )
    return config


def city_feed(*titles: str) -> bytes:
    return rss([FeedItem(title, link=f"https://city.example.tw/{title}") for title in titles])


def stored_titles(db_url: str) -> set[str]:
    store = open_store(db_url)
    try:
        return {entry.title for entry in store.entries(EntryQuery(limit=100)).entries}
    finally:
        store.close()


def distinct_text(seed: str, length: int) -> str:
    """Chinese-looking text that shares next to nothing with any other seed's, so that
    near-duplicate detection has no reason to merge two stories of the site."""
    digest = hashlib.shake_256(seed.encode()).digest(2 * length)
    return "".join(
        chr(0x4E00 + int.from_bytes(digest[i : i + 2], "big") % 0x5000)
        for i in range(0, 2 * length, 2)
    )


def aggregator_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "aggregator.cli", *arguments]


class WorkerProcess(ClosesOnExit):
    """A real `aggregator worker` subprocess; its stderr (JSON log lines) goes to a file."""

    def __init__(
        self, config: Path, db_url: str, *, log: Path, lease_seconds: float | None = None
    ) -> None:
        environment = dict(os.environ)
        if lease_seconds is not None:
            environment["AGGREGATOR_LEASE_SECONDS"] = str(lease_seconds)
        self.log = log
        self._log_file: IO[bytes] = log.open("wb")
        self.process = subprocess.Popen(
            aggregator_command("worker", "--config", str(config), "--db", db_url),
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=self._log_file,
        )

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as a deployment stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self._log_file.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self._log_file.close()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        """Kill the worker if it still runs; close its log."""
        if self.process.poll() is None:
            self.kill()
        elif not self._log_file.closed:
            self._log_file.close()


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Whether `condition()` became true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
