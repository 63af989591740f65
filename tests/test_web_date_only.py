"""A feed date with no time (114/03/16, 2025-03-16) is shown as a date, never as 00:00: in
the river, on the story page and in embeds. Feeds still carry a full timestamp."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from aggregator.models import EntryQuery, StoredEntry
from aggregator.store import Store
from aggregator.web.i18n import day_time
from tests.storedata import outcome, report

TAIPEI = ZoneInfo("Asia/Taipei")
DAY_TITLE = "市立圖書館春季書展"
TODAY_TITLE = "公園週末音樂會"
# Midnight of 16 March 2025 in Taipei: what the parse stage reads "114/03/16" as.
MARCH_16 = datetime(2025, 3, 16, tzinfo=TAIPEI).astimezone(UTC)


@pytest.fixture
def dated(client: FlaskClient, store: Store) -> dict[str, StoredEntry]:
    today = datetime.now(TAIPEI).replace(hour=0, minute=0, second=0, microsecond=0)
    reports = [
        report("kcg", "day", title=DAY_TITLE, published=MARCH_16, published_has_time=False),
        report(
            "kcg",
            "today",
            title=TODAY_TITLE,
            published=today.astimezone(UTC),
            published_has_time=False,
        ),
    ]
    store.apply_poll(outcome("kcg", reports, attempted_at=datetime.now(UTC)))
    found = store.entries(EntryQuery(limit=200)).entries
    return {entry.title: entry for entry in found if entry.title in (DAY_TITLE, TODAY_TITLE)}


def entry_meta(page: str, title: str) -> str:
    article = re.search(
        rf"<article class=\"entry\">(?:(?!</article>).)*{title}.*?</article>", page, flags=re.DOTALL
    )
    assert article is not None, f"no entry {title}"
    return article.group(0)


def test_the_river_shows_a_date_only_entry_as_a_day(
    client: FlaskClient, dated: dict[str, StoredEntry]
) -> None:
    river = client.get("/?source=kcg").get_data(as_text=True)
    today = entry_meta(river, TODAY_TITLE)
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\d">今天</time>', today)
    assert "00:00" not in today
    assert "臺北時間" not in today
    english = client.get("/?source=kcg&lang=en").get_data(as_text=True)
    assert ">Today</time>" in entry_meta(english, TODAY_TITLE)


def test_the_story_page_shows_the_day_without_a_time(
    client: FlaskClient, dated: dict[str, StoredEntry]
) -> None:
    page = client.get(f"/entries/{dated[DAY_TITLE].id}").get_data(as_text=True)
    assert '<time datetime="2025-03-16">2025年3月16日</time>' in page
    assert "00:00" not in page
    english = client.get(f"/entries/{dated[DAY_TITLE].id}?lang=en").get_data(as_text=True)
    assert '<time datetime="2025-03-16">16 March 2025</time>' in english


def test_embeds_show_the_day_without_a_time(
    client: FlaskClient, dated: dict[str, StoredEntry]
) -> None:
    embed = client.get("/embed/kaohsiung?limit=50").get_data(as_text=True)
    item = re.search(rf"{TODAY_TITLE}.*?</li>", embed, flags=re.DOTALL)
    assert item is not None
    assert ">今天</time>" in item.group(0)
    assert "00:00" not in item.group(0)


def test_feeds_keep_a_full_timestamp(client: FlaskClient, dated: dict[str, StoredEntry]) -> None:
    atom = client.get("/feeds/source/kcg.atom?limit=50").get_data(as_text=True)
    assert "2025-03-15T16:00:00Z" in atom or "2025-03-15T16:00:00+00:00" in atom
    body = client.get("/api/entries?source=kcg&limit=200").get_json()
    (day,) = [entry for entry in body["entries"] if entry["title"] == DAY_TITLE]
    assert day["published"] == "2025-03-15T16:00:00Z"
    # An API client can tell the day's midnight from a time the source gave.
    assert day["published_has_time"] is False
    assert day["sources"][0]["published_has_time"] is False


def test_a_timed_date_keeps_its_time_and_zone_label() -> None:
    now = datetime(2026, 12, 4, 8, tzinfo=UTC)
    assert day_time(now - timedelta(hours=1), now, "Asia/Taipei", "zh-Hant") == "今天 15:00"
    yesterday = now - timedelta(days=1)
    assert day_time(yesterday, now, "Asia/Taipei", "zh-Hant", has_time=False) == "昨天"
    assert day_time(MARCH_16, now, "Asia/Taipei", "zh-Hant", has_time=False) == "2025年3月16日"
