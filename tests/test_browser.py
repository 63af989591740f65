"""The reader view in a real browser (Debian's chromium), with JavaScript off and on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from aggregator.store import Store
from tests.fixtures_browser import PHONE, VISITOR
from tests.fixtures_web import serving
from tests.webapp import KAOHSIUNG_TITLES, MERGED_TITLE, TAIPEI_TITLES, seeded_app

pytestmark = pytest.mark.browser


@pytest.fixture
def site(store: Store, db_url: str, tmp_path: Path) -> Iterator[str]:
    """The seeded app served over HTTP on 127.0.0.1, as a deployment would serve it."""
    with serving(seeded_app(store, db_url, tmp_path)) as url:
        yield url


@pytest.fixture(params=[False, True], ids=["no-javascript", "javascript"])
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=request.param, viewport=PHONE, locale=VISITOR)
    yield context.new_page()
    context.close()


def shown_titles(page: Page) -> list[str]:
    return [title.strip() for title in page.locator(".entry-title").all_inner_texts()]


def test_the_reader_view_shows_the_news(page: Page, site: str, tmp_path: Path) -> None:
    page.goto(site)
    titles = shown_titles(page)
    assert titles[0] == MERGED_TITLE
    assert KAOHSIUNG_TITLES[0] in titles
    assert page.locator(".also-in").first.inner_text() == "亦見於: 中央社, 新聞視界時報"
    page.screenshot(path=tmp_path / "reader.png")
    assert (tmp_path / "reader.png").stat().st_size > 0


def test_the_category_filter_form_narrows_the_river(page: Page, site: str) -> None:
    page.goto(site)
    page.select_option("select[name=category]", "taipei")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/?category=taipei*")
    titles = shown_titles(page)
    assert set(TAIPEI_TITLES) <= set(titles)
    assert not set(KAOHSIUNG_TITLES) & set(titles)


def test_the_category_tabs_narrow_the_river(page: Page, site: str) -> None:
    page.goto(site)
    page.click("nav.tabs >> text=高雄市政新聞")
    page.wait_for_url("**/?category=kaohsiung")
    assert not set(TAIPEI_TITLES) & set(shown_titles(page))


def test_the_reader_view_fits_a_phone_screen(browser: Browser, site: str) -> None:
    context = browser.new_context(viewport=PHONE, locale=VISITOR)
    page = context.new_page()
    page.goto(site)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_the_reader_view_has_a_dark_theme(browser: Browser, site: str, tmp_path: Path) -> None:
    context = browser.new_context(
        color_scheme="dark", viewport={"width": 1100, "height": 900}, locale=VISITOR
    )
    page = context.new_page()
    page.goto(site + "/?category=kaohsiung")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.screenshot(path=tmp_path / "reader-dark.png")
    context.close()
    assert background == "rgb(17, 20, 24)"
