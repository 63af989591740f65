"""The store, on a real database: what a reader, the scheduler and the web app get back."""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.models import ENTRIES, POLLS, EntryQuery, StoredEntry
from aggregator.store import Store, StoreError, StoreUnavailable, open_store
from aggregator.store.alerts import AlertStore
from tests.storedata import T0, outcome, report, source

HOUR = timedelta(hours=1)
LEASE = timedelta(minutes=5)


@pytest.fixture
def two_sources(store: Store) -> Store:
    """Store with source `city` (category news) and `wire` (news and weather, priority 5)."""
    store.sync_sources(
        [source("city"), source("wire", categories=("news", "weather"), priority=5)], T0
    )
    return store


def all_entries(store: Store, **filters: str) -> list[StoredEntry]:
    return list(store.entries(EntryQuery(limit=200, **filters)).entries)


def titles(found: list[StoredEntry]) -> list[str]:
    return [entry.title for entry in found]


# --- writing and reading back ---------------------------------------------------


def test_new_entries_are_read_back_newest_first(two_sources: Store) -> None:
    counts = two_sources.apply_poll(
        outcome(
            "city",
            new=[
                report("city", "a", title="old", published=T0),
                report("city", "b", title="newest", published=T0 + 2 * HOUR),
                report("city", "c", title="middle", published=T0 + HOUR),
            ],
        )
    )

    assert counts.new == 3
    assert titles(all_entries(two_sources)) == ["newest", "middle", "old"]


def test_a_stored_entry_keeps_what_the_report_said(two_sources: Store) -> None:
    written = report("city", "a", title="颱風停班停課", link="http://news.example/typhoon")
    two_sources.apply_poll(outcome("city", new=[written]))

    [entry] = all_entries(two_sources)

    assert (entry.title, entry.link, entry.content) == (
        written.title,
        written.link,
        written.content,
    )
    assert entry.published == written.published
    assert entry.published.tzinfo is not None
    assert entry.categories == ("news",)
    assert [(r.source_id, r.title) for r in entry.reports] == [("city", "颱風停班停課")]
    assert two_sources.entry(entry.id) == entry


def test_an_unknown_uid_finds_no_entry(store: Store) -> None:
    assert store.entry("no-such-entry") is None


def test_known_reports_tell_decide_what_the_source_already_said(two_sources: Store) -> None:
    written = report("city", "a", published=T0)
    two_sources.apply_poll(outcome("city", new=[written]))

    known = two_sources.known_reports("city")

    assert list(known) == ["a"]
    assert known["a"].content_hash == written.content_hash
    assert known["a"].published == T0
    assert two_sources.known_reports("wire") == {}


# --- paging -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spacing", [HOUR, timedelta(0)], ids=["distinct-times", "all-at-the-same-time"]
)
def test_keyset_paging_visits_every_entry_exactly_once(
    two_sources: Store, spacing: timedelta
) -> None:
    written = [report("city", f"{n:02}", published=T0 + n * spacing) for n in range(23)]
    two_sources.apply_poll(outcome("city", new=written))

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = two_sources.entries(EntryQuery(limit=5, cursor=cursor))
        seen.extend(entry.title for entry in page.entries)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert pages == 5
    assert sorted(seen) == sorted(r.title for r in written)
    assert len(seen) == len(set(seen))


def test_the_last_page_has_no_next_cursor(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("city", new=[report("city", "a"), report("city", "b")]))

    assert two_sources.entries(EntryQuery(limit=2)).next_cursor is None


@pytest.mark.parametrize("cursor", ["", "not a cursor", "!!!", "MjAyNC0wNS0wMQ", "eHx5"])
def test_a_bad_cursor_is_refused_in_words(store: Store, cursor: str) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        store.entries(EntryQuery(cursor=cursor))


def test_category_filter_shows_only_that_category(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("city", new=[report("city", "a", title="city story")]))
    two_sources.apply_poll(outcome("wire", new=[report("wire", "b", title="wire story")]))

    assert titles(all_entries(two_sources, category="weather")) == ["wire story"]
    assert sorted(titles(all_entries(two_sources, category="news"))) == [
        "city story",
        "wire story",
    ]


def test_source_filter_shows_only_entries_that_source_reported(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("city", new=[report("city", "a", title="city story")]))
    two_sources.apply_poll(outcome("wire", new=[report("wire", "b", title="wire story")]))

    assert titles(all_entries(two_sources, source="city")) == ["city story"]


