"""The staff entry page and its merge actions: visible to all, acted on by signed-in staff
only, with a CSRF token, switched off without accounts or the secret, and logged."""

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


def split_form(client: FlaskClient, entry: StoredEntry) -> dict[str, str]:
    return {"csrf_token": token_on(client, f"/staff/entries/{entry.id}"), "source": "cna"}


def test_the_entry_page_shows_every_report_with_its_merge_rule(
    client: FlaskClient, store: Store
) -> None:
    entry = merged_entry(store)

    page = client.get(f"/staff/entries/{entry.id}").get_data(as_text=True)

    for source_id in ("kcg", "cna", "vision"):
        assert f'id="report-{source_id}"' in page
    assert page.count("same-url") == 2
    assert "first" in page


def test_the_forms_show_only_to_signed_in_staff(client: FlaskClient, store: Store) -> None:
    path = f"/staff/entries/{merged_entry(store).id}"
    assert 'method="post"' not in client.get(path).get_data(as_text=True)

    assert sign_in(client) == 302

    assert "Split into its own entry" in client.get(path).get_data(as_text=True)


def test_a_wrong_password_does_not_sign_in(client: FlaskClient, store: Store) -> None:
    assert sign_in(client, password="guess") == 403

    page = client.get(f"/staff/entries/{merged_entry(store).id}").get_data(as_text=True)
    assert 'method="post"' not in page


def test_an_action_without_sign_in_is_forbidden(client: FlaskClient, store: Store) -> None:
    entry = merged_entry(store)
    form = {"csrf_token": token_on(client, "/staff/sign-in"), "source": "cna"}

    response = client.post(f"/staff/entries/{entry.id}/split", data=form)

    assert response.status_code == 403
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
    assert len(store.entry(entry.id).reports) == 3  # type: ignore[union-attr]


def test_signed_in_staff_split_a_report_and_the_action_is_logged(
    client: FlaskClient, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aggregator.staff")
    entry = merged_entry(store)
    sign_in(client)

    response = client.post(f"/staff/entries/{entry.id}/split", data=split_form(client, entry))

    assert response.status_code == 302
    assert [r.source_id for r in store.entry(entry.id).reports] == ["kcg", "vision"]  # type: ignore[union-attr]
    page = client.get(f"/staff/entries/{entry.id}").get_data(as_text=True)
    assert "王小明, split" in page
    [logged] = [record for record in caplog.records if record.name == "aggregator.staff"]
    assert (logged.actor, logged.action, logged.entry) == ("王小明", "split", entry.id)  # type: ignore[attr-defined]


def test_signed_in_staff_force_a_merge(client: FlaskClient, store: Store) -> None:
    entry = merged_entry(store)
    sign_in(client)
    client.post(f"/staff/entries/{entry.id}/split", data=split_form(client, entry))
    [split_off] = [e for e in store.entries(EntryQuery(source="cna")).entries]
    form = {"csrf_token": token_on(client, f"/staff/entries/{entry.id}"), "other": split_off.id}

    response = client.post(f"/staff/entries/{entry.id}/merge", data=form)

    assert response.status_code == 302
    assert len(store.entry(entry.id).reports) == 3  # type: ignore[union-attr]


def test_a_refused_action_says_why(client: FlaskClient, store: Store) -> None:
    entry = merged_entry(store)
    sign_in(client)
    form = {"csrf_token": token_on(client, f"/staff/entries/{entry.id}"), "other": entry.id}

    response = client.post(f"/staff/entries/{entry.id}/merge", data=form)

    assert response.status_code == 400
    assert "cannot be merged with itself" in response.get_data(as_text=True)


def test_without_accounts_or_the_secret_the_actions_are_switched_off(
    read_only: FlaskClient, store: Store
) -> None:
    entry = merged_entry(store)
    form = {"csrf_token": "anything", "source": "cna"}

    assert read_only.get("/staff/sign-in").status_code == 404
    assert read_only.post(f"/staff/entries/{entry.id}/split", data=form).status_code == 404
    page = read_only.get(f"/staff/entries/{entry.id}").get_data(as_text=True)
    assert 'method="post"' not in page and "Sign in" not in page


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
