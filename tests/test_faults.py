"""The database goes away for a while: workers and web notice, say so, and recover alone.

PostgreSQL is reached through a TCP proxy the test cuts and restores, which is what a
restart or a network partition looks like from the application's side.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from aggregator.store import open_store
from aggregator.store.migrate import upgrade
from aggregator.web import create_app
from tests.feedserver import FeedServer, Reply
from tests.newsfarm import WorkerProcess, city_feed, one_source_config, stored_titles, wait_until
from tests.tcpproxy import TcpProxy

pytestmark = pytest.mark.postgres

LEASE_S = 3
TRICKLE_S = 2.0


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:
    upgrade(postgres_url)
    port = make_url(postgres_url).port or 5432
    with TcpProxy(port) as forwarding:
        yield forwarding


@pytest.fixture
def proxied_url(postgres_url: str, proxy: TcpProxy) -> str:
    return make_url(postgres_url).set(port=proxy.port).render_as_string(hide_password=False)


@pytest.fixture
def web(proxied_url: str, feed_server: FeedServer, tmp_path: Path) -> FlaskClient:
    config = one_source_config(feed_server, tmp_path)
    app = create_app({"DATABASE_URL": proxied_url, "AGGREGATOR_CONFIG": str(config)})
    return app.test_client()


def test_healthz_answers_503_while_the_database_is_unreachable(
    web: FlaskClient, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    assert web.get("/healthz").status_code == 200
    proxy.cut()

    with caplog.at_level(logging.WARNING):
        assert web.get("/healthz").status_code == 503
    assert "does not answer" in caplog.text


def test_healthz_answers_200_again_once_the_database_is_back(
    web: FlaskClient, proxy: TcpProxy
) -> None:
    web.get("/healthz")
    proxy.cut()
    web.get("/healthz")
    proxy.restore()

    assert web.get("/healthz").status_code == 200


def test_pages_answer_503_while_the_database_is_unreachable_and_recover(
    web: FlaskClient, proxy: TcpProxy
) -> None:
    proxy.cut()
    during = web.get("/api/entries").status_code
    proxy.restore()

    assert (during, web.get("/api/entries").status_code) == (503, 200)


def test_a_worker_loses_nothing_while_the_database_is_away(
    feed_server: FeedServer, proxy: TcpProxy, proxied_url: str, postgres_url: str,
    tmp_path: Path,
) -> None:
    # The feed trickles in over a few seconds: the database goes away while the worker
    # is inside the poll, so what it fetched cannot be written.
    feed = city_feed("第一則", "第二則")
    feed_server.handle(
        "/city.xml",
        lambda request: Reply([feed[:100], feed[100:]], chunk_delay=TRICKLE_S,
                              headers={"Content-Type": "application/rss+xml"}),
    )
    with WorkerProcess(
        one_source_config(feed_server, tmp_path), proxied_url, log=tmp_path / "worker.log",
        lease_seconds=LEASE_S,
    ) as worker:
        assert wait_until(lambda: bool(feed_server.requests_to("/city.xml")), timeout=30)
        proxy.cut()
        failed = wait_until(lambda: "poll pass failed" in worker.log_text(), timeout=30)
        proxy.restore()

        recovered = wait_until(
            lambda: stored_titles(postgres_url) == {"第一則", "第二則"}, timeout=30
        )
        still_running = worker.process.poll() is None
        assert worker.stop() == 0
    assert failed, worker.log_text()[-3000:]
    assert still_running and recovered, worker.log_text()[-3000:]


def test_healthz_says_503_when_the_database_stops_answering_without_closing(
    web: FlaskClient, proxy: TcpProxy
) -> None:
    assert web.get("/healthz").status_code == 200
    proxy.stall()

    response = web.get("/healthz")

    assert response.status_code == 503
    assert "store unavailable: no answer within" in response.get_data(as_text=True)
    assert web.get("/healthz").status_code == 503  # while the first question is still stuck
    proxy.restore()
    assert web.get("/healthz").status_code == 200


def test_a_statement_the_database_cannot_finish_is_given_up_by_the_server(
    postgres_url: str,
) -> None:
    store = open_store(postgres_url)
    try:
        with store.reading() as connection:
            limit = connection.exec_driver_sql("SHOW statement_timeout").scalar()
            keepalives = connection.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
    finally:
        store.close()

    assert limit == "1min"
    assert keepalives.get("keepalives") == "1"
    assert keepalives.get("tcp_user_timeout") == "15000"
