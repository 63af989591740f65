"""The staff page `/sources`: every source's health at a glance, failing ones first."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from aggregator.web.i18n import Language, due_time, relative_time
from tests.webapp import FAILING_ERROR


def staff_page(client: FlaskClient, path: str = "/sources") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def source_row(page: str, source_id: str) -> str:
    match = re.search(rf'<tr [^>]*id="source-{source_id}">(.*?)</tr>', page, flags=re.DOTALL)
    assert match is not None, f"no row for {source_id}"
    return match.group(1)


def test_every_source_has_a_row(client: FlaskClient) -> None:
    page = staff_page(client)
    for source_id in ("kcg", "cna", "vision", "taipei", "broken", "silent"):
        source_row(page, source_id)


def test_failing_sources_come_first_then_those_never_polled(client: FlaskClient) -> None:
    order = re.findall(r'id="source-([a-z-]+)"', staff_page(client))
    assert order[:2] == ["broken", "silent"]


def test_a_failing_source_shows_its_error_in_words_and_its_failures(client: FlaskClient) -> None:
    row = source_row(staff_page(client), "broken")
    assert "失敗" in row
    assert FAILING_ERROR in row
    assert '<td class="num" data-label="連續失敗">3</td>' in row


def test_a_healthy_source_shows_when_it_last_succeeded_and_its_entries(
    client: FlaskClient,
) -> None:
    row = source_row(staff_page(client), "kcg")
    assert "正常" in row
    assert ">5 分鐘前</time>" in row
    assert ">10 分鐘後</time>" in row
    assert '<td class="num" data-label="新聞數">35</td>' in row


def test_relative_times_give_the_exact_time_on_hover(client: FlaskClient) -> None:
    row = source_row(staff_page(client), "kcg")
    assert re.search(r'<time datetime="[^"]+Z" title="\d{4}-\d\d-\d\d \d\d:\d\d">', row)


def test_a_source_never_polled_says_so(client: FlaskClient) -> None:
    row = source_row(staff_page(client), "silent")
    assert "尚未抓取" in row
    assert "從未" in row


def test_a_next_poll_gone_past_is_shown_overdue(client: FlaskClient) -> None:
    # Never polled since it was added a day ago: its first poll was due then.
    row = source_row(staff_page(client), "silent")
    assert ">逾期 1 天</time>" in row


def test_an_overdue_poll_speaks_english_on_request(client: FlaskClient) -> None:
    row = source_row(staff_page(client, "/sources?lang=en"), "silent")
    assert ">overdue by 1 day</time>" in row


def test_the_page_counts_what_needs_attention(client: FlaskClient) -> None:
    assert "共 6 個來源，1 個失敗，1 個尚未抓取。" in staff_page(client)


def test_the_staff_page_speaks_english_on_request(client: FlaskClient) -> None:
    page = staff_page(client, "/sources?lang=en")
    assert "6 sources, 1 failing, 1 never polled." in page
    assert ">5 minutes ago</time>" in source_row(page, "kcg")


NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "language", "expected"),
    [
        (NOW - timedelta(seconds=20), "zh-Hant", "剛剛"),
        (NOW - timedelta(minutes=1), "en", "1 minute ago"),
        (NOW - timedelta(hours=3), "zh-Hant", "3 小時前"),
        (NOW - timedelta(hours=3), "en", "3 hours ago"),
        (NOW - timedelta(days=2), "en", "2 days ago"),
        (NOW + timedelta(minutes=9, seconds=58), "zh-Hant", "10 分鐘後"),
        (NOW + timedelta(minutes=10), "en", "in 10 minutes"),
    ],
)
def test_relative_times_read_naturally(moment: datetime, language: Language, expected: str) -> None:
    assert relative_time(moment, NOW, language) == expected


@pytest.mark.parametrize(
    ("moment", "language", "expected"),
    [
        (NOW - timedelta(minutes=5), "zh-Hant", "逾期 5 分鐘"),
        (NOW - timedelta(hours=2), "en", "overdue by 2 hours"),
        (NOW - timedelta(seconds=20), "zh-Hant", "剛剛"),
        (NOW + timedelta(minutes=10), "zh-Hant", "10 分鐘後"),
    ],
)
def test_due_times_in_words(moment: datetime, language: Language, expected: str) -> None:
    assert due_time(moment, NOW, language) == expected


# --- a source's own page ---------------------------------------------------------


def test_each_source_links_to_its_own_page(client: FlaskClient) -> None:
    row = source_row(staff_page(client), "broken")
    assert 'href="/sources/broken"' in row


def test_a_source_page_shows_its_health_chart_and_feeds(client: FlaskClient) -> None:
    page = staff_page(client, "/sources/broken")
    row = source_row(page, "broken")
    assert FAILING_ERROR in row
    assert '<svg class="sparkline"' in source_row(staff_page(client, "/sources/kcg"), "kcg")
    for extension in ("atom", "rss", "json"):
        assert f'href="/feeds/source/broken.{extension}"' in page
    assert 'href="/?source=broken"' in page


def test_an_unknown_source_page_is_a_404(client: FlaskClient) -> None:
    response = client.get("/sources/nowhere")
    assert response.status_code == 404
    assert "nowhere" in response.get_data(as_text=True)
