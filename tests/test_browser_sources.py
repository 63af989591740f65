"""Source pages, poll now, date-only dates and the embed builder in a real browser (Debian's
chromium): what staff and site owners click, at a desktop's and a phone's width, and every
page of the site on a phone without sideways scrolling or script errors. Each page is
photographed at both widths (in the test's tmp_path) for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from aggregator.store import Store
from aggregator.store.staff_accounts import StaffAccounts
from tests.fixtures_browser import PHONE, VISITOR, ScriptErrors
from tests.fixtures_web import serving
from tests.storedata import outcome, report
from tests.webapp import seeded_app

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
STAFF, PASSWORD = "王小明", "correct horse battery staple"
DAY_TITLE = "市立圖書館春季書展"
UNRESOLVED = "the host name broken.invalid does not exist: check the URL"
PAGES = [
    "/",
    "/?category=kaohsiung",
    "/?q=%E9%AB%98%E9%9B%84",
    "/search/help",
    "/sources",
    "/sources/broken",
    "/sources/kcg",
    "/embed",
    "/embed?category=taipei&limit=5&theme=dark",
    "/embed/kaohsiung",
    "/staff/sign-in",
    "/feeds/kaohsiung.atom",
    "/feeds/source/taipei.rss",
]


@pytest.fixture
def site(store: Store, db_url: str, tmp_path: Path) -> Iterator[str]:
    """The seeded app with a staff account, a date-only story and a source that cannot be
    found, served over HTTP on 127.0.0.1."""
    app = seeded_app(store, db_url, tmp_path)
    StaffAccounts(store).add(STAFF, PASSWORD, datetime.now(UTC))
    today = datetime.now(ZoneInfo("Asia/Taipei")).replace(hour=0, minute=0, second=0)
    day = report(
        "kcg", "day", title=DAY_TITLE, published=today.astimezone(UTC), published_has_time=False
    )
    store.apply_poll(outcome("kcg", [day], attempted_at=datetime.now(UTC)))
    store.apply_poll(
        outcome("broken", status="failed", error=UNRESOLVED, attempted_at=datetime.now(UTC))
    )
    with serving(app) as url:
        yield url


def open_page(browser: Browser, viewport: ViewportSize, *, javascript: bool = True) -> Page:
    context = browser.new_context(viewport=viewport, locale=VISITOR, java_script_enabled=javascript)
    return context.new_page()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    page = open_page(browser, PHONE)
    yield page
    page.context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    page = open_page(browser, DESKTOP)
    yield page
    page.context.close()


def scroll_width(page: Page) -> tuple[int, int]:
    width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return width, viewport


def shot(page: Page, directory: Path, name: str) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = directory / f"{name}-{width}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 0


def sign_in(page: Page, site: str) -> None:
    page.goto(f"{site}/staff/sign-in")
    page.fill("input[name=name]", STAFF)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/sources")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_fits_a_phone_without_script_errors(
    browser: Browser, site: str, path: str, tmp_path: Path
) -> None:
    name = path.strip("/").replace("/", "_").replace("?", "_").replace("&", "_") or "river"
    for viewport in (PHONE, DESKTOP):
        page = open_page(browser, viewport)
        errors = ScriptErrors(page)
        page.goto(site + path)
        page.wait_for_load_state("load")
        width, shown = scroll_width(page)
        assert width <= shown, f"{path} scrolls sideways at {viewport['width']} px"
        if not path.startswith("/feeds/"):
            # A feed turned into a page by XSLT gets a banner of chromium's own making,
            # whose inline styles the site's Content-Security-Policy blocks.
            assert errors.messages == [], path
        shot(page, tmp_path, name[:60])
        page.context.close()


def test_a_story_page_fits_a_phone(phone: Page, site: str, tmp_path: Path) -> None:
    errors = ScriptErrors(phone)
    phone.goto(site)
    phone.locator("article.entry a.entry-compare").first.click()
    phone.wait_for_url("**/entries/*")
    width, shown = scroll_width(phone)
    assert width <= shown
    assert errors.messages == []
    shot(phone, tmp_path, "story")


def test_a_date_only_story_shows_today_without_a_time(
    phone: Page, site: str, tmp_path: Path
) -> None:
    phone.goto(site)
    entry = phone.locator("article.entry", has_text=DAY_TITLE)
    assert entry.locator("time").inner_text() == "今天"
    assert "00:00" not in entry.inner_text()
    entry.screenshot(path=tmp_path / "date-only-entry-390.png")


def test_a_source_page_shows_its_last_polls(phone: Page, site: str, tmp_path: Path) -> None:
    phone.goto(f"{site}/sources/broken")
    rows = phone.locator("table.attempts tbody tr")
    assert rows.count() == 4
    assert "主機名稱 broken.invalid 不存在" in rows.first.inner_text()
    assert "錯誤" in rows.first.inner_text()
    width, shown = scroll_width(phone)
    assert width <= shown
    shot(phone, tmp_path, "source-history")


def test_staff_press_poll_now_and_the_source_is_queued(
    desktop: Page, site: str, store: Store, tmp_path: Path
) -> None:
    errors = ScriptErrors(desktop)
    desktop.goto(f"{site}/sources/kcg")
    assert desktop.locator("form.poll-now").count() == 0  # not signed in
    sign_in(desktop, site)
    desktop.goto(f"{site}/sources/kcg")
    desktop.get_by_role("button", name="立即抓取").click()
    desktop.wait_for_url("**/sources/kcg?queued=1")

    assert "已排入，下一輪抓取" in desktop.locator(".notice").inner_text()
    assert "kcg" in [state.source_id for state in store.due_sources(datetime.now(UTC))]
    assert errors.messages == []
    shot(desktop, tmp_path, "poll-now")


def test_the_embed_builder_updates_its_code_and_preview_live(
    desktop: Page, site: str, tmp_path: Path
) -> None:
    errors = ScriptErrors(desktop)
    desktop.goto(f"{site}/embed")
    desktop.select_option("select[name=category]", "taipei")
    desktop.select_option("select[name=theme]", "dark")
    desktop.fill("input[name=limit]", "5")

    code = desktop.input_value("#embed-code")
    assert "/embed/taipei?limit=5&amp;theme=dark" in code
    assert 'title="臺北市政新聞"' in code
    preview = desktop.frame_locator("#embed-preview")
    assert preview.locator("h1").inner_text() == "臺北市政新聞"
    assert preview.locator("li.embed-entry").count() == 5
    assert preview.locator("html").get_attribute("data-theme") == "dark"
    assert "category=taipei" in desktop.url  # a reload shows the same
    assert errors.messages == []
    shot(desktop, tmp_path, "embed-builder-live")


def test_the_embed_builder_works_without_javascript(
    browser: Browser, site: str, tmp_path: Path
) -> None:
    page = open_page(browser, PHONE, javascript=False)
    page.goto(f"{site}/embed")
    page.select_option("select[name=category]", "taipei")
    page.select_option("select[name=embed_lang]", "en")
    page.get_by_role("button", name="更新程式碼").click()
    page.wait_for_url("**/embed?category=taipei*")

    assert "/embed/taipei?lang=en" in page.input_value("#embed-code")
    preview = page.frame_locator("#embed-preview")
    assert preview.locator(".embed-more").inner_text() == "More news →"
    shot(page, tmp_path, "embed-builder-nojs")
    page.context.close()


def test_a_reader_opens_a_story_from_an_embed(phone: Page, site: str) -> None:
    phone.goto(f"{site}/embed/kaohsiung")
    entry = phone.locator("li.embed-entry", has_text=DAY_TITLE)
    with phone.context.expect_page() as opened:
        entry.locator("a[href^='/entries/']").click()
    story = opened.value
    story.wait_for_load_state()
    assert story.locator("h1").inner_text() == DAY_TITLE