def test_category_pages_also_visit_every_entry_once(two_sources: Store) -> None:
    written = [report("wire", f"{n}", published=T0) for n in range(7)]
    two_sources.apply_poll(outcome("wire", new=written))

    first = two_sources.entries(EntryQuery(category="weather", limit=4))
    rest = two_sources.entries(EntryQuery(category="weather", limit=4, cursor=first.next_cursor))

    seen = titles(list(first.entries)) + titles(list(rest.entries))
    assert sorted(seen) == sorted(r.title for r in written)
    assert rest.next_cursor is None


# --- changes and merges -------------------------------------------------------------


def test_a_changed_report_updates_its_entry_and_moves_updated(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("city", new=[report("city", "a", title="draft")]))
    [before] = all_entries(two_sources)

    counts = two_sources.apply_poll(
        outcome(
            "city",
            changed=[report("city", "a", title="final")],
            attempted_at=T0 + HOUR,
        )
    )

    [after] = all_entries(two_sources)
    assert counts.updated == 1
    assert (after.id, after.title) == (before.id, "final")
    assert after.updated > before.updated


def test_a_report_with_the_same_link_from_another_source_merges(two_sources: Store) -> None:
    link = "http://news.example/story"
    two_sources.apply_poll(outcome("city", new=[report("city", "a", link=link, title="city")]))

    counts = two_sources.apply_poll(
        outcome("wire", new=[report("wire", "b", link=link, title="wire")])
    )

    [entry] = all_entries(two_sources)
    assert (counts.new, counts.merged) == (0, 1)
    assert sorted(r.source_id for r in entry.reports) == ["city", "wire"]
    assert entry.categories == ("news", "weather")


def test_the_shown_report_is_the_higher_priority_source_and_the_uid_stays(
    two_sources: Store,
) -> None:
    link = "http://news.example/story"
    two_sources.apply_poll(outcome("city", new=[report("city", "a", link=link, title="city")]))
    [first] = all_entries(two_sources)

    two_sources.apply_poll(outcome("wire", new=[report("wire", "b", link=link, title="wire")]))

    [merged] = all_entries(two_sources)
    assert merged.id == first.id
    assert merged.title == "wire"
    assert [r.source_id for r in merged.reports] == ["wire", "city"]


def test_between_equal_priorities_the_earliest_published_report_is_shown(store: Store) -> None:
    store.sync_sources([source("early"), source("late")], T0)
    link = "http://news.example/story"
    store.apply_poll(outcome("late", new=[report("late", "x", link=link, published=T0 + HOUR)]))
    store.apply_poll(outcome("early", new=[report("early", "y", link=link, published=T0)]))

    [entry] = all_entries(store)

    assert [r.source_id for r in entry.reports] == ["early", "late"]
    assert entry.published == T0


def test_same_link_twice_from_one_source_stays_two_entries(two_sources: Store) -> None:
    link = "http://news.example/index.html"
    two_sources.apply_poll(
        outcome("city", new=[report("city", "a", link=link), report("city", "b", link=link)])
    )

    assert len(all_entries(two_sources)) == 2


def test_entry_ids_are_the_same_when_the_same_feeds_are_ingested_again(
    tmp_path_factory: pytest.TempPathFactory, two_sources: Store
) -> None:
    from aggregator.store.migrate import upgrade

    other_url = f"sqlite:///{tmp_path_factory.mktemp('again') / 'store.db'}"
    upgrade(other_url)
    again = open_store(other_url)
    try:
        for target in (two_sources, again):
            target.sync_sources([source("city")], T0)
            target.apply_poll(outcome("city", new=[report("city", "a"), report("city", "b")]))

        assert {e.id for e in all_entries(two_sources)} == {e.id for e in all_entries(again)}
    finally:
        again.close()


# --- health ---------------------------------------------------------------------------


def health_of(store: Store, source_id: str) -> dict[str, object]:
    [health] = [h for h in store.source_health() if h.id == source_id]
    return {
        "status": health.status,
        "failures": health.failures,
        "last_error": health.last_error,
        "entries": health.entries,
    }


def test_a_source_never_polled_has_status_never(two_sources: Store) -> None:
    assert health_of(two_sources, "city")["status"] == "never"


def test_consecutive_failures_are_counted_with_the_last_error(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("city", status="failed", error="HTTP 503 from the server"))
    two_sources.apply_poll(outcome("city", status="failed", error="timed out after 30 s"))

    assert health_of(two_sources, "city") == {
        "status": "failing",
        "failures": 2,
        "last_error": "timed out after 30 s",
        "entries": 0,
    }


