"""Watches: a new entry matching a watch's query notifies once, and shows in the watch's feed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aggregator.alerts.run import scan_watches
from aggregator.alerts.watch import WatchRule
from aggregator.config.load import load_config
from aggregator.models import CandidateEntry, Watch
from aggregator.store import Store
from aggregator.store.alerts import AlertStore
from aggregator.store.schema import notifications, watch_matches
from aggregator.web import create_app
from tests.storedata import T0, outcome, report

TYPHOON_LINK = "https://kcg.example.gov.tw/news/typhoon"
FEEDS_YAML = """\
settings:
  base_url: https://news.example.org
categories:
  kaohsiung: {title: 高雄市政新聞}
  taipei: {title: 臺北市政新聞}
sources:
  - {id: kcg, url: "https://kcg.example.gov.tw/rss.xml", categories: [kaohsiung]}
  - {id: cna, url: "https://cna.example.com.tw/rss.xml", categories: [kaohsiung]}
  - {id: udn, url: "https://udn.example.com/rss.xml", categories: [kaohsiung]}
  - {id: taipei, url: "https://taipei.example.gov.tw/rss.xml", categories: [taipei]}
watches:
  - name: typhoon
    query: 颱風 OR 停班停課
    categories: [kaohsiung]
    webhook: https://hooks.example.org/typhoon
"""


def _rules(config_path: Path) -> list[WatchRule]:
    return [WatchRule.of(watch) for watch in load_config(config_path).watches]


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(FEEDS_YAML, encoding="utf-8")
    return path


@pytest.fixture
def alerts(store: Store, config_path: Path) -> AlertStore:
    store.sync_sources(load_config(config_path).sources, T0)
    return AlertStore(store)


def _count(store: Store, table: object) -> int:
    with store.reading() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def test_a_story_reported_by_three_sources_notifies_once(
    store: Store, alerts: AlertStore, config_path: Path
) -> None:
    rules = _rules(config_path)
    scan_watches(alerts, rules, T0)  # the watch exists from here on
    for minute, reporter in enumerate(("kcg", "cna", "udn"), start=1):
        polled = T0 + timedelta(minutes=minute)
        story = report(reporter, "typhoon", title="颱風來襲 高雄停班停課", link=TYPHOON_LINK)
        store.apply_poll(outcome(reporter, [story], attempted_at=polled))
        scan_watches(alerts, rules, polled)
    scan_watches(alerts, rules, T0 + timedelta(minutes=5))  # a later pass looks again

    assert _count(store, watch_matches) == 1
    with store.reading() as connection:
        payloads = [json.loads(p) for p in connection.scalars(select(notifications.c.payload))]
    assert [(p["watch"], p["entry"]["title"]) for p in payloads] == [
        ("typhoon", "颱風來襲 高雄停班停課")
    ]
    assert payloads[0]["entry"]["link"] == TYPHOON_LINK
    assert payloads[0]["entry"]["sources"] == ["kcg"]  # the first to report it


def test_a_restarted_worker_does_not_notify_again(
    store: Store, alerts: AlertStore, config_path: Path
) -> None:
    scan_watches(alerts, _rules(config_path), T0)
    story = report("kcg", "typhoon", title="颱風警報發布")
    store.apply_poll(outcome("kcg", [story], attempted_at=T0 + timedelta(minutes=1)))
    scan_watches(AlertStore(store), _rules(config_path), T0 + timedelta(minutes=2))

    scan_watches(AlertStore(store), _rules(config_path), T0 + timedelta(minutes=3))

    assert _count(store, notifications) == 1


def test_entries_older_than_the_watch_do_not_notify(
    store: Store, alerts: AlertStore, config_path: Path
) -> None:
    old = report("kcg", "old-typhoon", title="去年颱風災後重建")
    store.apply_poll(outcome("kcg", [old], attempted_at=T0 - timedelta(days=1)))

    scan_watches(alerts, _rules(config_path), T0)

    assert _count(store, watch_matches) == 0


def test_an_entry_outside_the_watch_categories_does_not_match(
    store: Store, alerts: AlertStore, config_path: Path
) -> None:
    scan_watches(alerts, _rules(config_path), T0)
    story = report("taipei", "typhoon", title="臺北市颱風停班停課公告")
    store.apply_poll(outcome("taipei", [story], attempted_at=T0 + timedelta(minutes=1)))

    scan_watches(alerts, _rules(config_path), T0 + timedelta(minutes=2))

    assert _count(store, watch_matches) == 0


def test_the_watch_feed_lists_the_matching_entries(
    store: Store, alerts: AlertStore, config_path: Path, db_url: str
) -> None:
    scan_watches(alerts, _rules(config_path), T0)
    matching = report("kcg", "typhoon", title="颱風警報發布")
    other = report("kcg", "budget", title="市府預算公布")
    store.apply_poll(outcome("kcg", [matching, other], attempted_at=T0 + timedelta(minutes=1)))
    scan_watches(alerts, _rules(config_path), T0 + timedelta(minutes=2))
    client = create_app(
        {"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(config_path)}
    ).test_client()

    response = client.get("/feeds/watch/typhoon.atom")

    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    body = response.get_data(as_text=True)
    assert "颱風警報發布" in body
    assert "市府預算公布" not in body


def test_an_unknown_watch_feed_is_404(store: Store, config_path: Path, db_url: str) -> None:
    client = create_app(
        {"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(config_path)}
    ).test_client()

    assert client.get("/feeds/watch/earthquake.atom").status_code == 404


def _entry(
    title: str, content: str = "", categories: tuple[str, ...] = ("kaohsiung",)
) -> CandidateEntry:
    return CandidateEntry(1, title, (content,), T0, T0, frozenset(categories), frozenset({"kcg"}))


@pytest.mark.parametrize(
    ("query", "title", "content", "expected"),
    [
        ("颱風", "颱風來襲", "", True),
        ("颱風", "風颱來襲", "", False),  # the characters, but not in order
        ("台風", "颱風來襲", "", True),  # a Simplified/variant query finds Traditional text
        ("高雄 颱風", "高雄市公告", "<p>颱風假</p>", True),  # each word in title or body
        ("颱風 OR 地震", "地震速報", "", True),
        ("颱風 -演習", "颱風演習", "", False),
        ('"停班 停課"', "明日停班停課", "", True),
        ("GTC 2025", "GTC 大會 2025 開幕", "", True),
        ("仁武", "仁", "<p>武</p>", False),  # a phrase never spans title and body
        ("颱風 source:cna", "颱風來襲", "", False),
        ("颱風 category:kaohsiung", "颱風來襲", "", True),
        ("颱", "臺北市公告", "", False),  # 颱 and 臺 are both 台 in Simplified, not variants
        ("台北", "臺北市公告", "", True),
        ("颱風", "市府公告", "<p>交通管制。</p><p>相關新聞</p><p>颱風來襲</p>", False),
    ],
)
def test_watch_queries_match_as_search_does(
    query: str, title: str, content: str, expected: bool
) -> None:
    rule = WatchRule.of(Watch(name="w", query=query))

    assert rule.matches(_entry(title, content)) is expected


def test_a_watch_sees_the_words_of_every_report_of_the_entry() -> None:
    rule = WatchRule.of(Watch(name="w", query="黃志中"))
    entry = CandidateEntry(
        1,
        "擴大登革熱防治",
        ("<p>市府宣布擴大登革熱防治。</p>", "<p>衛生局長黃志中宣布擴大登革熱防治。</p>"),
        T0,
        T0,
        frozenset({"kaohsiung"}),
        frozenset({"kcg", "tpe"}),
    )

    assert rule.matches(entry)
