"""Browser fixtures: `browser` is Debian's chromium driven by Playwright (the test is
skipped where it is not installed), and the screen and language of a visitor's phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
VISITOR = "zh-TW"  # a Taiwanese visitor's browser asks for Traditional Chinese


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"the browser tests need chromium at {CHROMIUM} (apt install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class ScriptErrors:
    """Every console error and uncaught exception of a page. A 404 is not one: a 404
    page's own load, the seeded hostile summary's `<img src="x">` and the browser's own
    /favicon.ico ask for nothing this site has."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(str(error)))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "404" not in message.text:
            self.messages.append(message.text)