def test_a_success_after_failures_makes_the_source_ok_again(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("city", status="failed"))
    two_sources.apply_poll(outcome("city", status="not_modified", attempted_at=T0 + HOUR))

    assert health_of(two_sources, "city") == {
        "status": "ok",
        "failures": 0,
        "last_error": None,
        "entries": 0,
    }
    [health] = [h for h in two_sources.source_health() if h.id == "city"]
    assert health.last_success == T0 + HOUR


def test_source_health_counts_the_reports_each_source_made(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("city", new=[report("city", "a"), report("city", "b")]))

    assert health_of(two_sources, "city")["entries"] == 2


def test_validators_and_body_hash_are_remembered_for_the_next_poll(two_sources: Store) -> None:
    from aggregator.models import Validators

    two_sources.apply_poll(
        outcome(
            "city",
            validators=Validators(etag='"v1"', last_modified="Wed, 01 May 2024 08:00:00 GMT"),
            body_hash="ab" * 32,
        )
    )

    [state] = [
        s for s in two_sources.due_sources(T0, include_not_due=True) if s.source_id == "city"
    ]
    assert state.validators == Validators('"v1"', "Wed, 01 May 2024 08:00:00 GMT")
    assert state.body_hash == "ab" * 32


# --- atomicity ------------------------------------------------------------------------


def test_a_poll_that_fails_mid_write_leaves_nothing_behind(two_sources: Store) -> None:
    version = two_sources.version()
    # The second report repeats the first one's identity: the insert of reports fails after
    # the health update and the entries were already written in the same transaction.
    broken = outcome("city", new=[report("city", "same"), report("city", "same")])

    with pytest.raises(StoreError, match="not written"):
        two_sources.apply_poll(broken)

    assert all_entries(two_sources) == []
    assert health_of(two_sources, "city")["status"] == "never"
    assert two_sources.version() == version


def test_in_a_batch_a_poll_the_store_refuses_rolls_back_alone(two_sources: Store) -> None:
    two_sources.sync_sources(
        [source("city"), source("wire", categories=("news", "weather"), priority=5),
         source("port")], T0
    )
    broken = outcome("city", new=[report("city", "same"), report("city", "same")])
    batch = [outcome("wire", new=[report("wire", "a")]), broken,
             outcome("port", new=[report("port", "b")])]

    results = two_sources.apply_polls(batch)

    assert [type(result).__name__ for result in results] == [
        "WriteCounts", "StoreError", "WriteCounts"]
    assert sorted(titles(all_entries(two_sources))) == ["port b", "wire a"]
    assert health_of(two_sources, "city")["status"] == "never"
    assert health_of(two_sources, "port")["entries"] == 1
    stats = AlertStore(two_sources).poll_stats()  # only the polls written are counted
    assert (stats.value(POLLS, "ok"), stats.value(ENTRIES, "new")) == (2, 2)


def test_a_plan_whose_new_reports_are_not_fingerprinted_is_refused(two_sources: Store) -> None:
    # The store stores and compares fingerprints; computing them is the poller's work.
    unfingerprinted = outcome("city", new=[report("city", "a")],
                              fingerprint=lambda new, boilerplate: ())

    with pytest.raises(ValueError, match="fingerprint"):
        two_sources.apply_poll(unfingerprinted)

    assert all_entries(two_sources) == []


def test_a_poll_of_an_unknown_source_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="not in the store"):
        store.apply_poll(outcome("ghost", new=[report("ghost", "a")]))


# --- scheduling -----------------------------------------------------------------------


def test_new_sources_are_due_at_once(two_sources: Store) -> None:
    assert {s.source_id for s in two_sources.due_sources(T0)} == {"city", "wire"}


def test_a_polled_source_is_due_again_at_its_next_poll(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("city", next_poll=T0 + HOUR))

    assert "city" not in {s.source_id for s in two_sources.due_sources(T0 + HOUR / 2)}
    assert "city" in {s.source_id for s in two_sources.due_sources(T0 + HOUR)}


def test_a_claimed_source_is_not_handed_to_a_second_claimer(two_sources: Store) -> None:
    first = two_sources.claim_due("worker-1", T0, LEASE, limit=10)
    second = two_sources.claim_due("worker-2", T0 + LEASE / 2, LEASE, limit=10)

    assert {s.source_id for s in first} == {"city", "wire"}
    assert second == []


