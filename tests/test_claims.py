"""Per-host politeness across workers: no host has more than PER_HOST_LEASES sources leased
at once, whichever workers hold them."""

from __future__ import annotations

from datetime import datetime, timedelta

from aggregator.models import Source
from aggregator.store import PER_HOST_LEASES, Store
from tests.storedata import T0, outcome, source

LEASE = timedelta(minutes=5)


def on_host(host: str, count: int) -> list[Source]:
    return [source(f"{host}-{n}", url=f"https://{host}.example.tw/feed{n}.xml")
            for n in range(count)]


def claim(store: Store, worker: str, at: datetime = T0) -> set[str]:
    return {state.source_id for state in store.claim_due(worker, at, LEASE, limit=10)}


def test_one_claim_takes_no_more_of_a_host_than_its_share(store: Store) -> None:
    store.sync_sources(on_host("kcg", 5), T0)

    assert len(claim(store, "w1")) == PER_HOST_LEASES


def test_another_worker_gets_none_of_a_host_whose_share_is_leased(store: Store) -> None:
    store.sync_sources(on_host("kcg", 5) + on_host("taipei", 1), T0)
    claim(store, "w1")

    assert claim(store, "w2") == set()


def test_other_hosts_are_claimed_beside_a_busy_one(store: Store) -> None:
    store.sync_sources(on_host("kcg", 5), T0)
    claim(store, "w1")
    store.sync_sources(on_host("kcg", 5) + on_host("taipei", 1), T0)

    assert claim(store, "w2") == {"taipei-0"}


def test_a_written_poll_frees_its_place_in_the_hosts_share(store: Store) -> None:
    store.sync_sources(on_host("kcg", 5), T0)
    first = sorted(claim(store, "w1"))
    store.apply_poll(outcome(first[0], next_poll=T0 + LEASE))

    assert len(claim(store, "w2")) == 1


def test_expired_leases_do_not_count_against_the_host(store: Store) -> None:
    store.sync_sources(on_host("kcg", 5), T0)
    claim(store, "w1")

    assert len(claim(store, "w2", at=T0 + LEASE)) == PER_HOST_LEASES


def test_host_names_are_compared_without_case(store: Store) -> None:
    store.sync_sources(
        [source("a", url="https://KCG.example.tw/a.xml"),
         source("b", url="https://kcg.example.tw/b.xml"),
         source("c", url="https://Kcg.Example.TW/c.xml")],
        T0,
    )

    assert len(claim(store, "w1")) == PER_HOST_LEASES
