"""A poll pass end to end: real HTTP from a local server, real parsing, a real store.

Every messy source in the corpus is polled beside a healthy one: the messy one ends
stored or marked failing with a reason a person can act on, the healthy one is never
affected, and a second poll never stores a second copy of anything.
"""

from __future__ import annotations

import functools
import gzip
import logging
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aggregator.config.load import config_from_text
from aggregator.decide import plan_writes
from aggregator.dedupe import fingerprint_reports
from aggregator.fetch.fetcher import Fetcher
from aggregator.models import (
    Config,
    EntryQuery,
    KnownReport,
    ParsedFeed,
    PollOutcome,
    Report,
    SourceHealth,
    WriteCounts,
    WritePlan,
)
from aggregator.parse.feed import parse_feed
from aggregator.schedule.due import JITTER
from aggregator.schedule.poll import PRODUCTION_STAGES, PassSummary, Poller, Stages
from aggregator.store import Store
from tests.feedbuilder import FeedItem, rss
from tests.feedserver import FeedServer, Reply, RequestInfo
from tests.fixtures_http import read_data
from tests.inline import InlineExecutor

HEALTHY = rss(
    [
        FeedItem(f"健康來源新聞 {n}", link=f"https://healthy.example.tw/{n}", guid=f"h{n}")
        for n in range(3)
    ]
)


def make_config(server: FeedServer, paths: dict[str, str]) -> Config:
    sources = "".join(
        f"  - id: {source_id}\n    url: {server.url(path)}\n    categories: [news]\n"
        for source_id, path in paths.items()
    )
    text = (
        "settings:\n  allow_private_addresses: true\n"
        "categories:\n  news:\n    title: 新聞\nsources:\n" + sources
    )
    return config_from_text(text, "feeds.yaml")


@dataclass
class Harness:
    server: FeedServer
    store: Store
    config: Config
    now: datetime = field(default_factory=lambda: datetime.now(UTC))  # the poller's clock

    def poll(
        self, fetcher: Fetcher | None = None, *, stages: Stages = PRODUCTION_STAGES
    ) -> PassSummary:
        self.store.sync_sources(self.config.sources, self.now)
        poller = Poller(
            self.config,
            self.store,
            fetcher
            or Fetcher(allow_private_addresses=True, timeout=3.0, max_bytes=4 * 1024 * 1024),
            stages=stages,
            parse_executor=InlineExecutor(),
            clock=lambda: self.now,
        )
        try:
            return poller.poll(self.store.due_sources(self.now, include_not_due=True))
        finally:
            poller.close()

    def titles(self, source: str) -> list[str]:
        page = self.store.entries(EntryQuery(source=source, limit=200))
        return sorted(entry.title for entry in page.entries)

    def health(self, source: str) -> SourceHealth:
        return next(h for h in self.store.source_health() if h.id == source)


@pytest.fixture
def harness(feed_server: FeedServer, store: Store) -> Iterator[Callable[..., Harness]]:
    def build(**paths: str) -> Harness:
        feed_server.serve("/healthy.xml", HEALTHY, etag='"healthy-1"')
        return Harness(
            feed_server, store, make_config(feed_server, {"healthy": "/healthy.xml", **paths})
        )

    yield build


# --- sources that must end up stored ---------------------------------------------------

STORED = {
    "rss20.xml": "application/rss+xml",
    "rss091.xml": "application/rss+xml",
    "rss10_rdf.xml": "application/rdf+xml",
    "atom10.xml": "application/atom+xml",
    "atom03.xml": "application/atom+xml",
    "jsonfeed11.json": "application/feed+json",
    "jsonfeed10.json": "application/json",
    "big5.xml": "application/rss+xml; charset=big5",
    "cp950_declared_big5.xml": "application/rss+xml; charset=big5",
    "roc_dates.xml": "application/rss+xml",
    "ampm_dates.xml": "application/rss+xml",
    "shared_link.xml": "application/rss+xml",
    "no_dates.xml": "application/rss+xml",
    "control_chars.xml": "application/rss+xml",
}


@pytest.mark.parametrize("name", sorted(STORED))
def test_a_feed_is_stored_once_however_often_it_is_polled(
    harness: Callable[..., Harness], name: str
) -> None:
    h = harness(messy="/messy")
    h.server.serve("/messy", read_data(f"feeds/{name}"), content_type=STORED[name])
    first = h.poll()
    stored = h.titles("messy")
    assert stored, f"{name}: nothing stored"
    assert h.health("messy").status == "ok"
    assert first.failed == 0

    again = h.poll()
    assert h.titles("messy") == stored
    assert again.new == 0 and again.updated == 0
    assert h.titles("healthy") == sorted(f"健康來源新聞 {n}" for n in range(3))


