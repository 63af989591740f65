"""Search benchmark: latency of representative queries over N synthetic entries.

Run by hand:

    python bench/search.py --entries 100000
    python bench/search.py --entries 1000000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Fills a fresh store (SQLite in a temporary directory, and PostgreSQL in a private schema
that is dropped afterwards when --postgres is given) with N entries of synthetic
Traditional Chinese municipal news, indexes them with `reindex_entries`, then runs each
query `--runs` times and prints p50 and p99 in milliseconds, and the index size on disk.
Target: p99 under 200 ms on SQLite at 1,000,000 entries.

Filling a million entries takes minutes: `--sqlite-file PATH` keeps the SQLite store there,
and a later run on the same file measures it again without filling it anew.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from aggregator.models import Source
from aggregator.search.query import parse_query
from aggregator.store import make_engine, open_store
from aggregator.store.migrate import upgrade
from aggregator.store.schema import entries, entry_categories, reports
from aggregator.store.search_index import reindex_entries
from aggregator.store.search_sql import search_entries

SOURCES = {f"src-{n}": ("kaohsiung",) if n < 5 else ("taipei",) for n in range(8)}
PLACES = ["高雄", "臺北", "仁武", "鳳山", "左營", "楠梓", "前鎮", "苓雅", "大安", "信義"]
SUBJECTS = [
    "颱風", "豪雨", "輕軌", "捷運紅線", "道路施工", "停班停課", "防災演習", "空氣品質",
    "招商說明會", "老舊公寓", "GTC 2025", "市長", "議會", "預算", "觀光", "國際會議",
]
ACTIONS = ["宣布", "說明", "啟動", "完成", "延長", "提醒市民", "舉辦", "公告", "檢討", "表示"]
FILLER = "市府相關局處持續關注後續發展，並呼籲民眾留意最新消息，配合各項措施辦理。"
BATCH = 5000
START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)  # whatever the count, so that since: filters keep a share

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("颱", {}),
    ("高雄", {}),
    ("仁武", {}),
    ("停班停課", {}),
    ('"捷運 紅線" 延長', {}),
    ("颱風 -演習", {}),
    ("輕軌 OR 捷運", {}),
    ("颱風 category:kaohsiung", {}),
    ("施工 source:src-3 since:2024-06-01", {}),
    ("GTC 2025 鳳山", {"order": "relevance"}),
]


def synthetic_entry(rng: random.Random, published: datetime) -> tuple[str, str, datetime]:
    place, subject, action = rng.choice(PLACES), rng.choice(SUBJECTS), rng.choice(ACTIONS)
    title = f"{place}{subject}{action}"
    sentences = [
        f"{rng.choice(PLACES)}{rng.choice(SUBJECTS)}{rng.choice(ACTIONS)}。" for _ in range(4)
    ]
    content = f"<p>{title}，{''.join(sentences)}</p><p>{FILLER}</p>"
    return title, content, published


def fill(engine: Engine, url: str, count: int) -> float:
    """Insert `count` entries with their reports and categories; return seconds spent."""
    store = open_store(url)
    store.sync_sources(
        [
            Source(id, f"http://127.0.0.1:9/{id}", categories, timedelta(minutes=15), "UTC")
            for id, categories in SOURCES.items()
        ],
        START,
    )
    store.close()
    rng = random.Random(5)
    began = time.perf_counter()
    source_ids = list(SOURCES)
    for first in range(0, count, BATCH):
        made = [
            synthetic_entry(rng, START + SPAN * n / count)
            for n in range(first, min(first + BATCH, count))
        ]
        with engine.begin() as connection:
            ids = connection.execute(
                insert(entries).returning(entries.c.id, sort_by_parameter_order=True),
                [
                    {
                        "uid": str(uuid.uuid4()),
                        "title": title,
                        "link": None,
                        "summary": content,
                        "content": content,
                        "published": published,
                        "updated": published,
                        "first_seen": published,
                    }
                    for title, content, published in made
                ],
            ).scalars().all()
            chosen = [source_ids[entry_id % len(source_ids)] for entry_id in ids]
            rows = list(zip(ids, chosen, made, strict=True))
            connection.execute(
                insert(reports),
                [
                    {
                        "entry_id": entry_id,
                        "source_id": source_id,
                        "identity": str(entry_id),
                        "title": title,
                        "summary": "",
                        "content": "",
                        "content_hash": "",
                        "published": published,
                        "updated": published,
                        "first_seen": published,
                        "merge_rule": "first",
                    }
                    for entry_id, source_id, (title, _, published) in rows
                ],
            )
            connection.execute(
                insert(entry_categories),
                [
                    {"category": SOURCES[source_id][0], "published": published, "entry_id": id}
                    for id, source_id, (_, _, published) in rows
                ],
            )
            reindex_entries(connection, ids)
        print(f"  {min(first + BATCH, count):>9,} entries", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return time.perf_counter() - began


def measure(engine: Engine, runs: int) -> list[tuple[str, float, float, int]]:
    """(query, p50 ms, p99 ms, results on the first page) for each query."""
    results = []
    with engine.connect() as connection:
        for query_text, options in QUERIES:
            query = parse_query(query_text)
            timings = []
            for _ in range(runs):
                began = time.perf_counter()
                page = search_entries(connection, query, limit=20, time_limit_ms=10_000, **options)
                timings.append((time.perf_counter() - began) * 1000)
                connection.rollback()
            timings.sort()
            p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
            results.append((query_text, statistics.median(timings), p99, len(page.entry_ids)))
    return results


def index_size(engine: Engine) -> int:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            pages = connection.scalar(
                text(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'entry_search%'"
                    " OR name LIKE 'sqlite_autoindex_entry_search%'"
                )
            )
            return int(pages or 0)
        return int(connection.scalar(text("SELECT pg_total_relation_size('entry_search')")) or 0)


def bench(url: str, count: int, runs: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            filled_before = connection.scalar(select(entries.c.id).limit(1)) is not None
        if filled_before:
            filling = "filled by an earlier run"
        else:
            filling = f"stored and indexed in {fill(engine, url, count):.0f} s"
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.execute(
                    text("INSERT INTO entry_search(entry_search) VALUES('optimize')")
                )
                connection.commit()
            else:
                connection.execute(text("ANALYZE"))
                connection.commit()
            stored = connection.scalar(select(entries.c.id).order_by(entries.c.id.desc()).limit(1))
        print(f"{engine.dialect.name}: {stored:,} entries {filling}")
        print(f"{'query':<40} {'p50 ms':>8} {'p99 ms':>8} {'shown':>6}")
        for query_text, p50, p99, shown in measure(engine, runs):
            print(f"{query_text:<40} {p50:>8.1f} {p99:>8.1f} {shown:>6}")
        print(f"index size on disk: {index_size(engine) / 2**20:,.0f} MiB\n")
    finally:
        engine.dispose()


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a private schema is used")
    parser.add_argument("--sqlite-file", type=Path, help="keep (or reuse) the SQLite store here")
    args = parser.parse_args()
    if args.sqlite_file:
        bench(f"sqlite:///{args.sqlite_file.resolve()}", args.entries, args.runs)
    else:
        with tempfile.TemporaryDirectory() as directory:
            bench(f"sqlite:///{Path(directory) / 'bench.db'}", args.entries, args.runs)
    if args.postgres:
        with postgres_schema(args.postgres) as url:
            bench(url, args.entries, args.runs)


if __name__ == "__main__":
    main()
