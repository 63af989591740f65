"""The command line as a script sees it: exit statuses and messages (README's commands)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.alerts.watch import WatchRule
from aggregator.cli import main
from aggregator.config.load import load_config
from tests.feedbuilder import FeedItem, rss
from tests.feedserver import FeedServer

FEED = rss([FeedItem("高雄市政新聞", link="https://kcg.example.tw/1", guid="1")])


def write_config(path: Path, urls: dict[str, str], query: str = "颱風") -> Path:
    sources = "".join(
        f"  - id: {source_id}\n    url: {url}\n    categories: [news]\n"
        for source_id, url in urls.items()
    )
    path.write_text(
        "settings:\n  allow_private_addresses: true\n"
        "categories:\n  news: {title: 新聞}\nsources:\n" + sources
        + f"watches:\n  - name: typhoon\n    query: {query}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def signals_restored() -> Iterator[None]:
    """The worker installs SIGINT/SIGTERM handlers: put pytest's back afterwards."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.mark.parametrize("command", ["worker", "run", "web"])
@pytest.mark.usefixtures("signals_restored")
def test_what_check_refuses_every_service_refuses_at_start_with_the_same_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    config = write_config(tmp_path / "feeds.yaml", {"a": "http://127.0.0.1:9/a"}, "颱風 OR")
    db = ["--db", f"sqlite:///{tmp_path / 'store.db'}"]

    assert main(["check", "--config", str(config)]) == 1
    refused = capsys.readouterr().err
    assert refused == f"{config}:11: watch 'typhoon': OR at column 4 needs a term after it\n"

    assert main([command, "--config", str(config), *db]) == 1
    assert capsys.readouterr().err == refused


@pytest.mark.parametrize(
    "query", ["颱風 OR 地震", "-演習 颱風", '"停班 停課" source:a', "颱風 since:2025-03-01"]
)
def test_every_watch_query_check_accepts_the_worker_runs(tmp_path: Path, query: str) -> None:
    config = load_config(write_config(tmp_path / "feeds.yaml", {"a": "http://127.0.0.1:9/a"},
                                      f"'{query}'"))
    rules = [WatchRule.of(watch) for watch in config.watches]
    assert [rule.watch.query for rule in rules] == [query]


def test_poll_exits_0_when_some_source_was_polled(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.serve("/ok.xml", FEED)
    config = write_config(
        tmp_path / "feeds.yaml", {"ok": feed_server.url("/ok.xml"), "gone": feed_server.url("/x")}
    )
    assert main(["poll", "--all", "--config", str(config),
                 "--db", f"sqlite:///{tmp_path / 'store.db'}"]) == 0


def test_poll_exits_2_when_every_source_it_tried_failed(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path / "feeds.yaml",
        {"gone": feed_server.url("/gone"), "missing": feed_server.url("/missing")},
    )
    assert main(["poll", "--all", "--config", str(config),
                 "--db", f"sqlite:///{tmp_path / 'store.db'}"]) == 2
    assert "0 ok, 0 not modified, 2 failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "db",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",  # nothing listens on port 1
        "sqlite:////nonexistent-directory/store.db",
    ],
)
def test_poll_exits_1_when_the_store_does_not_answer(tmp_path: Path, db: str) -> None:
    config = write_config(tmp_path / "feeds.yaml", {"a": "http://127.0.0.1:9/a"})
    assert main(["poll", "--all", "--config", str(config), "--db", db]) == 1


def test_poll_exits_1_on_a_bad_configuration(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("sources: 3\n", encoding="utf-8")
    assert main(["poll", "--all", "--config", str(config)]) == 1
