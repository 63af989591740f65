"""Parsing in worker processes: a process that dies costs one source one poll, and the
processes never outlive the aggregator process that started them, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aggregator.config.load import config_from_text
from aggregator.fetch.fetcher import Fetcher
from aggregator.models import EntryQuery, ParsedFeed
from aggregator.parse.feed import parse_feed
from aggregator.schedule.poll import Poller, Stages
from aggregator.store import Store
from tests.feedserver import FeedServer, Reply, RequestInfo
from tests.fixtures_http import read_data
from tests.newsfarm import aggregator_command, wait_until

DIES = b"<!-- the parse process dies on this feed -->"
# Generous: the machine running the tests may be busy; a pidfd wakes a parse process at once.
EXIT_DEADLINE_S = 20


def _parse_or_die(body: bytes, **fields: Any) -> ParsedFeed:
    """A parse stage whose process dies (as on running out of memory) on a marked feed.
    Module level: it is sent to the parse processes by name."""
    if DIES in body:
        os._exit(70)
    return parse_feed(body, **fields)


def test_a_parse_process_that_dies_fails_its_source_and_the_next_poll_parses_again(
    feed_server: FeedServer, store: Store
) -> None:
    config = config_from_text(
        "settings:\n  allow_private_addresses: true\ncategories:\n  news:\n    title: 新聞\n"
        f"sources:\n  - id: city\n    url: {feed_server.url('/city.xml')}\n"
        "    categories: [news]\n",
        "feeds.yaml",
    )
    now = datetime.now(UTC)
    store.sync_sources(config.sources, now)
    poller = Poller(config, store, Fetcher(allow_private_addresses=True),
                    stages=Stages(parse=_parse_or_die))
    try:
        feed_server.serve("/city.xml", read_data("feeds/rss20.xml") + DIES)
        crashed = poller.poll(store.due_sources(now, include_not_due=True))
        health = next(h for h in store.source_health() if h.id == "city")
        feed_server.serve("/city.xml", read_data("feeds/rss20.xml"))
        recovered = poller.poll(store.due_sources(now, include_not_due=True))
    finally:
        poller.close()

    assert crashed.failed == 1
    assert health.last_error == "the parser crashed on this feed"
    assert recovered.ok == 1
    assert store.entries(EntryQuery(source="city")).entries


# --- the processes end with the aggregator ----------------------------------------------


def _session(session: int) -> dict[int, int]:
    """The running processes of `session` (a process and all it started): pid → parent."""
    members: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except (FileNotFoundError, ProcessLookupError):  # it ended meanwhile
            continue
        state, parent, _, its_session = text[text.rindex(")") + 2 :].split()[:4]
        if int(its_session) == session and state not in ("Z", "X"):
            members[int(stat.parent.name)] = int(parent)
    return members


@pytest.fixture
def stuck_source(feed_server: FeedServer) -> Iterator[threading.Event]:
    """`/stuck.xml` answers only once the event is set: the aggregator stays mid-pass."""
    release = threading.Event()

    def answer(request: RequestInfo) -> Reply:
        release.wait(60)
        return Reply(read_data("feeds/rss20.xml"))

    feed_server.handle("/stuck.xml", answer)
    yield release
    release.set()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("command", [["poll", "--all"], ["worker"]], ids=" ".join)
def test_parse_processes_exit_when_the_aggregator_is_killed(
    feed_server: FeedServer, stuck_source: threading.Event, tmp_path: Path, command: list[str]
) -> None:
    feed_server.serve("/quick.xml", read_data("feeds/rss20.xml"))
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "settings:\n  allow_private_addresses: true\ncategories:\n  news:\n    title: 新聞\n"
        "sources:\n"
        f"  - id: quick\n    url: {feed_server.url('/quick.xml')}\n    categories: [news]\n"
        f"  - id: stuck\n    url: {feed_server.url('/stuck.xml')}\n    categories: [news]\n",
        encoding="utf-8",
    )
    aggregator = subprocess.Popen(
        aggregator_command(*command, "--config", str(config),
                           "--db", f"sqlite:///{tmp_path / 'store.db'}"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # everything it starts is in its session, wherever it moves
    )
    try:
        # The quick feed was parsed, so a parse process (a grandchild) runs, and the stuck
        # one is awaited.
        mid_pass = wait_until(
            lambda: bool(feed_server.requests_to("/stuck.xml")) and any(
                pid != aggregator.pid and parent != aggregator.pid
                for pid, parent in _session(aggregator.pid).items()
            ),
            timeout=60,
        )
        aggregator.kill()  # SIGKILL: nothing of it runs after this
        aggregator.wait()
        ended = wait_until(lambda: not _session(aggregator.pid), timeout=EXIT_DEADLINE_S)
        left = _session(aggregator.pid)
    finally:
        if aggregator.poll() is None:
            aggregator.kill()
            aggregator.wait()
        for pid in _session(aggregator.pid):
            os.kill(pid, signal.SIGKILL)

    assert mid_pass, "the aggregator never got to parsing"
    assert ended, f"still running {EXIT_DEADLINE_S} s after the kill: {sorted(left)}"
