"""The staff desk in a real browser (Debian's chromium), at a desktop's and a phone's
width: staff sign in from the header, split a report off a story and merge it back by
searching, each confirmed, find both in the staff log, and sign out; error pages in both
languages. No page scrolls sideways, and no script error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from aggregator.store import Store
from aggregator.store.staff_accounts import StaffAccounts
from tests.fixtures_browser import PHONE, VISITOR
from tests.fixtures_web import serving
from tests.test_browser_story import (
    REWRITE_TITLE,
    STORY_TITLE,
    ScriptErrors,
    add_harbour_story,
    scroll_width,
)
from tests.webapp import seeded_app

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
NAME, PASSWORD = "王小明", "correct horse battery staple"


@pytest.fixture
def site(store: Store, db_url: str, tmp_path: Path) -> Iterator[str]:
    """The seeded app with a staff account, and a story the city and the wire service told."""
    StaffAccounts(store).add(NAME, PASSWORD, datetime.now(UTC))
    app = seeded_app(store, db_url, tmp_path)
    add_harbour_story(store)
    with serving(app) as url:
        yield url


@pytest.fixture(params=[DESKTOP, PHONE], ids=["1280px", "390px"])
def screen(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport=request.param, locale=VISITOR)
    yield context.new_page()
    context.close()


class Visit:
    """A page at a time: each one checked for sideways scrolling, and photographed."""

    def __init__(self, page: Page, directory: Path) -> None:
        self.page, self.directory = page, directory
        self.errors = ScriptErrors(page)
        self.width = page.viewport_size["width"] if page.viewport_size else 0

    def check(self, name: str) -> None:
        self.page.screenshot(path=self.directory / f"{name}-{self.width}.png", full_page=True)
        width, viewport = scroll_width(self.page)
        assert width <= viewport, f"{name} scrolls sideways at {self.width} px"

    def confirm(self, name: str, heading: str, button: str, back_to: str) -> str:
        """On a confirmation page: check it, press `button`, and return the message the
        page it goes back to shows."""
        assert self.page.locator("h1").inner_text() == heading
        self.check(name)
        self.page.get_by_role("button", name=button).click()
        self.page.wait_for_url(back_to)
        return self.page.locator(".flash").inner_text()


def test_staff_split_a_report_off_and_merge_it_back_by_searching(
    screen: Page, site: str, tmp_path: Path
) -> None:
    visit = Visit(screen, tmp_path)
    screen.goto(site)
    entry = screen.locator("article.entry", has_text=STORY_TITLE)
    entry.get_by_role("link", name="全文比較").click()
    screen.wait_for_url("**/entries/*")
    story = screen.url
    assert screen.locator(".staff-tools").count() == 0

    screen.get_by_role("link", name="登入").click()
    visit.check("sign-in")
    screen.fill("input[name=name]", NAME)
    screen.fill("input[name=password]", PASSWORD)
    screen.get_by_role("button", name="登入").click()
    screen.wait_for_url(story)
    assert "編輯：王小明" in screen.locator(".site-header").inner_text()
    visit.check("story-staff")

    wire = screen.locator("section.report", has_text=REWRITE_TITLE)
    assert "同一網址" in wire.locator(".merge-why").inner_text()
    wire.get_by_role("link", name="分出這篇報導").click()
    done = visit.confirm("confirm-split", "確認分出報導", "確定分出", story)
    assert "已分出「中央社」的報導" in done
    assert screen.locator("section.report", has_text=REWRITE_TITLE).count() == 0
    visit.check("story-after-split")

    screen.fill("#merge-q", "市長出席")
    screen.get_by_role("button", name="搜尋").last.click()
    choice = screen.locator(".merge-choice", has_text=REWRITE_TITLE)
    assert "中央社" in choice.inner_text()
    visit.check("merge-search")
    choice.get_by_role("link", name="選這則").click()
    assert "併入這則新聞" in visit.confirm("confirm-merge", "確認合併", "確定合併", story)
    assert screen.locator("section.report", has_text=REWRITE_TITLE).count() == 1

    screen.get_by_role("link", name="合併情形與編輯紀錄").click()
    log = screen.locator(".staff-log li").all_inner_texts()
    assert "王小明 把另一則新聞併入這則" in log[0]
    assert "王小明 分出「中央社」的報導" in log[1]
    visit.check("staff-entry")

    screen.get_by_role("button", name="登出").click()
    screen.wait_for_url(f"{site}/")
    assert screen.get_by_role("link", name="登入").count() == 1
    assert visit.errors.messages == []


def test_the_staff_desk_speaks_english_when_asked(screen: Page, site: str, tmp_path: Path) -> None:
    visit = Visit(screen, tmp_path)
    screen.goto(f"{site}/?lang=en")
    screen.locator("article.entry", has_text=STORY_TITLE).locator("a.entry-compare").click()
    story = screen.url
    screen.get_by_role("link", name="Sign in").click()
    screen.fill("input[name=name]", NAME)
    screen.fill("input[name=password]", PASSWORD)
    screen.get_by_role("button", name="Sign in").click()
    screen.wait_for_url(story)

    wire = screen.locator("section.report", has_text=REWRITE_TITLE)
    assert "Same link" in wire.locator(".merge-why").inner_text()
    assert wire.get_by_role("link", name="Split this report off").count() == 1
    assert "Staff: 王小明" in screen.locator(".site-header").inner_text()
    visit.check("story-staff-en")
    screen.get_by_role("link", name="How it was merged, and the staff log").click()
    assert screen.locator(".merged-reports li").count() == 2
    visit.check("staff-entry-en")
    assert visit.errors.messages == []


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/no-such-page", 404, "找不到頁面"),
        ("/no-such-page?lang=en", 404, "Not found"),
        ("/staff/sign-out", 405, "不接受這種請求"),
        ("/staff/sign-out?lang=en", 405, "Method not allowed"),
        ("/?order=sideways", 400, "請求有誤"),
        ("/?order=sideways&lang=en", 400, "Bad request"),
    ],
)
def test_error_pages_are_pages_of_the_site(
    screen: Page, site: str, tmp_path: Path, path: str, status: int, heading: str
) -> None:
    visit = Visit(screen, tmp_path)
    response = screen.goto(site + path)

    assert response is not None and response.status == status
    assert screen.locator("h1").inner_text() == heading
    assert screen.locator(".site-header .brand").count() == 1
    visit.check(f"error-{heading.replace(' ', '-')}")
    # The browser reports the page's own status as a failed load; nothing else may fail.
    assert [m for m in visit.errors.messages if f"status of {status}" not in m] == []
