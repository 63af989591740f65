"""Scaling benchmark: polling throughput with 1, 2 and 4 workers on PostgreSQL (and one on
SQLite for comparison), and web requests/s with 1, 2 and 4 web workers (the Procfile's server).

Run by hand (not in CI); needs PostgreSQL and `wrk`:

    python bench/scale.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/scale.py --postgres URL --sources 500 --duration 3      # quicker

A feed server runs in its own process with `--sources` small static feeds (three stories
each, ETag), listening on `--hosts` loopback addresses (127.0.0.1, 127.0.0.2, ...: Linux
routes all of 127.0.0.0/8 to this machine). Per-host politeness allows 2 leases per host
across all workers, so with every source on one host the figures would measure politeness
(4 sources in flight), not the workers; the default 50 hosts allow 100. Each run
starts real `aggregator worker` processes on a fresh schema (or SQLite file) and reports
sources/s over the first round, when every source is new: fetch, parse and write of every
story. Then the Procfile's web server serves the PostgreSQL store and wrk measures
`/feeds/all.atom` and `/api/entries`. Everything it starts is on 127.0.0.1 and is stopped
at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.store import make_engine
from aggregator.store.migrate import upgrade
from aggregator.store.schema import sources
from bench.feedhttp import Served, feed_server
from bench.serve import Target, measure, running, wait_until_up
from tests.feedbuilder import FeedItem, rss
from tests.fixtures_db import postgres_schema
from tests.newsfarm import distinct_text
from tests.procfile import free_port, web_process

POLL_TIMEOUT_S = 1800
WEB_RUNS = 3


def loopback_hosts(count: int) -> list[str]:
    return [f"127.0.0.{n}" for n in range(1, count + 1)]


def feed_body(number: int) -> bytes:
    return rss([
        FeedItem(distinct_text(f"{number} {n}", 10), link=f"https://news.example/{number}/{n}",
                 description=distinct_text(f"{number} {n} body", 80))
        for n in range(3)
    ])


def serve_feeds(port: int, count: int, hosts: int) -> None:
    """The feed server process: /s0000.xml ... on each host, with 304 on a matching ETag."""
    bodies = {f"/s{n:04}.xml": feed_body(n) for n in range(count)}

    def lookup(path: str) -> Served | None:
        body = bodies.get(path)
        return None if body is None else Served(body, etag=f'"{path}"')

    servers = [feed_server(host, port, lookup) for host in loopback_hosts(hosts)]
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[0].serve_forever()


@contextmanager
def feeds_served(count: int, hosts: int) -> Iterator[int]:
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=serve_feeds, args=(port, count, hosts), daemon=True
    )
    process.start()
    try:
        wait_until_up(f"http://127.0.0.1:{port}/s0000.xml")
        yield port
    finally:
        process.terminate()
        process.join()


def write_config(directory: Path, port: int, count: int, host_count: int) -> Path:
    hosts = loopback_hosts(host_count)
    lines = ["settings:\n  allow_private_addresses: true\n  interval: 1h\n",
             "categories:\n  news:\n    title: 新聞\nsources:\n"]
    lines += [
        f"  - id: s{n:04}\n    url: http://{hosts[n % len(hosts)]}:{port}/s{n:04}.xml\n"
        "    categories: [news]\n"
        for n in range(count)
    ]
    path = directory / "feeds.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def polled(db_url: str) -> tuple[int, float]:
    """How many sources were polled, and the seconds between the first and last poll."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            count, first, last = connection.execute(
                select(func.count(sources.c.last_attempt), func.min(sources.c.last_attempt),
                       func.max(sources.c.last_attempt))
            ).one()
    finally:
        engine.dispose()
    if not count:
        return 0, 0.0
    # min and max keep the column's type: aware UTC datetimes on both backends.
    return count, (last - first).total_seconds()


