"""The Procfile's web line, run as a platform runs it (a shell, `$PORT`, `$WEB_CONCURRENCY`),
serves the app over real HTTP: a feed, then a 304 for the copy a subscriber holds."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import urllib3

from aggregator.store import Store
from tests.newsfarm import wait_until
from tests.procfile import free_port, web_process
from tests.webapp import KAOHSIUNG_TITLES, seed, write_config


def answers(url: str) -> bool:
    try:
        return urllib3.request("GET", url, retries=False, timeout=2.0).status == 200
    except urllib3.exceptions.HTTPError:
        return False


@pytest.fixture
def served(store: Store, db_url: str, tmp_path: Path) -> Iterator[str]:
    """The base URL of the Procfile's web process over the seeded store."""
    config = write_config(tmp_path)
    seed(store, config)
    port = free_port()
    command, environment = web_process(
        port,
        {
            **os.environ,
            "WEB_CONCURRENCY": "1",
            "DATABASE_URL": db_url,
            "AGGREGATOR_CONFIG": str(config),
        },
    )
    log = tmp_path / "web.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            assert wait_until(lambda: answers(f"{url}/healthz"), timeout=60), log.read_text()
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_the_procfile_web_process_serves_feeds_and_their_304s(served: str) -> None:
    url = f"{served}/feeds/kaohsiung.atom"
    feed = urllib3.request("GET", url)
    again = urllib3.request("GET", url, headers={"If-None-Match": feed.headers["ETag"]})

    assert feed.status == 200
    assert set(KAOHSIUNG_TITLES) <= {entry.title for entry in feedparser.parse(feed.data).entries}
    assert again.status == 304
    assert again.data == b""
