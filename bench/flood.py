"""Flood benchmark: can one hostile feed hold the writer?

Run by hand:

    python bench/flood.py                 # N = 3000, SQLite in a temporary directory
    python bench/flood.py --items 1500 --db URL   # an empty database, which it fills

Two sources each serve N items with the same text, distinct guids and one date: every
report shares every band key with every other. Both are polled with the real pipeline
(fetch over HTTP from 127.0.0.1, parse and fingerprint in worker processes, decide, write)
until a pass stores nothing new. Prints, for each source poll, how long the store's
`apply_poll` took: the write transaction (and the decoding of the fingerprints just
before it), i.e. how long that poll held the write lock.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.config.load import config_from_text
from aggregator.fetch.fetcher import Fetcher
from aggregator.models import PollOutcome, WriteCounts
from aggregator.schedule.poll import Poller
from aggregator.store import open_store
from aggregator.store.migrate import upgrade
from bench.feedhttp import Served, feed_server

TEXT = (
    "高雄市政府今日宣布，因應颱風來襲，全市各級學校明日停止上課，公務機關停止上班。"
    "市府提醒市民減少外出，注意強風豪雨，並隨時留意災害應變中心最新消息。"
)
DATE = format_datetime(datetime(2025, 3, 22, 2, tzinfo=UTC))


def flood_feed(source: str, items: int) -> bytes:
    entries = "".join(
        f"<item><title>颱風停班停課公告</title><link>https://{source}.example.tw/{n}</link>"
        f"<guid>{source}-{n}</guid><pubDate>{DATE}</pubDate>"
        f"<description>&lt;p&gt;{TEXT}&lt;/p&gt;</description></item>"
        for n in range(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{source}</title><link>https://{source}.example.tw/</link>"
        f"<description>flood</description>{entries}</channel></rss>"
    ).encode()


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--items", type=int, default=3000, help="items per source (N)")
    arguments.add_argument("--db", help="database URL (default: SQLite in a temporary directory)")
    options = arguments.parse_args()

    feeds = {f"/{source}.xml": flood_feed(source, options.items) for source in ("a", "b")}
    server = feed_server("127.0.0.1", 0, lambda path: Served(feeds[path]) if path in feeds
                         else None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    config = config_from_text(
        "settings:\n  allow_private_addresses: true\ncategories:\n  news: {title: 新聞}\n"
        "sources:\n" + "".join(
            f"  - id: {source}\n    url: http://127.0.0.1:{port}/{source}.xml\n"
            "    categories: [news]\n"
            for source in ("a", "b")
        ),
        "flood.yaml",
    )
    with tempfile.TemporaryDirectory() as directory:
        url = options.db or f"sqlite:///{Path(directory) / 'flood.db'}"
        upgrade(url)
        store = open_store(url)
        write_seconds: list[tuple[str, float, WriteCounts]] = []
        store.apply_poll = _timed(store.apply_poll, write_seconds)  # type: ignore[method-assign]
        poller = Poller(config, store, Fetcher(allow_private_addresses=True))
        print(f"N = {options.items} items per source, store {url.split(':')[0]}")
        try:
            for number in range(1, 20):
                started = time.perf_counter()
                store.sync_sources(config.sources, datetime.now(UTC))
                summary = poller.poll(store.due_sources(datetime.now(UTC), include_not_due=True))
                passed = time.perf_counter() - started
                for source, seconds, counts in write_seconds:
                    print(f"pass {number}: source {source}: write transaction {seconds:6.2f} s"
                          f" ({counts.new} new, {counts.merged} merged)")
                print(f"pass {number}: {passed:.1f} s in all")
                write_seconds.clear()
                if summary.new + summary.merged == 0:
                    break
        finally:
            poller.close()
            store.close()
            server.shutdown()


def _timed(
    apply_poll: Callable[[PollOutcome], WriteCounts],
    into: list[tuple[str, float, WriteCounts]],
) -> Callable[[PollOutcome], WriteCounts]:
    def timed(outcome: PollOutcome) -> WriteCounts:
        started = time.perf_counter()
        counts = apply_poll(outcome)
        into.append((outcome.source_id, time.perf_counter() - started, counts))
        return counts

    return timed


if __name__ == "__main__":
    main()