def polling_rate(
    config: Path, db_url: str, workers: int, count: int, log: Path
) -> tuple[float, float, float]:
    """Sources/s of `workers` worker processes over a first round of `count` new sources,
    and the CPU seconds the workers (with their parse processes) and PostgreSQL's server
    processes spent meanwhile (the server's: every postgres process on the machine)."""
    upgrade(db_url)
    command = [sys.executable, "-m", "aggregator.cli", "worker", "--config", str(config),
               "--db", db_url]
    workers_before, server_before = children_cpu(), postgres_cpu()
    with ExitStack() as stack:
        for number in range(workers):
            stack.enter_context(running(command, dict(os.environ), log.with_suffix(f".{number}")))
        deadline = time.monotonic() + POLL_TIMEOUT_S
        while (done := polled(db_url))[0] < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done[0]} of {count} sources polled in time")
            time.sleep(0.5)
        server = postgres_cpu() - server_before  # before the workers' backends end
    count, seconds = polled(db_url)
    return count / seconds if seconds else float("inf"), children_cpu() - workers_before, server


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def postgres_cpu() -> float:
    """User and system CPU seconds of the postgres processes running now."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended
            continue
        name, _, rest = text.partition("(")[2].rpartition(")")
        if name == "postgres":
            fields = rest.split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def web_rates(db_url: str, config: Path, directory: Path, duration: int) -> dict[int, list[float]]:
    """Requests/s of /feeds/all.atom and /api/entries per number of web workers: the
    median of WEB_RUNS wrk runs, after a one-second run that fills every worker's cache."""
    rates: dict[int, list[float]] = {}
    env = dict(os.environ, DATABASE_URL=db_url, AGGREGATOR_CONFIG=str(config))
    for workers in (1, 2, 4):
        port = free_port()
        command, web_env = web_process(port, dict(env, WEB_CONCURRENCY=str(workers)))
        with running(command, web_env, directory / f"web{workers}.log"):
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
            rates[workers] = []
            for path in ("/feeds/all.atom", "/api/entries"):
                target = Target(path, f"http://127.0.0.1:{port}{path}")
                measure(target, 1, 16)
                runs = [measure(target, duration, 16).requests_per_second
                        for _ in range(WEB_RUNS)]
                rates[workers].append(statistics.median(runs))
    return rates


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True,
                        help="server URL; a private schema is made and dropped per run")
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=50, help="loopback addresses to serve on")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--no-web", dest="web", action="store_false",
                        help="measure polling only")
    arguments = parser.parse_args(argv)
    print(f"{arguments.sources} sources on {arguments.hosts} hosts, "
          f"{os.cpu_count()} cores", flush=True)
    with (
        tempfile.TemporaryDirectory() as temporary,
        feeds_served(arguments.sources, arguments.hosts) as port,
    ):
        directory = Path(temporary)
        config = write_config(directory, port, arguments.sources, arguments.hosts)
        sqlite_url = f"sqlite:///{directory / 'store.db'}"
        rate, cpu, _ = polling_rate(
            config, sqlite_url, 1, arguments.sources, directory / "sqlite.log"
        )
        print(f"polling, SQLite, 1 worker: {rate:.1f} sources/s, workers' CPU {cpu:.1f} s",
              flush=True)
        for workers in (1, 2, 4):
            with postgres_schema(arguments.postgres) as db_url:
                rate, cpu, server = polling_rate(config, db_url, workers, arguments.sources,
                                                 directory / f"pg{workers}.log")
                print(f"polling, PostgreSQL, {workers} worker(s): {rate:.1f} sources/s, "
                      f"workers' CPU {cpu:.1f} s, database's CPU {server:.1f} s", flush=True)
                if workers == 4 and arguments.web:
                    for web_workers, (feed, api) in web_rates(
                        db_url, config, directory, arguments.duration
                    ).items():
                        print(f"web, {web_workers} web worker(s): /feeds/all.atom "
                              f"{feed:.0f} req/s, /api/entries {api:.0f} req/s", flush=True)


if __name__ == "__main__":
    main()
