"""HTTP fixtures: a scriptable feed server on 127.0.0.1, and the test data files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.feedserver import FeedServer

DATA_DIR = Path(__file__).parent / "data"


def read_data(name: str) -> bytes:
    """The bytes of `tests/data/<name>`, exactly as stored (feeds are often not UTF-8)."""
    return (DATA_DIR / name).read_bytes()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A fresh server per test: it starts in about a millisecond and leaves no thread behind."""
    with FeedServer() as server:
        yield server


@pytest.fixture
def data_file() -> Callable[[str], bytes]:
    """`data_file("fetch/x.xml")` reads a file under `tests/data/`."""
    return read_data