def test_big5_titles_read_as_the_characters_they_are(harness: Callable[..., Harness]) -> None:
    h = harness(big5="/big5")
    h.server.serve(
        "/big5",
        read_data("feeds/cp950_declared_big5.xml"),
        content_type="application/rss+xml; charset=big5",
    )
    h.poll()
    # 碁 and 裏 exist in cp950 only: a strict Big5 decoder would mangle them.
    assert "圍碁比賽在裏港舉行" in h.titles("big5")


def test_items_sharing_one_link_stay_separate_entries(harness: Callable[..., Harness]) -> None:
    h = harness(shared="/shared")
    h.server.serve("/shared", read_data("feeds/shared_link.xml"))
    h.poll()
    assert len(h.titles("shared")) > 1


def test_a_flood_of_one_guid_is_stored_as_one_entry(harness: Callable[..., Harness]) -> None:
    flood = rss(
        [
            FeedItem(f"重複 {n}", guid="same-guid", link=f"https://a.example.tw/{n}")
            for n in range(10_000)
        ]
    )
    h = harness(flood="/flood")
    h.server.serve("/flood", flood)
    h.poll()
    h.poll()
    assert len(h.titles("flood")) == 1


# --- sources that must fail, with a reason, harming nothing ----------------------------


@functools.cache
def _bomb_body() -> bytes:
    # 16 MB of spaces compresses to about 16 KB: four times the harness's body cap.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(b"<rss>" + b" " * (16 * 1024 * 1024)) + compressor.flush()


def _gzip_bomb(request: RequestInfo) -> Reply:
    return Reply(_bomb_body(), headers={"Content-Encoding": "gzip",
                                        "Content-Type": "application/rss+xml"})


def _trickle(request: RequestInfo) -> Reply:
    return Reply([b"<rss version='2.0'>"] + [b" "] * 100, chunk_delay=0.5)


def _redirect_to(target: str) -> Callable[[RequestInfo], Reply]:
    return lambda request: Reply(status=302, headers={"Location": target})


FAILING: dict[str, tuple[Callable[[FeedServer], None], str]] = {
    "server error": (lambda s: s.serve("/messy", "oops", status=500), "500"),
    "not found": (lambda s: s.serve("/messy", "gone", status=404), "404"),
    "rate limited": (
        lambda s: s.serve("/messy", "", status=429, headers={"Retry-After": "3600"}),
        "429",
    ),
    "html page": (
        lambda s: s.serve(
            "/messy", read_data("feeds/html_page.html"), content_type="text/html; charset=utf-8"
        ),
        "HTML",
    ),
    "json, not a feed": (
        lambda s: s.serve(
            "/messy", read_data("feeds/not_a_feed.json"), content_type="application/json"
        ),
        "JSON",
    ),
    "truncated xml": (lambda s: s.serve("/messy", read_data("feeds/truncated.xml")), "XML"),
    "trickling server": (lambda s: s.handle("/messy", _trickle), "slow"),
    "oversized body": (lambda s: s.serve("/messy", b"<rss>" + b" " * (5 * 1024 * 1024)), "larger"),
    "gzip bomb": (lambda s: s.handle("/messy", _gzip_bomb), "larger"),
    "redirect loop": (lambda s: s.handle("/messy", _redirect_to("/messy")), "redirect"),
    "304 to an unconditional request": (
        lambda s: s.handle("/messy", lambda request: Reply(status=304)),
        "not modified",
    ),
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_a_broken_source_is_marked_failing_and_harms_no_other(
    harness: Callable[..., Harness], case: str
) -> None:
    setup, reason = FAILING[case]
    h = harness(messy="/messy")
    setup(h.server)
    summary = h.poll()
    health = h.health("messy")
    assert health.status == "failing"
    assert health.failures == 1
    assert health.last_error and reason.lower() in health.last_error.lower(), health.last_error
    assert h.titles("messy") == []
    assert summary.failed == 1 and summary.ok == 1
    assert len(h.titles("healthy")) == 3


def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    feed_server: FeedServer, store: Store
) -> None:
    config = make_config(feed_server, {"messy": "/messy", "healthy": "/healthy.xml"})
    feed_server.serve("/healthy.xml", HEALTHY)
    feed_server.handle("/messy", _redirect_to("http://127.0.0.2:9/feed.xml"))
    h = Harness(feed_server, store, config)
    h.poll(Fetcher(allowed_addresses=["127.0.0.1"], timeout=2.0))
    health = h.health("messy")
    assert health.status == "failing"
    assert health.last_error and "127.0.0.2" in health.last_error
    assert len(h.titles("healthy")) == 3


