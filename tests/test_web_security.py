"""Headers on every response, framing rules, and a hostile entry rendered harmlessly everywhere."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.webapp import HOSTILE_TITLE

PAGES = [
    "/",
    "/?category=taipei",
    "/?source=taipei",
    "/?lang=en",
    "/sources",
    "/opml",
    "/healthz",
    "/api/entries",
    "/api/sources",
    "/no-such-page",
    "/?category=tainan",
]
PAGES_SHOWING_THE_HOSTILE_ENTRY = ["/", "/?category=taipei", "/?source=taipei", "/embed/taipei"]
# Markers of the hostile entry's payloads; none may reach a browser as markup.
DANGEROUS = ["<script", "onerror", "javascript:", "<b>"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_protective_headers(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.parametrize("path", PAGES)
def test_no_other_site_may_frame_the_site(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/embed/kaohsiung", "/embed/kaohsiung?theme=dark"])
def test_any_site_may_frame_the_embed(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    assert "X-Frame-Options" not in headers
    assert "frame-ancestors *" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/", "/sources", "/embed/kaohsiung"])
def test_pages_need_no_inline_script_or_style(client: FlaskClient, path: str) -> None:
    page = client.get(path).get_data(as_text=True)
    assert "<script" not in page
    assert "<style" not in page
    assert ' style="' not in page


@pytest.mark.parametrize("path", PAGES_SHOWING_THE_HOSTILE_ENTRY)
def test_a_hostile_entry_is_shown_as_harmless_text(client: FlaskClient, path: str) -> None:
    page = client.get(path).get_data(as_text=True)
    assert "&lt;b&gt;粗體&lt;/b&gt; 標題" in page
    for marker in DANGEROUS:
        assert marker not in page.lower()


def test_a_hostile_entry_reaches_api_clients_disarmed(client: FlaskClient) -> None:
    entries = client.get("/api/entries?source=taipei").get_json()["entries"]
    hostile = next(entry for entry in entries if entry["title"] == HOSTILE_TITLE)
    assert hostile["link"] is None
    assert hostile["sources"][0]["link"] is None
    for html in (hostile["summary"], hostile["content"]):
        assert "摘要" in html
        for marker in ("<script", "onerror", "javascript:"):
            assert marker not in html.lower()


def test_pages_tell_caches_they_vary_by_language(client: FlaskClient) -> None:
    response = client.get("/")
    assert "Accept-Language" in response.headers.get("Vary", "")


@pytest.mark.parametrize("path", ["/", "/?q=%E6%91%98%E8%A6%81"])
def test_feed_text_is_shown_in_blocks_isolated_from_the_page_direction(
    client: FlaskClient, path: str
) -> None:
    page = client.get(path).get_data(as_text=True)

    assert page.count('class="entry-summary" dir="auto"') == page.count('class="entry-summary"')
    assert 'class="entry-summary" dir="auto"' in page
