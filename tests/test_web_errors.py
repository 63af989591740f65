"""Error pages: every status a visitor can meet is a page of the site (its header, its
language: Traditional Chinese unless English is asked for), over real HTTP; the API keeps
its JSON errors."""

from __future__ import annotations

import html
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from aggregator.store import Store
from aggregator.store.staff_accounts import StaffAccounts
from tests.fixtures_web import serving
from tests.webapp import seeded_app


@pytest.fixture
def site(store: Store, db_url: str, tmp_path: Path) -> Iterator[str]:
    """The seeded app with a staff account, and one page that fails, as a bug would."""
    StaffAccounts(store).add("王小明", "correct horse battery staple", datetime.now(UTC))
    app: Flask = seeded_app(store, db_url, tmp_path)

    def broken() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/broken", view_func=broken)
    with serving(app) as url:
        yield url


def fetch(url: str, data: bytes | None = None) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, data=data) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


# path, POST body (None: a GET), status, the Chinese and the English heading
ERRORS = [
    ("/?order=sideways", None, 400, "請求有誤", "Bad request"),
    ("/staff/sign-out", b"csrf_token=forged", 403, "沒有權限", "Forbidden"),
    ("/no-such-page", None, 404, "找不到頁面", "Not found"),
    ("/staff/sign-in", None, 405, "不接受這種請求", "Method not allowed"),
    ("/broken", None, 500, "伺服器發生錯誤", "Server error"),
]


@pytest.mark.parametrize(("path", "body", "status", "chinese", "english"), ERRORS)
def test_an_error_is_a_page_of_the_site_in_the_readers_language(
    site: str, path: str, body: bytes | None, status: int, chinese: str, english: str
) -> None:
    if status == 405:
        body, path = None, "/staff/sign-out"  # a form's target, opened as a link
    got, page, _ = fetch(site + path, body)
    assert got == status
    assert f"<h1>{chinese}</h1>" in page and 'lang="zh-Hant"' in page
    assert 'class="site-header"' in page and "回到首頁" in page

    separator = "&" if "?" in path else "?"
    got, page, _ = fetch(f"{site}{path}{separator}lang=en", body)
    assert got == status
    assert f"<h1>{english}</h1>" in page and 'lang="en"' in page


def test_a_stale_form_says_to_reload_in_words(site: str) -> None:
    _, page, _ = fetch(f"{site}/staff/sign-in", b"csrf_token=stale&name=a&password=b")
    assert "表單已過期或無效（CSRF 權杖不符）：請重新載入頁面再試一次。" in page

    _, page, _ = fetch(f"{site}/staff/sign-in?lang=en", b"csrf_token=stale&name=a&password=b")
    expected = "The form's CSRF token is missing or stale: reload the page and try again."
    assert expected in html.unescape(page)


def test_a_wrong_method_still_says_which_ones_work(site: str) -> None:
    status, _, headers = fetch(f"{site}/staff/sign-out")

    assert status == 405
    assert "POST" in headers["Allow"].split(", ")


def test_the_api_keeps_json_errors(site: str) -> None:
    status, body, headers = fetch(f"{site}/api/entries?order=sideways")

    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert "order must be newest or relevance" in json.loads(body)["error"]
    status, body, _ = fetch(f"{site}/api/nothing-here")
    assert (status, json.loads(body)) == (404, {"error": "There is nothing at this address."})
