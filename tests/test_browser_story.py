"""The story page, searching by filter, source pages and feeds in a real browser (Debian's
chromium): what a reader clicks, at a phone's width, with no script errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from aggregator.store import Store
from tests.fixtures_browser import PHONE, VISITOR, ScriptErrors
from tests.fixtures_web import serving
from tests.storedata import outcome, report
from tests.webapp import KAOHSIUNG_TITLES, NOW, TAIPEI_TITLES, seeded_app

pytestmark = pytest.mark.browser

STORY_TITLE = "高雄港擴建動工"
REWRITE_TITLE = "港區擴建 市長出席"
SHARED_LINK = "https://kcg.example.gov.tw/news/harbour"
# Chromium 156 marks a page made by XSLT with a deprecation banner whose inline styles the
# site's Content-Security-Policy blocks: console errors of the browser's making, not ours.
FEED_PAGES = ["/feeds/kaohsiung.atom", "/feeds/source/taipei.rss"]
PAGES = [
    "/",
    "/?source=taipei",
    "/?q=source%3Ataipei",
    "/search/help",
    "/sources",
    "/sources/broken",
    "/embed/kaohsiung",
    "/no-such-page",
]


@pytest.fixture
def site(store: Store, db_url: str, tmp_path: Path) -> Iterator[str]:
    """The seeded app, plus a story the city and the wire service told differently."""
    app = seeded_app(store, db_url, tmp_path)
    add_harbour_story(store)
    with serving(app) as url:
        yield url


def add_harbour_story(store: Store) -> None:
    """A story the city and the wire service told differently, merged by their one link."""
    city = report(
        "kcg",
        "harbour",
        title=STORY_TITLE,
        link=SHARED_LINK,
        published=NOW,
        content="<p>高雄港擴建今(3)日動工，總經費1,200億元。工程預計三年完成。</p>",
    )
    wire = report(
        "cna",
        "harbour",
        title=REWRITE_TITLE,
        link=SHARED_LINK,
        published=NOW,
        content="<p>高雄港擴建3日動工，總經費1200億元。工程預計2029年完成。市長陳其邁出席典禮。</p>",
    )
    store.apply_poll(outcome("kcg", [city], attempted_at=NOW))
    store.apply_poll(outcome("cna", [wire], attempted_at=NOW))


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale=VISITOR)
    yield context.new_page()
    context.close()


def test_a_reader_opens_a_story_from_the_river(phone: Page, site: str) -> None:
    errors = ScriptErrors(phone)
    phone.goto(site)
    entry = phone.locator("article.entry", has_text=STORY_TITLE)
    entry.get_by_role("link", name="全文比較").click()
    phone.wait_for_url("**/entries/*")

    assert phone.locator("h1").inner_text() == STORY_TITLE
    other = phone.locator("section.report", has_text=REWRITE_TITLE)
    assert "市長陳其邁出席典禮。" in other.locator("ins").all_inner_texts()
    assert "工程預計三年完成。" in other.locator("del").all_inner_texts()
    assert errors.messages == []


def test_a_reader_opens_a_story_from_an_embed(phone: Page, site: str) -> None:
    phone.goto(f"{site}/embed/kaohsiung")
    entry = phone.locator("li.embed-entry", has_text=STORY_TITLE)
    with phone.context.expect_page() as opened:
        entry.locator("a[href^='/entries/']").click()
    story = opened.value
    story.wait_for_load_state()

    assert story.locator("h1").inner_text() == STORY_TITLE
    assert story.locator("section.report", has_text=REWRITE_TITLE).count() == 1


def test_a_filter_alone_in_the_search_box_lists_that_source(phone: Page, site: str) -> None:
    phone.goto(site)
    phone.fill("input[name=q]", "source:taipei")
    phone.press("input[name=q]", "Enter")
    phone.wait_for_url("**/?q=source*")

    titles = [t.strip() for t in phone.locator(".entry-title").all_inner_texts()]
    assert set(TAIPEI_TITLES) <= set(titles)
    assert not set(KAOHSIUNG_TITLES) & set(titles)
    assert phone.input_value("input[name=q]") == "source:taipei"


def test_the_search_help_is_one_click_from_the_search_box(phone: Page, site: str) -> None:
    phone.goto(site)
    phone.click("a.search-help")
    phone.wait_for_url("**/search/help")
    assert phone.locator("h1").inner_text() == "搜尋語法"


def scroll_width(page: Page) -> tuple[int, int]:
    width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return width, viewport


@pytest.mark.parametrize("path", [*PAGES, "story"])
def test_every_page_fits_a_phone_without_script_errors(phone: Page, site: str, path: str) -> None:
    errors = ScriptErrors(phone)
    if path == "story":
        phone.goto(site)
        path = phone.locator("article.entry a.entry-compare").first.get_attribute("href") or ""
    phone.goto(site + path)

    width, viewport = scroll_width(phone)
    assert width <= viewport, f"{path} scrolls sideways"
    assert errors.messages == []


@pytest.mark.parametrize("path", FEED_PAGES)
def test_a_feed_opened_on_a_phone_fits_it(phone: Page, site: str, path: str) -> None:
    phone.goto(site + path)

    width, viewport = scroll_width(phone)
    assert width <= viewport, f"{path} scrolls sideways"


def test_a_feed_opened_in_a_browser_explains_how_to_subscribe(phone: Page, site: str) -> None:
    phone.goto(f"{site}/feeds/kaohsiung.atom")

    assert phone.locator("h1").inner_text() == "高雄市政新聞"
    assert "feed" in phone.locator(".subscribe-help").inner_text()
    story = phone.locator(".entry-title a", has_text=STORY_TITLE)
    assert story.get_attribute("href") == SHARED_LINK