def test_a_claim_respects_its_limit(two_sources: Store) -> None:
    first = two_sources.claim_due("worker-1", T0, LEASE, limit=1)
    second = two_sources.claim_due("worker-2", T0, LEASE, limit=1)

    assert len(first) == len(second) == 1
    assert first[0].source_id != second[0].source_id


def test_concurrent_claimers_never_share_a_source(store: Store) -> None:
    # Each on its own host, so that per-host politeness does not limit the claims.
    store.sync_sources(
        [source(f"s{n:02}", url=f"http://host{n}.example/feed.xml") for n in range(12)], T0
    )
    claimers = [open_store(store.url) for _ in range(3)]

    def claim_until_none_left(claimer: Store, worker: str) -> list[str]:
        claimed: list[str] = []
        while batch := claimer.claim_due(worker, T0, LEASE, limit=1):
            claimed.extend(state.source_id for state in batch)
        return claimed

    try:
        with ThreadPoolExecutor(max_workers=len(claimers)) as pool:
            results = list(pool.map(claim_until_none_left, claimers, [f"w{n}" for n in range(3)]))
    finally:
        for claimer in claimers:
            claimer.close()

    everything = [source_id for claimed in results for source_id in claimed]
    assert sorted(everything) == [f"s{n:02}" for n in range(12)]


def test_an_expired_lease_can_be_claimed_again(two_sources: Store) -> None:
    two_sources.claim_due("worker-1", T0, LEASE, limit=10)

    again = two_sources.claim_due("worker-2", T0 + LEASE, LEASE, limit=10)

    assert {s.source_id for s in again} == {"city", "wire"}


def test_writing_the_poll_releases_the_lease(two_sources: Store) -> None:
    two_sources.claim_due("worker-1", T0, LEASE, limit=10)
    two_sources.apply_poll(outcome("city", next_poll=T0))

    again = two_sources.claim_due("worker-2", T0, LEASE, limit=10)

    assert [s.source_id for s in again] == ["city"]


def test_a_removed_source_is_not_due_and_keeps_its_entries(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("wire", new=[report("wire", "a", title="kept")], next_poll=T0))

    two_sources.sync_sources([source("city")], T0)

    assert [s.source_id for s in two_sources.due_sources(T0)] == ["city"]
    assert titles(all_entries(two_sources)) == ["kept"]
    assert [h.id for h in two_sources.source_health()] == ["city"]


def test_a_source_back_in_the_configuration_is_polled_again(two_sources: Store) -> None:
    two_sources.sync_sources([source("city")], T0)
    two_sources.sync_sources([source("city"), source("wire")], T0)

    assert {s.source_id for s in two_sources.due_sources(T0)} == {"city", "wire"}


def test_a_disabled_source_is_not_due(store: Store) -> None:
    store.sync_sources([source("city", enabled=False)], T0)

    assert store.due_sources(T0, include_not_due=True) == []


def test_changing_a_sources_categories_moves_its_entries(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("city", new=[report("city", "a", title="city story")]))

    two_sources.sync_sources([source("city", categories=("sport",)), source("wire")], T0)

    assert titles(all_entries(two_sources, category="sport")) == ["city story"]
    assert all_entries(two_sources, category="news") == []


# --- version and availability -------------------------------------------------------------


def test_version_moves_when_entries_change(two_sources: Store) -> None:
    before = two_sources.version()

    two_sources.apply_poll(outcome("city", new=[report("city", "a")]))

    assert two_sources.version() > before


def test_version_stays_when_a_poll_changes_no_entry(two_sources: Store) -> None:
    two_sources.apply_poll(outcome("city", new=[report("city", "a")]))
    before = two_sources.version()

    two_sources.apply_poll(outcome("city", unchanged=1, attempted_at=T0 + HOUR))
    two_sources.apply_poll(outcome("city", status="failed", attempted_at=T0 + 2 * HOUR))

    assert two_sources.version() == before


def test_ping_answers_when_the_database_does(store: Store) -> None:
    store.ping()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(
            lambda tmp: f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/x",
            id="pg-closed-port",
        ),
        pytest.param(
            lambda tmp: f"sqlite:///{tmp}/no/such/directory/store.db", id="sqlite-no-directory"
        ),
    ],
)
def test_ping_on_an_unreachable_database_raises_store_unavailable(
    url: Callable[[Path], str], tmp_path: Path
) -> None:
    unreachable = open_store(url(tmp_path))
    try:
        with pytest.raises(StoreUnavailable, match="does not answer"):
            unreachable.ping()
    finally:
        unreachable.close()
