"""`/metrics`: Prometheus text with the poll counters, fetch latency and source health,
read from the database, so the web process reports what the workers did."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from aggregator.config.load import load_config
from aggregator.fetch.fetcher import Fetcher
from aggregator.schedule.poll import Poller
from aggregator.store import Store
from aggregator.web import create_app
from tests.feedbuilder import FeedItem, rss
from tests.feedserver import FeedServer
from tests.inline import InlineExecutor

# name{labels} value: the sample lines of the text format (no timestamps are written).
_SAMPLE = re.compile(
    r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? (\S+)'
)
_COMMENT = re.compile(r"# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) .+")


def parse_prometheus(text: str) -> dict[str, float]:
    """Sample name with labels → value; fails on any line that is not valid text format."""
    assert text.endswith("\n")
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert _COMMENT.fullmatch(line), f"bad comment line: {line!r}"
            continue
        match = _SAMPLE.fullmatch(line)
        assert match, f"bad sample line: {line!r}"
        samples[match[1] + (match[2] or "")] = float(match[3])
    return samples


@pytest.fixture
def polled_client(
    store: Store, db_url: str, feed_server: FeedServer, tmp_path: Path
) -> FlaskClient:
    """Two sources polled once: one feed of three stories, one that answers 404."""
    stories = [FeedItem(f"市政新聞 {n}", link=f"https://a.example.tw/{n}") for n in range(3)]
    feed_server.serve("/good.xml", rss(stories))
    config_path = tmp_path / "feeds.yaml"
    config_path.write_text(
        "settings:\n  allow_private_addresses: true\n"
        "categories:\n  news: {title: 新聞}\nsources:\n"
        f"  - {{id: good, url: '{feed_server.url('/good.xml')}', categories: [news]}}\n"
        f"  - {{id: gone, url: '{feed_server.url('/gone.xml')}', categories: [news]}}\n",
        encoding="utf-8",
    )
    config = load_config(config_path)
    now = datetime.now(UTC)
    store.sync_sources(config.sources, now)
    poller = Poller(config, store, Fetcher(allow_private_addresses=True, timeout=5.0),
                    parse_executor=InlineExecutor())
    try:
        poller.poll(store.due_sources(now, include_not_due=True))
    finally:
        poller.close()
    return create_app({"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(config_path)}).test_client()


def test_metrics_is_prometheus_text(polled_client: FlaskClient) -> None:
    response = polled_client.get("/metrics")

    assert response.status_code == 200
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    parse_prometheus(response.get_data(as_text=True))


def test_metrics_count_polls_by_status_and_entries(polled_client: FlaskClient) -> None:
    samples = parse_prometheus(polled_client.get("/metrics").get_data(as_text=True))

    assert samples['aggregator_polls_total{status="ok"}'] == 1
    assert samples['aggregator_polls_total{status="failed"}'] == 1
    assert samples['aggregator_entries_total{kind="new"}'] == 3
    assert samples["aggregator_merges_total"] == 0


def test_metrics_have_a_fetch_latency_histogram(polled_client: FlaskClient) -> None:
    samples = parse_prometheus(polled_client.get("/metrics").get_data(as_text=True))

    assert samples['aggregator_fetch_duration_seconds_bucket{le="+Inf"}'] == 2
    assert samples["aggregator_fetch_duration_seconds_count"] == 2
    buckets = [
        v for k, v in samples.items() if k.startswith("aggregator_fetch_duration_seconds_bucket")
    ]
    assert buckets == sorted(buckets)  # cumulative


def test_metrics_gauge_each_source_failures(polled_client: FlaskClient) -> None:
    samples = parse_prometheus(polled_client.get("/metrics").get_data(as_text=True))

    assert samples['aggregator_source_failures{source="gone"}'] == 1
    assert samples['aggregator_source_failures{source="good"}'] == 0
    assert samples['aggregator_source_up{source="good"}'] == 1
    assert samples['aggregator_source_up{source="gone"}'] == 0