@pytest.mark.parametrize("name", ["billion_laughs.xml", "xxe.xml"])
def test_hostile_xml_neither_hangs_nor_leaks(harness: Callable[..., Harness], name: str) -> None:
    h = harness(messy="/messy")
    h.server.serve("/messy", read_data(f"feeds/{name}"))
    h.poll()
    for entry in h.store.entries(EntryQuery(source="messy")).entries:
        assert "root:" not in entry.content and "lol" * 100 not in entry.content
    assert len(h.titles("healthy")) == 3


# --- conditional requests and unchanged bodies -----------------------------------------


def test_a_304_writes_nothing_and_counts_as_healthy(harness: Callable[..., Harness]) -> None:
    h = harness()
    h.poll()
    version = h.store.version()
    summary = h.poll()
    assert summary.not_modified == 1
    assert h.store.version() == version
    second = h.server.requests_to("/healthy.xml")[-1]
    assert second.header("If-None-Match") == '"healthy-1"'
    assert h.health("healthy").status == "ok"


def test_an_identical_body_is_not_parsed_again(harness: Callable[..., Harness]) -> None:
    h = harness(plain="/plain")
    h.server.serve("/plain", read_data("feeds/rss20.xml"))  # no validators: always 200
    h.poll()
    version = h.store.version()
    h.poll()
    assert h.store.version() == version


def test_an_edited_entry_is_updated_in_place(harness: Callable[..., Harness]) -> None:
    h = harness(edits="/edits")
    item = FeedItem(
        "市政會議決議",
        guid="e1",
        link="https://a.example.tw/e1",
        published=datetime(2025, 3, 22, 2, tzinfo=UTC),
    )
    h.server.serve("/edits", rss([item]))
    h.poll()
    h.server.serve(
        "/edits",
        rss(
            [
                FeedItem(
                    "市政會議決議（更新）",
                    guid="e1",
                    link="https://a.example.tw/e1",
                    published=item.published,
                )
            ]
        ),
    )
    summary = h.poll()
    assert summary.updated == 1
    assert h.titles("edits") == ["市政會議決議（更新）"]


def test_retry_after_postpones_the_next_poll(harness: Callable[..., Harness]) -> None:
    h = harness(busy="/busy")
    h.server.serve("/busy", "", status=503, headers={"Retry-After": "7200"})
    h.poll()
    next_poll = h.health("busy").next_poll
    assert next_poll is not None
    assert next_poll >= h.now + timedelta(minutes=110)


def test_gzip_encoded_feeds_are_read(harness: Callable[..., Harness]) -> None:
    h = harness(gz="/gz")
    h.server.serve(
        "/gz", gzip.compress(read_data("feeds/rss20.xml")), headers={"Content-Encoding": "gzip"}
    )
    h.poll()
    assert h.titles("gz")


RELEASE = (
    "高雄市政府今日宣布，為因應颱風來襲，全市各級學校明日停課一天，市民應避免外出。"
    "市長表示，各區公所已完成防災整備，災害應變中心將持續監控雨量與風速變化。"
    "工務局也派員巡查抽水站與低窪地區，確保排水功能正常運作。"
)


def test_a_republished_copy_polled_from_another_source_joins_the_original(
    harness: Callable[..., Harness],
) -> None:
    h = harness(city="/city", outlet="/outlet")
    published = datetime(2025, 3, 22, 2, tzinfo=UTC)
    h.server.serve("/city", rss([FeedItem("颱風停課公告", link="https://kcg.example.tw/1",
                                          description=f"<p>{RELEASE}</p>",
                                          published=published)]))
    copy = f"<p>【記者王小明／高雄報導】</p><p>{RELEASE}</p><p>相關新聞：市長視察抽水站</p>"
    h.server.serve("/outlet", rss([FeedItem("高雄明停課 市府：避免外出", guid="o1",
                                            link="https://news.example.tw/o1",
                                            description=copy,
                                            published=published + timedelta(hours=2))]))

    summary = h.poll()

    assert summary.merged == 1
    entries = h.store.entries(EntryQuery(source="outlet")).entries
    assert [[r.source_id for r in entry.reports] for entry in entries] == [["city", "outlet"]]


# --- a failure in any stage of one source ends that source's poll, never the pass -----


def _only_for_broken(url_or_source: str) -> bool:
    return "broken" in url_or_source


def _parse_or_raise(body: bytes, *, url: str, **fields: Any) -> ParsedFeed:
    if _only_for_broken(url):
        raise KeyError("guid")
    return parse_feed(body, url=url, **fields)


def _decide_or_raise(
    source_id: str, feed: ParsedFeed, known: Mapping[str, KnownReport], fetched_at: datetime
) -> WritePlan:
    if _only_for_broken(source_id):
        raise ZeroDivisionError("division by zero")
    return plan_writes(source_id, feed, known, fetched_at)


