"""Named staff accounts: made from the command line (or the first one with the staff
secret), signed in by name and password, sessions that end for good on sign-out, a cookie
only for staff, and sign-in guessing slowed down in the store."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aggregator.cli import main
from aggregator.store import Store
from aggregator.store.staff_accounts import StaffAccounts
from aggregator.web import create_app
from tests.test_web_staff_entries import PASSWORD, merged_entry, sign_in, split_form, token_on
from tests.webapp import seed, write_config

SECRET = "the first account's secret"


def make_app(store: Store, db_url: str, directory: Path, **environment: str) -> Flask:
    """A web process on the seeded store (seeded by the first one made in `directory`)."""
    config_path = directory / "feeds.yaml"
    if not config_path.exists():
        seed(store, write_config(directory))
    settings = {"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(config_path)}
    return create_app(settings | environment)


@pytest.fixture
def app(store: Store, db_url: str, tmp_path: Path) -> Flask:
    StaffAccounts(store).add("王小明", PASSWORD, datetime.now(UTC))
    return make_app(store, db_url, tmp_path)


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("session")
    return None if cookie is None else cookie.value


@pytest.mark.parametrize("path", ["/", "/staff/sign-in", "/sources", "/staff/sign-in?next=/"])
def test_anonymous_visitors_get_no_cookie(app: Flask, path: str) -> None:
    response = app.test_client().get(path)

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(
    app: Flask, store: Store
) -> None:
    client = app.test_client()
    assert sign_in(client) == 302
    entry = merged_entry(store)
    form = split_form(client, entry)
    captured = session_cookie(client)
    assert captured is not None
    client.post("/staff/sign-out", data={"csrf_token": form["csrf_token"]})

    replay = app.test_client()
    replay.set_cookie("session", captured)
    response = replay.post(f"/staff/entries/{entry.id}/split", data=form)

    assert response.status_code == 403
    assert len(store.entry(entry.id).reports) == 3  # type: ignore[union-attr]
    assert 'method="post"' not in replay.get(f"/staff/entries/{entry.id}").get_data(as_text=True)


def test_a_new_password_ends_the_accounts_sessions(app: Flask, store: Store) -> None:
    client = app.test_client()
    sign_in(client)
    entry = merged_entry(store)
    form = split_form(client, entry)

    StaffAccounts(store).set_password("王小明", "another long password")

    assert client.post(f"/staff/entries/{entry.id}/split", data=form).status_code == 403


@pytest.mark.parametrize(
    ("base_url", "secure"), [("https://localhost", True), ("http://localhost", False)]
)
def test_the_cookie_is_secure_when_the_request_came_over_https(
    app: Flask, base_url: str, secure: bool
) -> None:
    client = app.test_client()
    token = token_on(client, "/staff/sign-in")
    form = {"csrf_token": token, "name": "王小明", "password": PASSWORD}

    response = client.post("/staff/sign-in", data=form, base_url=base_url)

    assert response.status_code == 302
    assert ("Secure" in response.headers["Set-Cookie"].split("; ")) is secure


def test_a_session_holds_in_every_process_that_shares_the_store(
    app: Flask, store: Store, db_url: str, tmp_path: Path
) -> None:
    client = app.test_client()
    sign_in(client)
    other = make_app(store, db_url, tmp_path).test_client()
    other.set_cookie("session", session_cookie(client) or "")

    page = other.get(f"/staff/entries/{merged_entry(store).id}").get_data(as_text=True)

    assert "分出這篇報導" in page


def test_the_configured_secret_key_signs_sessions(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    StaffAccounts(store).add("王小明", PASSWORD, datetime.now(UTC))
    keyed = make_app(store, db_url, tmp_path, AGGREGATOR_SECRET_KEY="k" * 40).test_client()
    sign_in(keyed)
    unkeyed = make_app(store, db_url, tmp_path).test_client()
    unkeyed.set_cookie("session", session_cookie(keyed) or "")

    page = unkeyed.get(f"/staff/entries/{merged_entry(store).id}").get_data(as_text=True)

    assert "分出這篇報導" not in page


def test_failed_sign_ins_earn_a_wait_even_for_the_right_password(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aggregator.web.auth")
    client = app.test_client()
    for _ in range(4):
        assert sign_in(client, password="wrong guess") == 403

    token = token_on(client, "/staff/sign-in")
    form = {"csrf_token": token, "name": "王小明", "password": PASSWORD}
    response = client.post("/staff/sign-in", data=form)

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert sum("failed sign-in as '王小明'" in r.getMessage() for r in caplog.records) == 4


def test_the_wait_follows_the_account_to_other_addresses(app: Flask) -> None:
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        assert sign_in(client, password="wrong guess") == 403

    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    assert sign_in(elsewhere) == 429


def test_the_wait_follows_an_address_to_other_accounts(app: Flask, store: Store) -> None:
    StaffAccounts(store).add("林小華", PASSWORD, datetime.now(UTC))
    client = app.test_client()
    for name in ("a", "b", "c", "d"):
        assert sign_in(client, name=name, password="wrong guess") == 403

    assert sign_in(client, name="林小華") == 429


def test_the_secret_makes_the_first_account_and_then_opens_nothing(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    client = make_app(store, db_url, tmp_path, AGGREGATOR_STAFF_SECRET=SECRET).test_client()
    assert 'name="secret"' in client.get("/staff/sign-in").get_data(as_text=True)
    form = {
        "csrf_token": token_on(client, "/staff/sign-in"),
        "name": "陳主任",
        "password": PASSWORD,
        "secret": SECRET,
    }

    assert client.post("/staff/sign-in", data=form).status_code == 302

    assert StaffAccounts(store).verify("陳主任", PASSWORD) is not None
    later = make_app(store, db_url, tmp_path, AGGREGATOR_STAFF_SECRET=SECRET)
    assert 'name="secret"' not in later.test_client().get("/staff/sign-in").get_data(as_text=True)
    assert sign_in(later.test_client(), name="陳主任", password=SECRET) == 403


def test_the_audit_log_names_the_account(app: Flask, store: Store) -> None:
    client = app.test_client()
    sign_in(client)
    entry = merged_entry(store)

    client.post(f"/staff/entries/{entry.id}/split", data=split_form(client, entry))

    assert [action.actor for action in store.staff_entry(entry.id).actions] == ["王小明"]  # type: ignore[union-attr]


def test_staff_commands_add_change_and_remove_accounts(
    store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(*arguments: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main([*arguments, "--db", db_url])

    accounts = StaffAccounts(store)
    assert run("staff", "add", "林小華", stdin="a long first password\n") == 0
    assert accounts.verify("林小華", "a long first password") is not None
    assert run("staff", "add", "林小華", stdin="a long first password\n") == 1
    assert run("staff", "add", "短", stdin="short\n") == 1

    assert run("staff", "passwd", "林小華", stdin="a long second password\n") == 0
    assert accounts.verify("林小華", "a long first password") is None
    assert accounts.verify("林小華", "a long second password") is not None

    assert run("staff", "remove", "林小華") == 0
    assert accounts.verify("林小華", "a long second password") is None
    assert run("staff", "remove", "林小華") == 1
