"""Store benchmark: one first poll of 10,000 new reports written by `apply_poll`.

Run by hand:

    python bench/store_ingest.py                       # SQLite in a temporary directory
    python bench/store_ingest.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test

Target: under 10 s for 10,000 reports on SQLite (one transaction, bulk statements), and the
re-poll that changes 1,000 of them under 2 s. On PostgreSQL the tables go to a private
schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.store import open_store
from aggregator.store.migrate import upgrade
from tests.fixtures_db import postgres_schema
from tests.storedata import T0, outcome, report, source


def run(url: str, size: int) -> None:
    upgrade(url)
    store = open_store(url)
    try:
        store.sync_sources([source("bench")], T0)
        written = [report("bench", f"item-{n}", title=f"高雄市政新聞 {n}") for n in range(size)]
        # Fingerprinted before the clock starts, as the poller does in its parse processes.
        first_poll = outcome("bench", new=written)
        started = time.perf_counter()
        counts = store.apply_poll(first_poll)
        first = time.perf_counter() - started
        changed = [replace(r, title=r.title + " (更新)") for r in written[: size // 10]]
        repoll = outcome("bench", changed=changed)
        started = time.perf_counter()
        store.apply_poll(repoll)
        again = time.perf_counter() - started
    finally:
        store.close()
    print(
        f"{store.dialect}: first poll of {counts.new} new reports {first:.2f} s;"
        f" {len(changed)} changed {again:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="PostgreSQL server URL; SQLite when omitted")
    parser.add_argument("--size", type=int, default=10_000)
    arguments = parser.parse_args()
    if arguments.db:
        with postgres_schema(arguments.db) as url:
            run(url, arguments.size)
    else:
        with tempfile.TemporaryDirectory() as directory:
            run(f"sqlite:///{directory}/bench.db", arguments.size)


if __name__ == "__main__":
    main()
