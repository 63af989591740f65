"""A source's page lists its last 20 polls (when, what came of it, HTTP status, how long),
and signed-in staff can have it polled now: the running workers pick it up on their next
tick, the page says so, and the audit log keeps who asked."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from aggregator.store import Store
from aggregator.store.schema import poll_attempts, staff_actions
from aggregator.store.staff_accounts import StaffAccounts
from tests.storedata import outcome, report
from tests.test_web_staff_entries import PASSWORD, app_client, sign_in, token_on

UNRESOLVED = "the host name nowhere.invalid does not exist: check the URL"


@pytest.fixture
def client(store: Store, db_url: str, tmp_path: Path) -> FlaskClient:
    StaffAccounts(store).add("王小明", PASSWORD, datetime.now(UTC))
    return app_client(store, db_url, tmp_path)


def attempt_rows(page: str) -> list[str]:
    table = re.search(r'<table class="health attempts">(.*?)</table>', page, flags=re.DOTALL)
    assert table is not None, "no table of polls"
    return re.findall(r'<tr class="attempt [^"]*">(.*?)</tr>', table.group(1), flags=re.DOTALL)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_source_page_lists_each_poll_with_its_outcome(client: FlaskClient) -> None:
    page = client.get("/sources/kcg").get_data(as_text=True)
    (only,) = attempt_rows(page)
    assert "35 則新報導" in text_of(only)
    assert "最近 1 次抓取" in page


def test_a_failing_source_lists_its_errors_newest_first_in_the_pages_language(
    client: FlaskClient, store: Store
) -> None:
    store.apply_poll(
        outcome("broken", status="failed", error=UNRESOLVED, attempted_at=datetime.now(UTC))
    )
    rows = attempt_rows(client.get("/sources/broken").get_data(as_text=True))
    assert len(rows) == 4
    assert "主機名稱 nowhere.invalid 不存在：請檢查網址" in text_of(rows[0])
    assert "連線逾時" in text_of(rows[1])
    english = attempt_rows(client.get("/sources/broken?lang=en").get_data(as_text=True))
    assert UNRESOLVED in text_of(english[0])


def test_a_not_modified_poll_says_so_with_its_status_and_duration(
    client: FlaskClient, store: Store
) -> None:
    store.apply_poll(
        outcome(
            "cna",
            status="not_modified",
            http_status=304,
            elapsed_ms=2400,
            attempted_at=datetime.now(UTC),
        )
    )
    newest = text_of(attempt_rows(client.get("/sources/cna").get_data(as_text=True))[0])
    assert "沒有變更" in newest
    assert "304" in newest
    assert "2.4 s" in newest


def test_only_the_last_twenty_polls_are_kept(client: FlaskClient, store: Store) -> None:
    start = datetime.now(UTC)
    for number in range(25):
        store.apply_poll(
            outcome(
                "vision",
                [report("vision", f"n{number}")],
                attempted_at=start + timedelta(minutes=number),
            )
        )
    with store.reading() as connection:
        kept = connection.scalars(
            select(poll_attempts.c.attempted_at).where(poll_attempts.c.source_id == "vision")
        ).all()
    assert len(kept) == 20
    assert min(kept) == start + timedelta(minutes=5)
    page = client.get("/sources/vision").get_data(as_text=True)
    assert len(attempt_rows(page)) == 20
    assert "最近 20 次抓取" in page


def test_the_api_gives_a_sources_last_polls(client: FlaskClient, store: Store) -> None:
    store.apply_poll(
        outcome("broken", status="failed", error=UNRESOLVED, attempted_at=datetime.now(UTC))
    )
    body = client.get("/api/sources/broken").get_json()
    assert body["id"] == "broken"
    assert body["attempts"][0]["status"] == "failed"
    assert body["attempts"][0]["error"] == UNRESOLVED
    assert len(body["attempts"]) == 4
    assert set(body["attempts"][0]) == {
        "attempted_at",
        "status",
        "new_reports",
        "updated_reports",
        "http_status",
        "elapsed_ms",
        "error",
    }
    assert client.get("/api/sources/nothing").status_code == 404


def test_staff_poll_a_source_now_and_the_page_says_it_is_queued(
    client: FlaskClient, store: Store
) -> None:
    assert "立即抓取" not in client.get("/sources/kcg").get_data(as_text=True)
    assert sign_in(client) == 302
    assert not [s for s in store.due_sources(datetime.now(UTC)) if s.source_id == "kcg"]
    token = token_on(client, "/sources/kcg")
    response = client.post("/sources/kcg/poll-now", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sources/kcg?queued=1"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已排入，下一輪抓取" in page
    # Due now: the workers' next claim takes it.
    assert [s.source_id for s in store.due_sources(datetime.now(UTC))].count("kcg") == 1
    with store.reading() as connection:
        (logged,) = connection.execute(
            select(staff_actions).where(staff_actions.c.action == "poll-now")
        ).all()
    assert logged.actor == "王小明"
    assert json.loads(logged.detail) == {"source": "kcg"}


def test_poll_now_needs_sign_in_and_the_forms_token(client: FlaskClient, store: Store) -> None:
    assert client.post("/sources/kcg/poll-now", data={"csrf_token": "x"}).status_code == 403
    assert sign_in(client) == 302
    assert client.post("/sources/kcg/poll-now", data={"csrf_token": "stale"}).status_code == 403
    token = token_on(client, "/sources/kcg")
    assert client.post("/sources/nothing/poll-now", data={"csrf_token": token}).status_code == 404
    assert not [s for s in store.due_sources(datetime.now(UTC)) if s.source_id == "kcg"]
