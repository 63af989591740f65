"""Starting the service: `aggregator web` and `run` read the environment every entry point
reads, with `--config` and `--db` winning over it, and `run` polls and serves on one store."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, select

from aggregator.cli import serve_and_poll
from aggregator.config.load import load_config
from aggregator.store import Store
from aggregator.store.schema import sources
from tests.feedserver import FeedServer, Reply, RequestInfo
from tests.newsfarm import aggregator_command, city_feed, one_source_config, wait_until
from tests.serviceprocess import ServiceProcess, api_entry_titles, free_port, get

SECRET = "correct horse battery staple"


@pytest.mark.parametrize("command", ["web", "run"])
def test_the_staff_secret_in_the_environment_opens_staff_sign_in(
    command: str, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.serve("/city.xml", city_feed("第一則"))
    config = one_source_config(feed_server, tmp_path)
    port = free_port()
    environment = dict(
        os.environ,
        AGGREGATOR_STAFF_SECRET=SECRET,
        PORT=str(port),
        # The flags below win over these.
        DATABASE_URL=f"sqlite:///{tmp_path / 'not-this.db'}",
        AGGREGATOR_CONFIG=str(tmp_path / "not-this.yaml"),
    )
    arguments = ("--config", str(config), "--db", f"sqlite:///{tmp_path / 'store.db'}")
    with ServiceProcess(
        aggregator_command(command, *arguments), log=tmp_path / "service.log", env=environment
    ) as service:
        base = f"http://127.0.0.1:{port}"
        assert service.wait_until_answers(f"{base}/healthz"), service.log_text()
        status, page = get(f"{base}/staff/sign-in")

    assert status == 200
    assert 'name="secret"' in page.decode()
    assert not (tmp_path / "not-this.db").exists()


def test_run_claims_sources_for_AGGREGATOR_LEASE_SECONDS(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed = city_feed("第一則")
    fetching = threading.Event()

    def answer(request: RequestInfo) -> Reply:
        fetching.set()  # the source is claimed, and stays so while its answer trickles
        return Reply([feed[:50], feed[50:]], chunk_delay=60,
                     headers={"Content-Type": "application/rss+xml"})

    feed_server.handle("/city.xml", answer)
    config = one_source_config(feed_server, tmp_path)
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    environment = dict(os.environ, AGGREGATOR_LEASE_SECONDS="5000", PORT=str(free_port()))
    started = datetime.now(UTC)
    with ServiceProcess(
        aggregator_command("run", "--config", str(config), "--db", db_url),
        log=tmp_path / "run.log", env=environment,
    ) as service:
        assert wait_until(fetching.is_set, timeout=60), service.log_text()
        lease_until = read_lease_until(db_url)
        service.kill()  # not a clean stop: that would wait out the trickling answer

    assert started + timedelta(seconds=5000) <= lease_until
    assert lease_until <= datetime.now(UTC) + timedelta(seconds=5000)


def read_lease_until(db_url: str) -> datetime:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(select(sources.c.lease_until)).scalar_one()
    finally:
        engine.dispose()
    assert isinstance(found, datetime)
    return found


def test_run_polls_and_serves_through_one_pool_of_connections(
    store: Store, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.serve("/city.xml", city_feed("第一則"))
    config = load_config(one_source_config(feed_server, tmp_path))
    pools: set[object] = set()

    def connected(connection: Connection) -> None:
        pools.add(connection.engine.pool)

    port = free_port()
    stop = threading.Event()
    service = threading.Thread(
        target=serve_and_poll, args=(config, store, "127.0.0.1", port, stop)
    )
    event.listen(Engine, "engine_connect", connected)
    try:
        service.start()
        served = wait_until(
            lambda: api_entry_titles(f"http://127.0.0.1:{port}") == ["第一則"], timeout=60
        )
    finally:
        stop.set()
        service.join(60)
        event.remove(Engine, "engine_connect", connected)

    assert served
    assert len(pools) == 1

