"""The staff desk: the staff entry page and the split and merge actions on the story page,
for signed-in staff only, each confirmed, with a CSRF token, switched off without accounts
or the secret, logged, and in the reader's language."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from aggregator.models import EntryQuery, StoredEntry
from aggregator.store import Store
from aggregator.store.staff_accounts import StaffAccounts
from aggregator.web import create_app
from tests.webapp import MERGED_TITLE, seed, write_config

PASSWORD = "correct horse battery staple"


def merged_entry(store: Store) -> StoredEntry:
    found = [e for e in store.entries(EntryQuery(limit=100)).entries if e.title == MERGED_TITLE]
    return found[0]


def app_client(store: Store, db_url: str, directory: Path) -> FlaskClient:
    config_path = write_config(directory)
    seed(store, config_path)
    settings = {"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(config_path)}
    return create_app(settings).test_client()


@pytest.fixture
def client(store: Store, db_url: str, tmp_path: Path) -> FlaskClient:
    StaffAccounts(store).add("王小明", PASSWORD, datetime.now(UTC))
    return app_client(store, db_url, tmp_path)


@pytest.fixture
def read_only(store: Store, db_url: str, tmp_path: Path) -> FlaskClient:
    return app_client(store, db_url, tmp_path)


def token_on(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match is not None, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, name: str = "王小明", password: str = PASSWORD) -> int:
    token = token_on(client, "/staff/sign-in")
    form = {"csrf_token": token, "name": name, "password": password}
    return client.post("/staff/sign-in", data=form).status_code


@pytest.fixture
def staff(client: FlaskClient) -> FlaskClient:
    """`client`, signed in as 王小明."""
    assert sign_in(client) == 302
    return client


def split_form(client: FlaskClient, entry: StoredEntry) -> dict[str, str]:
    token = token_on(client, f"/staff/entries/{entry.id}/split/cna")
    return {"csrf_token": token, "source": "cna"}


def test_the_staff_page_needs_a_sign_in_and_comes_back_after_it(
    client: FlaskClient, store: Store
) -> None:
    path = f"/staff/entries/{merged_entry(store).id}"

    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/sign-in?next={path}"
    assert "中央社" not in response.get_data(as_text=True)


def test_the_staff_page_says_in_words_why_each_report_was_merged(
    staff: FlaskClient, store: Store
) -> None:
    entry = merged_entry(store)

    page = staff.get(f"/staff/entries/{entry.id}").get_data(as_text=True)

    for source_id in ("kcg", "cna", "vision"):
        assert f'id="report-{source_id}"' in page
    assert page.count("同一網址") == 2
    assert "最先收到的報導" in page
    # And what the merge decision makes of each copy beside the shown report today.
    assert page.count("與顯示的報導相比") == 2
    assert "same-url" not in page
    english = staff.get(f"/staff/entries/{entry.id}?lang=en").get_data(as_text=True)
    assert english.count("Same link") == 2 and 'lang="en"' in english


def test_readers_see_no_staff_tools_on_the_story_page(client: FlaskClient, store: Store) -> None:
    page = client.get(f"/entries/{merged_entry(store).id}").get_data(as_text=True)

    assert "分出這篇報導" not in page and "staff-desk" not in page
    assert 'method="post"' not in page


def test_staff_see_split_links_and_the_merge_search_on_the_story_page(
    staff: FlaskClient, store: Store
) -> None:
    entry = merged_entry(store)

    page = staff.get(f"/entries/{entry.id}").get_data(as_text=True)

    assert page.count("分出這篇報導") == 3
    assert f'action="/staff/entries/{entry.id}/merge"' in page
    assert f'href="/staff/entries/{entry.id}"' in page


def test_a_wrong_password_does_not_sign_in(client: FlaskClient, store: Store) -> None:
    assert sign_in(client, password="guess") == 403

    page = client.get(f"/entries/{merged_entry(store).id}").get_data(as_text=True)
    assert "分出這篇報導" not in page


def test_the_sign_in_page_speaks_the_readers_language(client: FlaskClient) -> None:
    assert "編輯登入" in client.get("/staff/sign-in").get_data(as_text=True)
    assert "Staff sign-in" in client.get("/staff/sign-in?lang=en").get_data(as_text=True)
    token = token_on(client, "/staff/sign-in?lang=en")
    form = {"csrf_token": token, "name": "王小明", "password": "guess"}
    refused = client.post("/staff/sign-in?lang=en", data=form)
    assert "Wrong name or password." in refused.get_data(as_text=True)


def test_an_action_without_sign_in_is_forbidden(client: FlaskClient, store: Store) -> None:
    entry = merged_entry(store)
    form = {"csrf_token": token_on(client, "/staff/sign-in"), "source": "cna"}

    response = client.post(f"/staff/entries/{entry.id}/split", data=form)

    assert response.status_code == 403
    assert "這個動作需要編輯登入。" in response.get_data(as_text=True)
    assert len(store.entry(entry.id).reports) == 3  # type: ignore[union-attr]


@pytest.mark.parametrize("token", [None, "forged"])
def test_an_action_without_the_sessions_csrf_token_is_forbidden(
    client: FlaskClient, store: Store, token: str | None
) -> None:
    entry = merged_entry(store)
    sign_in(client)
    form = {"source": "cna"} | ({"csrf_token": token} if token else {})

    response = client.post(f"/staff/entries/{entry.id}/split", data=form)

    assert response.status_code == 403
    assert "CSRF" in response.get_data(as_text=True)
    assert len(store.entry(entry.id).reports) == 3  # type: ignore[union-attr]


def test_splitting_is_confirmed_first(client: FlaskClient, store: Store) -> None:
    entry = merged_entry(store)
    sign_in(client)

    page = client.get(f"/staff/entries/{entry.id}/split/cna").get_data(as_text=True)

    assert "確認分出報導" in page and "中央社" in page
    assert f'action="/staff/entries/{entry.id}/split"' in page
    assert len(store.entry(entry.id).reports) == 3  # type: ignore[union-attr]


def test_signed_in_staff_split_a_report_and_the_action_is_logged(
    client: FlaskClient, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aggregator.staff")
    entry = merged_entry(store)
    sign_in(client)

    response = client.post(f"/staff/entries/{entry.id}/split", data=split_form(client, entry))

    assert response.status_code == 302
    assert response.headers["Location"] == f"/entries/{entry.id}"
    assert [r.source_id for r in store.entry(entry.id).reports] == ["kcg", "vision"]  # type: ignore[union-attr]
    story = client.get(f"/entries/{entry.id}").get_data(as_text=True)
    assert "已分出「中央社」的報導，成為一則新的新聞。" in story
    [split_off] = store.entries(EntryQuery(source="cna")).entries
    assert f'href="/entries/{split_off.id}"' in story
    page = client.get(f"/staff/entries/{entry.id}").get_data(as_text=True)
    assert "王小明 分出「中央社」的報導，成為另一則新聞" in page
    assert f'href="/entries/{split_off.id}"' in page
    [logged] = [record for record in caplog.records if record.name == "aggregator.staff"]
    assert (logged.actor, logged.action, logged.entry) == ("王小明", "split", entry.id)  # type: ignore[attr-defined]


def test_staff_find_the_story_to_merge_by_searching_and_confirm(
    client: FlaskClient, store: Store
) -> None:
    entry = merged_entry(store)
    sign_in(client)
    client.post(f"/staff/entries/{entry.id}/split", data=split_form(client, entry))
    [split_off] = store.entries(EntryQuery(source="cna")).entries

    found = client.get(f"/staff/entries/{entry.id}/merge", query_string={"find": "高雄港擴建"})
    results = found.get_data(as_text=True)
    assert "中央社" in results and MERGED_TITLE in results
    confirm = f"/staff/entries/{entry.id}/merge/{split_off.id}"
    assert f'href="{confirm}"' in results
    assert f'href="/staff/entries/{entry.id}/merge/{entry.id}"' not in results
    page = client.get(confirm).get_data(as_text=True)
    assert "確認合併" in page
    form = {"csrf_token": token_on(client, confirm), "other": split_off.id}

    response = client.post(f"/staff/entries/{entry.id}/merge", data=form)

    assert response.headers["Location"] == f"/entries/{entry.id}"
    assert len(store.entry(entry.id).reports) == 3  # type: ignore[union-attr]
    assert f"已把「{MERGED_TITLE}」併入這則新聞。" in client.get(f"/entries/{entry.id}").get_data(
        as_text=True
    )
    log = client.get(f"/staff/entries/{entry.id}").get_data(as_text=True)
    assert "王小明 把另一則新聞併入這則" in log and split_off.id in log


def test_a_merge_the_store_would_refuse_is_told_before_confirming(
    staff: FlaskClient, store: Store
) -> None:
    entry = merged_entry(store)
    entries = store.entries(EntryQuery(limit=100)).entries
    [other] = [e for e in entries if e.title == "高雄市政新聞第 1 則"]

    page = staff.get(f"/staff/entries/{entry.id}/merge/{other.id}").get_data(as_text=True)

    assert "兩則新聞都有高雄市政府的報導：同一來源的兩篇報導是兩則新聞，不能合併。" in page
    assert 'method="post"' not in page.split("</header>")[1]


def test_a_refused_action_says_why(client: FlaskClient, store: Store) -> None:
    entry = merged_entry(store)
    sign_in(client)
    form = {"csrf_token": token_on(client, f"/staff/entries/{entry.id}"), "other": entry.id}

    response = client.post(f"/staff/entries/{entry.id}/merge", data=form)

    assert response.status_code == 400
    assert "cannot be merged with itself" in response.get_data(as_text=True)


def test_the_header_offers_sign_in_then_names_who_is_signed_in(
    client: FlaskClient, store: Store
) -> None:
    path = f"/entries/{merged_entry(store).id}"
    assert f'href="/staff/sign-in?next={path}"' in client.get(path).get_data(as_text=True)

    sign_in(client)
    page = client.get(path).get_data(as_text=True)
    assert "編輯：王小明" in page and "登出" in page
    token = token_on(client, path)
    assert client.post("/staff/sign-out", data={"csrf_token": token}).status_code == 302

    assert "分出這篇報導" not in client.get(path).get_data(as_text=True)


def test_without_accounts_or_the_secret_the_actions_are_switched_off(
    read_only: FlaskClient, store: Store
) -> None:
    entry = merged_entry(store)
    form = {"csrf_token": "anything", "source": "cna"}

    assert read_only.get("/staff/sign-in").status_code == 404
    assert read_only.post(f"/staff/entries/{entry.id}/split", data=form).status_code == 404
    assert read_only.get(f"/staff/entries/{entry.id}").status_code == 404
    page = read_only.get(f"/entries/{entry.id}").get_data(as_text=True)
    assert "/staff/sign-in" not in page and "登入" not in page


HOSTILE_NEXT = [
    "//evil.example/",
    "/\tevil.example/",
    "/%09/evil.example/",
    "/%2F/evil.example/",
    "/%252F/evil.example/",
    "/\\evil.example/",
    "/%5Cevil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\r\nSet-Cookie: x=1",
    "/%0d%0aSet-Cookie: x=1",
    "evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_sign_in_only_redirects_within_the_site(client: FlaskClient, target: str) -> None:
    token = token_on(client, "/staff/sign-in")
    form = {"csrf_token": token, "name": "王小明", "password": PASSWORD, "next": target}

    response = client.post("/staff/sign-in", data=form)

    assert response.status_code == 302
    assert response.headers["Location"] == "/sources"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_the_sign_in_page_keeps_no_hostile_target(client: FlaskClient, target: str) -> None:
    response = client.get("/staff/sign-in", query_string={"next": target})

    assert response.status_code == 200
    assert 'name="next" value=""' in response.get_data(as_text=True)


def test_sign_in_returns_to_the_page_it_was_asked_from(client: FlaskClient) -> None:
    token = token_on(client, "/staff/sign-in")
    target = "/staff/entries/abc?lang=en"
    form = {"csrf_token": token, "name": "王小明", "password": PASSWORD, "next": target}

    assert client.post("/staff/sign-in", data=form).headers["Location"] == target
