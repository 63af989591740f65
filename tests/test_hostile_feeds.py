"""Server-controlled text is bounded before it is stored: whatever a server or a feed
sends (NUL in a status line or a header, an 8,000-character guid, a megabyte title, more
new entries than a poll takes), the pass completes, the store takes it on SQLite and on
PostgreSQL alike, and the source's health says what was cut."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.config.load import config_from_text
from aggregator.decide import MAX_NEW_REPORTS
from aggregator.fetch.fetcher import Fetcher
from aggregator.models import Config, EntryQuery, SourceHealth, StoredEntry
from aggregator.parse.feed import MAX_CONTENT, MAX_TITLE
from aggregator.schedule.poll import PassSummary, Poller
from aggregator.store import Store
from tests.feedbuilder import FeedItem, rss
from tests.feedserver import FeedServer, Reply, RequestInfo

HEALTHY = rss([FeedItem("健康來源新聞", link="https://healthy.example.tw/1", guid="h1")])
DAY = datetime(2025, 3, 22, tzinfo=UTC)


@dataclass
class Sources:
    """Two sources on the feed server: `hostile` at /hostile, and a healthy one beside it."""

    server: FeedServer
    store: Store
    config: Config

    def poll(self) -> PassSummary:
        now = datetime.now(UTC)
        self.store.sync_sources(self.config.sources, now)
        poller = Poller(self.config, self.store, Fetcher(allow_private_addresses=True))
        try:
            return poller.poll(self.store.due_sources(now, include_not_due=True))
        finally:
            poller.close()

    def health(self, source_id: str = "hostile") -> SourceHealth:
        return next(h for h in self.store.source_health() if h.id == source_id)

    def entries(self, source_id: str = "hostile") -> list[StoredEntry]:
        return list(self.store.entries(EntryQuery(source=source_id, limit=200)).entries)

    def stored_count(self, source_id: str = "hostile") -> int:
        return self.health(source_id).entries


@pytest.fixture
def sources(feed_server: FeedServer, store: Store) -> Iterator[Sources]:
    feed_server.serve("/healthy.xml", HEALTHY)
    text = "settings:\n  allow_private_addresses: true\ncategories:\n  news: {title: 新聞}\n" \
        "sources:\n" + "".join(
            f"  - id: {name}\n    url: {feed_server.url(path)}\n    categories: [news]\n"
            for name, path in (("healthy", "/healthy.xml"), ("hostile", "/hostile"))
        )
    yield Sources(feed_server, store, config_from_text(text, "feeds.yaml"))


def assert_healthy_source_unaffected(sources: Sources) -> None:
    assert sources.health("healthy").status == "ok"
    assert [entry.title for entry in sources.entries("healthy")] == ["健康來源新聞"]


def test_a_nul_in_the_status_line_is_a_failure_in_clean_words(sources: Sources) -> None:
    sources.server.handle("/hostile", lambda _: Reply(b"", status=599, reason="Bad\x00R"))
    summary = sources.poll()

    assert (summary.ok, summary.failed) == (1, 1)
    health = sources.health()
    assert health.status == "failing"
    assert health.last_error is not None and "599 BadR" in health.last_error
    assert_healthy_source_unaffected(sources)


def test_a_nul_in_the_validators_is_removed_before_they_are_stored_and_sent_back(
    sources: Sources,
) -> None:
    sources.server.handle(
        "/hostile",
        lambda _: Reply(HEALTHY.replace(b"h1", b"x1"), headers={
            "Content-Type": "application/rss+xml",
            "ETag": '"v\x001"',
            "Last-Modified": "Sat, 22 Mar 2025 10:00:00 GMT\x00",
        }),
    )
    sources.poll()
    assert sources.health().status == "ok"
    sources.poll()

    again: RequestInfo = sources.server.requests_to("/hostile")[-1]
    assert again.header("If-None-Match") == '"v1"'
    assert again.header("If-Modified-Since") == "Sat, 22 Mar 2025 10:00:00 GMT"
    assert_healthy_source_unaffected(sources)


def test_a_guid_of_8000_characters_is_stored_once(sources: Sources) -> None:
    chosen = random.Random(8000)
    guids = ["".join(chosen.choices(string.printable[:94], k=8000)) for _ in range(2)]
    items = [
        FeedItem(f"長識別碼 {n}", link=f"https://example.tw/{n}", guid=guid, published=DAY)
        for n, guid in enumerate(guids)
    ]
    sources.server.serve("/hostile", rss(items))
    sources.poll()
    assert sorted(entry.title for entry in sources.entries()) == ["長識別碼 0", "長識別碼 1"]

    sources.server.serve("/hostile", rss(items) + b"\n")  # another body: parsed again
    assert sources.poll().new == 0
    assert sources.stored_count() == 2


def test_a_megabyte_title_and_content_are_cut_and_the_health_says_so(
    sources: Sources,
) -> None:
    item = FeedItem("颱" * 1_000_000, link="https://example.tw/big", guid="big",
                    content="<p>" + "長文" * 500_000 + "</p>", published=DAY)
    sources.server.serve("/hostile", rss([item]))
    sources.poll()

    [entry] = sources.entries()
    assert len(entry.title) == MAX_TITLE and entry.title.endswith("…")
    assert MAX_CONTENT - 100 < len(entry.content) < MAX_CONTENT + 100
    assert entry.content.startswith("<p>長文") and entry.content.endswith("</p>")
    health = sources.health()
    assert health.status == "ok"
    assert "1 title too long for the store: cut to 500 characters" in health.notes
    assert "1 content too long for the store: cut to about 200,000 characters" in health.notes


def test_a_date_nobody_can_use_is_noted_and_the_entry_dated_when_first_seen(
    sources: Sources,
) -> None:
    zero = "Mon, 01 Jan 0001 00:00:00 +0000"
    sources.server.serve("/hostile", rss([
        FeedItem("零時", link="https://example.tw/zero", guid="zero", published=zero),
    ]))
    before = datetime.now(UTC)
    sources.poll()

    [entry] = sources.entries()
    assert entry.published >= before - timedelta(seconds=1)
    assert sources.health().notes == (
        f"1 entry without a usable date (such as {zero!r}: before 1990, more than a day "
        "ahead, or unreadable), dated when first seen",
    )


def test_a_feed_with_more_new_entries_than_a_poll_takes_is_stored_newest_first_over_polls(
    sources: Sources,
) -> None:
    offered = MAX_NEW_REPORTS + 20
    items = [
        FeedItem(f"大量新聞 {n}", link=f"https://example.tw/{n}", guid=f"g{n}",
                 published=DAY - timedelta(minutes=n))
        for n in range(offered)
    ]
    sources.server.serve("/hostile", rss(items), etag='"all"')
    first = sources.poll()

    assert first.new == MAX_NEW_REPORTS + 1  # and the healthy source's one
    newest = {entry.title for entry in sources.entries()}
    assert "大量新聞 0" in newest
    assert sources.health().notes == (
        f"the feed offered {offered:,} new entries; a poll takes the newest "
        f"{MAX_NEW_REPORTS:,}, so 20 older ones wait for the next polls",
    )

    assert sources.poll().new == 20
    assert sources.health().notes == ()
    assert sources.poll().new == 0
    assert sources.stored_count() == offered
