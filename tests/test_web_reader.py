"""The reader view `/` and the embeddable list `/embed/<category>`, as a visitor sees them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from aggregator.web.i18n import Language, day_time
from aggregator.web.timefmt import rfc3339
from tests.webapp import (
    ALL_ENTRIES,
    KAOHSIUNG_TITLES,
    MERGED_TITLE,
    NOW,
    TAIPEI_TITLES,
    entry_titles,
    link_labelled,
)


def page_text(client: FlaskClient, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# --- the river ---------------------------------------------------------------


def test_the_river_shows_the_newest_entries_first(client: FlaskClient) -> None:
    titles = entry_titles(page_text(client, "/"))
    assert titles[0] == MERGED_TITLE
    assert titles.index(KAOHSIUNG_TITLES[0]) < titles.index(KAOHSIUNG_TITLES[1])


def test_a_merged_story_names_every_source_that_reported_it(client: FlaskClient) -> None:
    page = page_text(client, "/")
    assert '<span class="entry-source">高雄市政府</span>' in page
    assert "亦見於:" in page
    assert link_labelled(page, "中央社") is not None
    assert link_labelled(page, "新聞視界時報") is not None


def test_times_are_shown_in_taipei_time_labelled_and_machine_readable(
    client: FlaskClient,
) -> None:
    taipei_clock = NOW.astimezone(ZoneInfo("Asia/Taipei")).strftime("%H:%M")
    time = f'<time datetime="{rfc3339(NOW)}">今天 {taipei_clock}</time>'
    expected = f'{time} <span class="zone">臺北時間</span>'
    assert expected in page_text(client, "/")
    assert "Taipei time" in page_text(client, "/?lang=en")


TAIPEI = "Asia/Taipei"
EVENING = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # 20:00 in Taipei


@pytest.mark.parametrize(
    ("published", "language", "shown"),
    [
        (datetime(2026, 12, 4, 6, 5, tzinfo=UTC), "zh-Hant", "今天 14:05"),
        (datetime(2026, 12, 3, 16, 30, tzinfo=UTC), "zh-Hant", "今天 00:30"),  # Taipei's day
        (datetime(2026, 12, 3, 15, 30, tzinfo=UTC), "zh-Hant", "昨天 23:30"),
        (datetime(2026, 12, 3, 1, 0, tzinfo=UTC), "en", "Yesterday 09:00"),
        (datetime(2026, 12, 2, 8, 0, tzinfo=UTC), "en", "2026-12-02 16:00"),
    ],
)
def test_recent_times_say_today_or_yesterday_in_the_sites_zone(
    published: datetime, language: Language, shown: str
) -> None:
    assert day_time(published, EVENING, TAIPEI, language) == shown


def test_the_category_filter_shows_only_that_category(client: FlaskClient) -> None:
    titles = entry_titles(page_text(client, "/?category=taipei"))
    assert set(TAIPEI_TITLES) <= set(titles)
    assert not set(KAOHSIUNG_TITLES) & set(titles)


def test_the_source_filter_shows_only_what_that_source_reported(client: FlaskClient) -> None:
    assert entry_titles(page_text(client, "/?source=vision")) == [MERGED_TITLE]


def test_the_filter_form_works_without_javascript(client: FlaskClient) -> None:
    page = page_text(client, "/")
    assert '<form class="filters" method="get" action="/">' in page
    assert '<select name="category">' in page
    assert '<select name="source">' in page


def test_an_empty_filter_from_the_form_means_everything(client: FlaskClient) -> None:
    assert entry_titles(page_text(client, "/?category=&source=")) == entry_titles(
        page_text(client, "/")
    )


def test_older_links_visit_every_entry_exactly_once(client: FlaskClient) -> None:
    seen: list[str] = []
    path: str | None = "/"
    while path is not None:
        page = page_text(client, path)
        seen += entry_titles(page)
        path = link_labelled(page, "較舊")
    assert len(seen) == ALL_ENTRIES
    assert len(set(seen)) == ALL_ENTRIES


def test_paging_keeps_the_filters(client: FlaskClient) -> None:
    older = link_labelled(page_text(client, "/?category=kaohsiung"), "較舊")
    assert older is not None
    assert "category=kaohsiung" in older
    titles = entry_titles(page_text(client, older))
    assert titles
    assert not set(TAIPEI_TITLES) & set(titles)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/?category=tainan", 404, "沒有「tainan」這個分類"),
        ("/?source=nobody", 404, "沒有「nobody」這個來源"),
        ("/?cursor=not-a-cursor", 400, "cursor 無效"),
        ("/?lang=fr", 400, "lang 只能是 zh-Hant（或 zh-TW、zh）或 en"),
        ("/no/such/page", 404, "這個網址沒有內容"),
    ],
)
def test_bad_addresses_get_a_page_that_says_what_is_wrong(
    client: FlaskClient, path: str, status: int, message: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


# --- language ----------------------------------------------------------------


def test_the_interface_is_in_traditional_chinese_by_default(client: FlaskClient) -> None:
    page = page_text(client, "/")
    assert '<html lang="zh-Hant">' in page
    assert "較舊" in page


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/?lang=en", {}), ("/", {"Accept-Language": "en-US,en;q=0.9"})],
    ids=["query", "accept-language"],
)
def test_english_is_chosen_by_query_or_browser(
    client: FlaskClient, path: str, headers: dict[str, str]
) -> None:
    page = page_text(client, path, **headers)
    assert '<html lang="en">' in page
    assert "Older" in page
    assert "Also in:" in page


@pytest.mark.parametrize(
    ("requested", "language"),
    [
        ("zh-TW", "zh-Hant"),
        ("zh", "zh-Hant"),
        ("zh-Hant", "zh-Hant"),
        ("zh-tw", "zh-Hant"),
        ("en", "en"),
    ],
)
def test_the_language_parameter_takes_the_usual_tags(
    client: FlaskClient, requested: str, language: str
) -> None:
    assert f'<html lang="{language}">' in page_text(client, f"/?lang={requested}")


def test_a_chosen_language_is_kept_when_paging(client: FlaskClient) -> None:
    older = link_labelled(page_text(client, "/?lang=en"), "Older")
    assert older is not None
    assert "lang=en" in older


def test_errors_speak_the_chosen_language(client: FlaskClient) -> None:
    response = client.get("/?category=tainan&lang=en")
    assert response.status_code == 404
    assert "There is no category “tainan”." in response.get_data(as_text=True)


# --- embedding -----------------------------------------------------------------


def test_a_category_page_offers_the_iframe_snippet_to_embed_it(client: FlaskClient) -> None:
    page = page_text(client, "/?category=kaohsiung")
    assert (
        "&lt;iframe src=&#34;https://news.example.org/embed/kaohsiung&#34; "
        "title=&#34;高雄市政新聞&#34;"
    ) in page


def test_the_front_page_offers_no_iframe_snippet(client: FlaskClient) -> None:
    assert "&lt;iframe" not in page_text(client, "/")


def test_the_embed_lists_the_latest_ten_entries_of_its_category(client: FlaskClient) -> None:
    titles = entry_titles(page_text(client, "/embed/kaohsiung"))
    assert titles == [MERGED_TITLE, *KAOHSIUNG_TITLES[:9]]


def test_the_embed_limit_chooses_how_many(client: FlaskClient) -> None:
    assert len(entry_titles(page_text(client, "/embed/kaohsiung?limit=3"))) == 3


def test_embed_links_open_in_a_new_tab(client: FlaskClient) -> None:
    page = page_text(client, "/embed/kaohsiung")
    assert 'href="https://kcg.example.gov.tw/news/merged" target="_blank" rel="noopener"' in page


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_embed_theme_can_be_forced(client: FlaskClient, theme: str) -> None:
    assert f'data-theme="{theme}"' in page_text(client, f"/embed/kaohsiung?theme={theme}")


def test_without_a_theme_the_embed_is_light_whatever_the_visitors_system_says(
    client: FlaskClient,
) -> None:
    page = page_text(client, "/embed/kaohsiung")
    assert 'data-theme="light"' in page
    assert '<meta name="color-scheme" content="light">' in page


def test_theme_auto_lets_the_embed_follow_the_visitor(client: FlaskClient) -> None:
    page = page_text(client, "/embed/kaohsiung?theme=auto")
    assert "data-theme" not in page
    assert '<meta name="color-scheme" content="light dark">' in page


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/embed/tainan", 404, "沒有「tainan」這個分類"),
        ("/embed/kaohsiung?limit=51", 400, "limit 必須是 1 到 50 之間的整數"),
        ("/embed/kaohsiung?limit=0", 400, "limit 必須是 1 到 50 之間的整數"),
        ("/embed/kaohsiung?limit=ten", 400, "收到的是「ten」"),
        ("/embed/kaohsiung?theme=neon", 400, "theme 只能是 light、dark 或 auto"),
    ],
)
def test_a_bad_embed_address_says_what_is_wrong(
    client: FlaskClient, path: str, status: int, message: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
