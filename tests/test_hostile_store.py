"""The store holds whatever a feed managed to say: dates at the calendar's ends never
raise, on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest

from aggregator.dedupe import fingerprint_reports
from aggregator.models import EntryQuery, PollOutcome
from aggregator.parse.dates import EARLIEST_USABLE
from aggregator.schedule.retention import remove_expired
from aggregator.store import Store
from aggregator.store.merge import MAX_KEY_HOLDERS
from aggregator.store.sources import MAX_ERROR
from aggregator.web import create_app
from tests.storedata import T0, outcome, report, source


def fingerprinted(polled: PollOutcome) -> PollOutcome:
    assert polled.plan is not None
    prints = fingerprint_reports(polled.plan.new, frozenset())
    return replace(polled, plan=replace(polled.plan, fingerprints=prints))


@pytest.mark.parametrize(
    "published",
    [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)],
    ids=["year-1", "year-9999"],
)
def test_a_stored_date_at_the_calendars_end_does_not_stop_merging(
    store: Store, published: datetime
) -> None:
    # Written before the parser bounded dates: merging a later copy must not overflow.
    store.sync_sources([source("a"), source("b")], T0)
    text = "<p>高雄市政府今日宣布颱風假，明日停止上班上課，請市民注意安全。</p>"
    first = report("a", "1", title="颱風假", content=text, published=published)
    store.apply_poll(fingerprinted(outcome("a", new=[first])))
    copy = report("b", "1", title="颱風假", content=text, published=published)
    counts = store.apply_poll(fingerprinted(outcome("b", new=[copy])))

    assert counts.new + counts.merged == 1
    titles = [entry.title for entry in store.entries(EntryQuery(limit=10)).entries]
    assert titles.count("颱風假") >= 1


@pytest.mark.parametrize(
    "published",
    [datetime(1, 1, 1, tzinfo=UTC), EARLIEST_USABLE],
    ids=["year-1", "earliest-usable"],
)
def test_an_entry_dated_at_the_calendars_end_is_served_and_expired_without_error(
    store: Store, db_url: str, tmp_path: Path, published: datetime
) -> None:
    store.sync_sources([source("a")], T0)
    edge = report("a", "edge", title="邊界日期", published=published)
    store.apply_poll(fingerprinted(outcome("a", new=[edge, report("a", "normal")])))
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "categories:\n  news: {title: 新聞}\n"
        "sources:\n  - id: a\n    url: http://127.0.0.1:9/a.xml\n    categories: [news]\n",
        encoding="utf-8",
    )
    client = create_app({"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(config)}).test_client()

    for path in ("/", "/api/entries", "/feeds/all.json", "/sources", "/embed/news"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "邊界日期" in answer.get_data(as_text=True) or path == "/sources"
    for path in ("/feeds/all.atom", "/feeds/all.rss", "/feeds/news.atom"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "邊界日期" in ElementTree.tostring(ElementTree.fromstring(answer.data),
                                                 encoding="unicode")

    remove_expired(store, 365, datetime.now(UTC))


def test_a_text_repeated_by_more_reports_than_a_key_may_hold_merges_nothing(
    store: Store,
) -> None:
    # A flood of one text shares every band key: which of its entries a copy belongs to
    # cannot be told, and reading every holder would hold the writer for minutes.
    store.sync_sources([source("a"), source("b")], T0)
    text = "<p>高雄市政府今日宣布颱風假，明日停止上班上課，請市民注意安全並留意最新消息。</p>"
    flood = [
        report("a", f"flood-{n}", title="颱風假", content=text, link=f"http://a.example/{n}")
        for n in range(MAX_KEY_HOLDERS + 1)
    ]
    store.apply_poll(fingerprinted(outcome("a", new=flood)))

    copy = report("b", "copy", title="颱風假", content=text)
    counts = store.apply_poll(fingerprinted(outcome("b", new=[copy])))
    assert (counts.new, counts.merged) == (1, 0)


def test_a_text_held_by_fewer_reports_than_the_bound_still_merges(store: Store) -> None:
    store.sync_sources([source("a"), source("b")], T0)
    text = "<p>高雄市政府今日宣布颱風假，明日停止上班上課，請市民注意安全並留意最新消息。</p>"
    store.apply_poll(fingerprinted(outcome("a", new=[
        report("a", "original", title="颱風假", content=text)
    ])))

    copy = report("b", "copy", title="颱風假", content=text)
    counts = store.apply_poll(fingerprinted(outcome("b", new=[copy])))
    assert (counts.new, counts.merged) == (0, 1)


def test_an_error_quoting_a_server_is_stored_without_nul_and_bounded(store: Store) -> None:
    store.sync_sources([source("a")], T0)
    quoted = "the server said: Bad\x00R " + "說" * 10_000
    store.apply_poll(outcome("a", status="failed", error=quoted))

    [health] = store.source_health()
    assert health.status == "failing"
    assert health.last_error is not None
    assert health.last_error.startswith("the server said: BadR 說")
    assert len(health.last_error) == MAX_ERROR
