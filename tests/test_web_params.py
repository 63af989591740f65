"""Query parameters a page does not read are dropped before anything sees them: they
cannot reach the link builder, fail a page, put another host into its links, or make
the response cache keep another copy."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.test_web_cache import FlaskCalls
from tests.webapp import link_labelled

HOSTILE_QUERIES = [
    "/?_method=POST",
    "/?endpoint=x",
    "/?_scheme=https&_external=",
    "/?_external=1&hp=2",
    "/?_anchor=x",
    "/?values=1&lang=en",
    "/sources?_method=DELETE",
    "/sources?_external=1",
    "/embed/taipei?_external=1&_scheme=https",
    "/staff/sign-in?_method=POST&_external=1",
    "/no-such-page?_external=1",
]


@pytest.mark.parametrize("path", HOSTILE_QUERIES)
def test_made_up_parameters_neither_fail_a_page_nor_bring_in_the_hosts_name(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path, headers={"Host": "evil.example"})

    assert response.status_code in (200, 404)
    assert "evil.example" not in response.get_data(as_text=True)


def test_a_made_up_parameter_gets_the_page_without_it(client: FlaskClient) -> None:
    plain = client.get("/?category=taipei").get_data(as_text=True)

    assert client.get("/?category=taipei&junk=1").get_data(as_text=True) == plain


def test_the_language_switch_keeps_the_pages_filters_and_nothing_else(
    client: FlaskClient,
) -> None:
    page = client.get("/?category=taipei&junk=1&_external=1").get_data(as_text=True)

    switch = link_labelled(page, "English")
    assert switch is not None
    assert switch.startswith("/?")
    assert "category=taipei" in switch and "lang=en" in switch
    assert "junk" not in switch and "_external" not in switch


def test_made_up_parameters_make_no_new_cache_entries(app: Flask) -> None:
    calls = FlaskCalls(app)
    client = app.test_client()
    client.get("/?source=taipei")

    for n in range(20):
        assert client.get(f"/?source=taipei&junk={n}").status_code == 200

    assert calls.count == 1
