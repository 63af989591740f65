"""Several `aggregator worker` processes share the polling through the database.

Real worker processes, a real PostgreSQL (a private schema) and one local server standing
in for 500 news sites on two host names. What is checked is what an operator would see
from outside: the requests the sites received, and what the store then holds.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

from aggregator.models import EntryQuery, StoredEntry
from aggregator.schedule.due import JITTER
from aggregator.store import PER_HOST_LEASES, open_store
from aggregator.store.migrate import upgrade
from tests.feedserver import FeedServer, Reply, RequestInfo
from tests.fixtures_db import POSTGRES_ENV, postgres_schema
from tests.newsfarm import (
    NewsSite,
    Visit,
    WorkerProcess,
    aggregator_command,
    city_feed,
    one_source_config,
    stored_titles,
    wait_until,
)

SOURCES = 500
INTERVAL_S = 30  # the shortest interval feeds.yaml allows
# Slack on "on time" beyond the queue of due sources: a tick, and a busy machine's jitter.
LATENESS_S = 5
# Two rounds take about 40 s on an idle machine (2 cores); far longer when it is shared.
ROUNDS_TIMEOUT_S = 240


def stored_entries(db_url: str) -> list[StoredEntry]:
    store = open_store(db_url)
    try:
        return list(store.entries(EntryQuery(limit=10 * SOURCES)).entries)
    finally:
        store.close()


@dataclass(frozen=True)
class Run:
    site: NewsSite
    db_url: str
    directory: Path


@pytest.fixture(scope="module")
def three_workers_polled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """500 sources polled by three workers until each was polled twice (once is the first
    round, all due at start; twice shows the interval kept)."""
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}=postgresql+psycopg://...")
    directory = tmp_path_factory.mktemp("three-workers")
    with FeedServer() as server, postgres_schema(server_url) as db_url:
        site = NewsSite(server, SOURCES)
        upgrade(db_url)
        config = site.write_config(directory, interval=f"{INTERVAL_S}s")
        workers = [
            WorkerProcess(config, db_url, log=directory / f"worker{n}.log") for n in range(3)
        ]
        try:
            polled_twice = wait_until(
                lambda: all(site.times_polled(path) >= 2 for path in site.paths),
                timeout=ROUNDS_TIMEOUT_S,
            )
            statuses = [worker.stop() for worker in workers]
        finally:
            for worker in workers:
                worker.__exit__(None, None, None)
        rounds = Counter(min(site.times_polled(path), 2) for path in site.paths)
        assert polled_twice, f"times polled (0, 1, 2+) by the deadline: {sorted(rounds.items())}"
        assert statuses == [0, 0, 0], [worker.log_text()[-2000:] for worker in workers]
        yield Run(site, db_url, directory)


def overlapping(visits: list[Visit]) -> bool:
    ordered = sorted(visits, key=lambda visit: visit.start)
    return any(later.start < earlier.end for earlier, later in pairwise(ordered))


@pytest.mark.postgres
def test_no_source_is_polled_by_two_workers_at_once(three_workers_polled: Run) -> None:
    site = three_workers_polled.site
    assert [path for path in site.paths if overlapping(site.visits[path])] == []


@pytest.mark.postgres
def test_no_host_gets_more_requests_at_once_than_its_share(three_workers_polled: Run) -> None:
    assert max(three_workers_polled.site.peak_in_flight.values()) <= PER_HOST_LEASES


def polling_gaps(site: NewsSite) -> dict[str, float]:
    """Per source, the time from the end of its first poll to the start of its second."""
    gaps = {}
    for path in site.paths:
        first, second = sorted(site.visits[path], key=lambda visit: visit.start)[:2]
        gaps[path] = second.start - first.end
    return gaps


def first_round_seconds(site: NewsSite) -> float:
    """How long the workers took to poll every source once (all were due at the start)."""
    starts = [min(visit.start for visit in site.visits[path]) for path in site.paths]
    return max(starts) - min(starts)


@pytest.mark.postgres
def test_no_source_is_polled_again_before_its_interval(three_workers_polled: Run) -> None:
    # The schedule jitters intervals (JITTER) so that sources added together spread out.
    earliest = INTERVAL_S * (1 - JITTER) - 1
    early = {p: gap for p, gap in polling_gaps(three_workers_polled.site).items()
             if gap < earliest}
    assert early == {}


@pytest.mark.postgres
def test_no_source_waits_longer_than_its_interval_plus_the_queue(
    three_workers_polled: Run,
) -> None:
    # Every source fell due at once: the last of them is polled a round's length after
    # the first. When sources are due again, none may wait longer than that queue (and a
    # tick), however the workers share them: no source starves.
    site = three_workers_polled.site
    bound = INTERVAL_S * (1 + JITTER) + first_round_seconds(site) + LATENESS_S
    late = {path: round(gap) for path, gap in polling_gaps(site).items() if gap > bound}
    assert late == {}


@pytest.mark.postgres
def test_three_workers_store_each_story_once(three_workers_polled: Run) -> None:
    found = stored_entries(three_workers_polled.db_url)
    links = [entry.link for entry in found]

    assert len(found) == three_workers_polled.site.expected_entries
    assert len(set(links)) == len(links)


@pytest.mark.postgres
def test_three_workers_store_what_one_pass_stores(three_workers_polled: Run) -> None:
    directory = three_workers_polled.directory
    reference = f"sqlite:///{directory / 'one-worker.db'}"
    subprocess.run(
        aggregator_command("poll", "--all", "--config", str(directory / "feeds.yaml"),
                           "--db", reference),
        check=True, capture_output=True, timeout=120,
    )

    def summary(entries: list[StoredEntry]) -> set[tuple[str | None, str, tuple[str, ...]]]:
        return {
            (e.link, e.title, tuple(sorted(r.source_id for r in e.reports))) for e in entries
        }

    assert summary(stored_entries(three_workers_polled.db_url)) == summary(
        stored_entries(reference)
    )


# --- a worker that dies ------------------------------------------------------------------

LEASE_S = 5


@pytest.mark.postgres
def test_a_killed_workers_source_is_polled_again_after_its_lease_and_only_then(
    feed_server: FeedServer, postgres_url: str, tmp_path: Path
) -> None:
    upgrade(postgres_url)
    feed = city_feed("第一則", "第二則")
    arrivals: list[float] = []

    def answer(request: RequestInfo) -> Reply:
        arrivals.append(time.monotonic())
        pieces = [feed[:100], feed[100:]] if len(arrivals) == 1 else [feed]
        # The first answer trickles: the worker is inside that poll when it is killed.
        return Reply(pieces, chunk_delay=60, headers={"Content-Type": "application/rss+xml"})

    feed_server.handle("/city.xml", answer)
    config = one_source_config(feed_server, tmp_path)
    with WorkerProcess(config, postgres_url, log=tmp_path / "killed.log",
                       lease_seconds=LEASE_S) as doomed:
        assert wait_until(lambda: len(arrivals) == 1, timeout=60), doomed.log_text()
        doomed.kill()
    after_kill = (stored_titles(postgres_url), source_status(postgres_url))
    with WorkerProcess(config, postgres_url, log=tmp_path / "survivor.log",
                       lease_seconds=LEASE_S) as survivor:
        taken_over = wait_until(
            lambda: stored_titles(postgres_url) == {"第一則", "第二則"}, timeout=60
        )
        assert survivor.stop() == 0
    assert after_kill == (set(), "never")  # nothing of the interrupted poll was written
    assert taken_over, survivor.log_text()[-3000:]
    # The claim came a moment before the first request: allow that moment.
    assert arrivals[1] - arrivals[0] >= LEASE_S - 1


def source_status(db_url: str) -> str:
    store = open_store(db_url)
    try:
        return next(health.status for health in store.source_health() if health.id == "city")
    finally:
        store.close()


# --- SQLite: one worker ------------------------------------------------------------------


def test_a_second_worker_on_sqlite_refuses_to_start(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.serve("/city.xml", city_feed("第一則"))
    config = one_source_config(feed_server, tmp_path)
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    with WorkerProcess(config, db_url, log=tmp_path / "first.log") as first:
        assert wait_until(lambda: "worker started" in first.log_text(), timeout=60)
        second = subprocess.run(
            aggregator_command("worker", "--config", str(config), "--db", db_url),
            capture_output=True, text=True, timeout=60,
        )
        assert first.stop() == 0
    assert second.returncode == 1
    assert "another worker is already polling" in second.stderr
    assert "use PostgreSQL" in second.stderr


def test_a_lease_that_is_not_a_number_of_seconds_is_refused_in_words(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    config = one_source_config(feed_server, tmp_path)
    refused = subprocess.run(
        aggregator_command("worker", "--config", str(config),
                           "--db", f"sqlite:///{tmp_path / 'store.db'}"),
        env=dict(os.environ, AGGREGATOR_LEASE_SECONDS="5 minutes"),
        capture_output=True, text=True, timeout=60,
    )

    assert refused.returncode == 1
    assert "AGGREGATOR_LEASE_SECONDS='5 minutes' is not a number of seconds" in refused.stderr
