"""Web fixtures: `app` is the app over the seeded store of `tests.webapp`, `client` its test
client. A test module that needs another app or client defines its own fixture of that name.

`manual_cache_clock` puts the app's response cache on a clock the test moves by hand;
`serving` puts an app behind a real HTTP server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from aggregator.store import Store
from aggregator.web import responsecache
from tests.webapp import seeded_app


@pytest.fixture
def app(store: Store, db_url: str, tmp_path: Path) -> Flask:
    return seeded_app(store, db_url, tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class ManualClock:
    """Monotonic time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def manual_cache_clock(app: Flask) -> ManualClock:
    """Replace the app's response cache by one that checks the store version at most once
    a second of the returned clock."""
    clock = ManualClock()
    responsecache.install(app, clock=clock)
    return clock


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """`app` behind a real threaded HTTP server on 127.0.0.1, as a deployment serves it;
    its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
