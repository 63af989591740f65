"""Workers on PostgreSQL write at the same moment: copies of one story still make one entry.

Writers of new reports no longer take one global lock: each claims what copies of its
stories share (band keys, canonical links), so only writers that could find each other's
entries take turns.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest

from aggregator.models import EntryQuery, Report
from aggregator.store import Store, open_store
from aggregator.store.migrate import upgrade
from tests.storedata import T0, outcome, report, source

HANZI = "市府政局長區里民議會交通捷運輕軌公園道路工程施工颱風豪雨停班課災害應變中心開設經濟發展"
ROUNDS = 8


def story(number: int) -> str:
    """A story of its own: random words, so no two rounds' stories merge."""
    rng = random.Random(number)
    return "".join(
        "".join(rng.choices(HANZI, k=rng.randint(2, 4))) + ("。" if n % 9 == 8 else "")
        for n in range(60)
    )


@pytest.fixture
def workers(postgres_url: str) -> Iterator[tuple[Store, Store]]:
    upgrade(postgres_url)
    first, second = open_store(postgres_url), open_store(postgres_url)
    first.sync_sources([source("kcg"), source("cna")], T0)
    yield first, second
    first.close()
    second.close()


def write_at_once(stores: tuple[Store, Store], polls: tuple[Report, Report]) -> None:
    at_once = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(store: Store, copy: Report) -> None:
        try:
            at_once.wait()
            store.apply_poll(outcome(copy.source_id, new=[copy]))
        except BaseException as error:  # reported below, on the test thread
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=pair) for pair in zip(stores, polls, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.postgres
def test_two_workers_writing_copies_of_one_story_at_once_make_one_entry(
    workers: tuple[Store, Store],
) -> None:
    for number in range(ROUNDS):
        text = f"<p>{story(number)}</p>"
        # Even rounds: the same link; odd rounds: the same text under another link.
        link = f"https://news.example.tw/{number}"
        copies = (
            report("kcg", f"k{number}", content=text, link=link),
            report("cna", f"c{number}", content=text,
                   link=link if number % 2 == 0 else f"https://cna.example.tw/{number}"),
        )
        write_at_once(workers, copies)

    entries = workers[0].entries(EntryQuery(limit=100)).entries
    assert len(entries) == ROUNDS
    assert all(len(entry.reports) == 2 for entry in entries)
