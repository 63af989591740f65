"""A web app over a real feeds.yaml and a real, seeded store, for the web tests.

The story the seed tells: the Kaohsiung city government published 35 stories (more than one
page of the reader view); one of them was also reported by 中央社 and 新聞視界時報 and is
merged into one entry; Taipei published 3 and one hostile entry; one source keeps failing
and one was never polled.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from aggregator.config.load import load_config
from aggregator.store import Store
from aggregator.web import create_app
from tests.storedata import outcome, report

NOW = datetime.now(UTC).replace(microsecond=0)
KAOHSIUNG_STORIES = 35
MERGED_TITLE = "高雄港擴建計畫今日動工"
MERGED_LINK = "https://kcg.example.gov.tw/news/merged"
FAILING_ERROR = "連線逾時：伺服器 10 秒內沒有回應"

HOSTILE_TITLE = "<b>粗體</b> 標題 <script>alert('title')</script>"
HOSTILE_SUMMARY = (
    "<p>摘要</p><script>alert('summary')</script>"
    '<img src="x" onerror="alert(\'img\')"><a href="javascript:alert(\'link\')">連結</a>'
)
HOSTILE_LINK = "javascript:alert('entry')"

FEEDS_YAML = """\
settings:
  timezone: Asia/Taipei
  base_url: https://news.example.org
categories:
  kaohsiung:
    title: 高雄市政新聞
    description: 高雄市政府與各媒體的市政報導
  taipei:
    title: 臺北市政新聞
sources:
  - id: kcg
    url: https://kcg.example.gov.tw/rss.xml
    title: 高雄市政府
    categories: [kaohsiung]
  - id: cna
    url: https://cna.example.com.tw/rss.xml
    title: 中央社
    categories: [kaohsiung, taipei]
  - id: vision
    url: https://vision.example.com.tw/rss.xml
    title: 新聞視界時報
    categories: [kaohsiung]
  - id: taipei
    url: https://taipei.example.gov.tw/rss.xml
    title: 臺北市政府
    categories: [taipei]
  - id: broken
    url: https://broken.example.gov.tw/rss.xml
    title: 壞掉的來源
    categories: [taipei]
  - id: silent
    url: https://silent.example.gov.tw/rss.xml
    title: 沉默日報
    categories: [taipei]
"""

KAOHSIUNG_TITLES = [f"高雄市政新聞第 {number} 則" for number in range(1, KAOHSIUNG_STORIES)]
TAIPEI_TITLES = ["臺北市公車路線調整", "臺北市立圖書館延長開放", "臺北市颱風停班停課公告"]
ALL_ENTRIES = KAOHSIUNG_STORIES + len(TAIPEI_TITLES) + 1


def write_config(directory: Path) -> Path:
    path = directory / "feeds.yaml"
    path.write_text(FEEDS_YAML, encoding="utf-8")
    return path


def seed(store: Store, config_path: Path) -> datetime:
    """Fill the store with the story above; returns the moment of seeding."""
    config = load_config(config_path)
    # Poll times are relative to the moment of seeding; the app's clock stands still at
    # that moment (`seeded_app`), so relative times read the same however slowly the
    # test runs. Entry dates are fixed for the whole run.
    seeded_at = datetime.now(UTC)
    store.sync_sources(config.sources, seeded_at - timedelta(days=1))
    polled = seeded_at - timedelta(minutes=5)
    merged = report("kcg", "merged", title=MERGED_TITLE, link=MERGED_LINK, published=NOW)
    kaohsiung = [
        report("kcg", f"k{number}", title=title, published=NOW - timedelta(hours=number))
        for number, title in enumerate(KAOHSIUNG_TITLES, start=1)
    ]
    store.apply_poll(outcome("kcg", [merged, *kaohsiung], attempted_at=polled))
    for copier in ("cna", "vision"):
        copy = report(copier, "copy", title=MERGED_TITLE, link=MERGED_LINK, published=NOW)
        store.apply_poll(outcome(copier, [copy], attempted_at=polled))
    taipei = [
        report("taipei", f"t{number}", title=title, published=NOW - timedelta(minutes=30 + number))
        for number, title in enumerate(TAIPEI_TITLES)
    ]
    hostile = report(
        "taipei",
        "hostile",
        title=HOSTILE_TITLE,
        link=HOSTILE_LINK,
        summary=HOSTILE_SUMMARY,
        content=HOSTILE_SUMMARY,
        published=NOW - timedelta(minutes=10),
    )
    store.apply_poll(outcome("taipei", [*taipei, hostile], attempted_at=polled))
    for attempt in range(3):
        store.apply_poll(
            outcome(
                "broken",
                status="failed",
                error=FAILING_ERROR,
                attempted_at=seeded_at - timedelta(hours=3 - attempt),
            )
        )
    return seeded_at


def seeded_app(store: Store, db_url: str, directory: Path) -> Flask:
    """The app over a freshly seeded store (the same database as `store`)."""
    config_path = write_config(directory)
    seeded_at = seed(store, config_path)
    return create_app(
        {
            "DATABASE_URL": db_url,
            "AGGREGATOR_CONFIG": str(config_path),
            "CLOCK": lambda: seeded_at,
        }
    )


def entry_titles(page: str) -> list[str]:
    """The titles of the entries on a reader page or an embed, top to bottom, as shown."""
    found = re.findall(
        r'<(?:h2 class="entry-title"|li class="embed-entry")>\s*(?:<a [^>]*>)?([^<]*)',
        page,
    )
    return [html.unescape(title).strip() for title in found]


def link_labelled(page: str, label: str) -> str | None:
    """The href of the link whose text is `label`, if the page has one."""
    match = re.search(rf'<a [^>]*href="([^"]*)"[^>]*>\s*{re.escape(label)}', page)
    return html.unescape(match.group(1)) if match else None