def _fingerprint_or_raise(
    reports: Sequence[Report], boilerplate: frozenset[str]
) -> tuple[bytes, ...]:
    if _only_for_broken(reports[0].source_id):
        raise MemoryError("out of memory")
    return fingerprint_reports(reports, boilerplate)


def _decide_one_report_twice(
    source_id: str, feed: ParsedFeed, known: Mapping[str, KnownReport], fetched_at: datetime
) -> WritePlan:
    """A plan the store refuses half-way through its transaction."""
    plan = plan_writes(source_id, feed, known, fetched_at)
    if _only_for_broken(source_id):
        return replace(plan, new=plan.new + plan.new[:1])
    return plan


STAGE_FAILURES: dict[str, tuple[Stages, str]] = {
    "parse": (Stages(parse=_parse_or_raise), "while parsing the feed (KeyError)"),
    "decide": (Stages(decide=_decide_or_raise), "while comparing its entries with the stored"
               " ones (ZeroDivisionError)"),
    "fingerprint": (Stages(fingerprint=_fingerprint_or_raise),
                    "while fingerprinting its new entries (MemoryError)"),
    "write": (Stages(decide=_decide_one_report_twice), "while storing its entries (StoreError)"),
}


@pytest.mark.parametrize("stage", sorted(STAGE_FAILURES))
def test_a_failure_in_any_stage_fails_that_source_only_and_it_is_retried_on_backoff(
    harness: Callable[..., Harness], stage: str, caplog: pytest.LogCaptureFixture
) -> None:
    stages, reason = STAGE_FAILURES[stage]
    h = harness(broken="/broken.xml", other="/other.xml")
    h.server.serve("/broken.xml", read_data("feeds/rss20.xml"))
    h.server.serve("/other.xml", read_data("feeds/atom10.xml"))

    with caplog.at_level(logging.ERROR, logger="aggregator.schedule.poll"):
        first = h.poll(stages=stages)

    assert (first.ok, first.failed) == (2, 1)
    assert len(h.titles("healthy")) == 3 and h.titles("other")
    assert h.titles("broken") == []  # what the store had begun to write was rolled back
    broken = h.health("broken")
    assert broken.status == "failing"
    assert broken.last_error and reason in broken.last_error
    assert "the other sources were polled" in broken.last_error
    [logged] = [r for r in caplog.records if getattr(r, "source", None) == "broken"]
    assert logged.exception == reason.split("(")[1].rstrip(")")

    # Retried on its backoff, not at once: the interval after one failure, twice it after two.
    interval = h.config.sources[0].interval
    assert broken.next_poll is not None
    assert broken.next_poll >= h.now + interval * (1 - JITTER)
    h.poll(stages=stages)
    again = h.health("broken")
    assert again.failures == 2
    assert again.next_poll is not None and again.next_poll >= h.now + 2 * interval * (1 - JITTER)


def test_a_feed_dated_in_year_one_does_not_stop_the_pass(
    harness: Callable[..., Harness],
) -> None:
    h = harness(zero="/zero.xml", other="/other.xml")
    h.server.serve("/zero.xml", read_data("feeds/go_zero_time.xml"))
    h.server.serve("/other.xml", read_data("feeds/atom10.xml"))

    summary = h.poll()

    assert summary.ok + summary.failed == 3
    assert len(h.titles("healthy")) == 3 and h.titles("other")
    zero = h.health("zero")
    # Stored, or failing with a reason: either way the pass went on past it.
    assert zero.status == "ok" or "the other sources were polled" in (zero.last_error or "")


def test_a_failing_progress_callback_is_logged_and_the_pass_goes_on(
    harness: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = harness(other="/other.xml")
    h.server.serve("/other.xml", read_data("feeds/atom10.xml"))
    h.store.sync_sources(h.config.sources, h.now)
    told: list[str] = []

    def progress(outcome: PollOutcome, counts: WriteCounts) -> None:
        told.append(outcome.source_id)
        raise RuntimeError("the alerting queue is full")

    poller = Poller(h.config, h.store, Fetcher(allow_private_addresses=True),
                    parse_executor=InlineExecutor(), clock=lambda: h.now)
    try:
        with caplog.at_level(logging.ERROR, logger="aggregator.schedule.poll"):
            summary = poller.poll(h.store.due_sources(h.now, include_not_due=True), progress)
    finally:
        poller.close()

    assert sorted(told) == ["healthy", "other"]
    assert summary.ok == 2
    assert len(h.titles("healthy")) == 3 and h.titles("other")
    assert {getattr(r, "exception", None) for r in caplog.records} == {"RuntimeError"}
