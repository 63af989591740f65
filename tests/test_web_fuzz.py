"""No request parameter can make a public URL fail: whatever a client puts in a query
parameter or a path segment, the answer is a page, a 4xx that says why, or a redirect;
never a 500."""

from __future__ import annotations

import base64

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Values that once reached the store unchecked, and their kin.
EDGE_VALUES = [
    "n99999999999999999999999",
    "r99999999999999999999999",
    "n-1",
    "n9223372036854775808",
    cursor_of("0001-01-01T00:00:00+14:00|1"),
    cursor_of("9999-12-31T23:59:59-14:00|1"),
    cursor_of("2026-01-01T00:00:00+08:00|99999999999999999999"),
    cursor_of("2026-01-01T00:00:00+08:00|-1"),
    cursor_of("2026-01-01T00:00:00|1"),
    "99999999999999999999",
    "-1",
    "0",
    "１０",
    "\x00",
    "a\x00b",
    "since:0001-01-01",
    "until:9999-12-31",
    "since:9999-12-31 until:0001-01-01",
    "颱風 since:2026-02-30",
    "\u202e",
    "%",
    "//evil.example/",
    "taipei",
    "relevance",
    "dark",
]
VALUES = st.one_of(st.sampled_from(EDGE_VALUES), st.text(max_size=40))

# Every public URL, its path segments, and the query parameters it reads.
URLS: list[tuple[str, tuple[str, ...]]] = [
    ("/", ("category", "source", "q", "order", "cursor", "lang")),
    ("/api/entries", ("category", "source", "q", "order", "cursor", "limit")),
    ("/embed/{}", ("limit", "theme", "lang")),
    ("/feeds/{}.atom", ("q", "limit")),
    ("/feeds/{}.json", ("q", "limit")),
    ("/feeds/watch/{}.atom", ("limit",)),
    ("/staff/entries/{}", ("lang",)),
    ("/staff/sign-in", ("next", "lang")),
    ("/sources", ("lang",)),
    ("/api/sources", ()),
    ("/opml", ()),
    ("/opml/feeds", ()),
    ("/healthz", ()),
    ("/metrics", ()),
]


@st.composite
def requests(draw: st.DrawFn, pattern: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    segment = draw(st.one_of(st.sampled_from(["taipei", "all", "1"]), st.text(min_size=1)))
    path = pattern.format(segment.replace("/", "_").replace("?", "_").replace("#", "_"))
    chosen = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    return path, {name: draw(VALUES) for name in chosen}


@pytest.mark.parametrize(("pattern", "names"), URLS)
def test_no_parameter_makes_a_public_url_fail(
    client: FlaskClient, pattern: str, names: tuple[str, ...]
) -> None:
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(requests(pattern, names))
    def answers_without_failing(request: tuple[str, dict[str, str]]) -> None:
        path, query = request
        response = client.get(path, query_string=query)
        assert response.status_code < 500, (path, query, response.get_data(as_text=True)[:300])

    answers_without_failing()


@pytest.mark.parametrize(
    "cursor",
    [
        "n99999999999999999999999",
        cursor_of("0001-01-01T00:00:00+14:00|1"),
        cursor_of("9999-12-31T23:59:59-14:00|1"),
        cursor_of("2026-01-01T00:00:00+08:00|99999999999999999999"),
    ],
)
@pytest.mark.parametrize("search", [None, "a"])
def test_a_cursor_the_store_cannot_take_is_refused_in_words(
    client: FlaskClient, cursor: str, search: str | None
) -> None:
    query = {"cursor": cursor} | ({"q": search} if search else {})

    response = client.get("/api/entries", query_string=query)

    assert response.status_code == 400
    assert "cursor" in response.get_json()["error"]
    assert client.get("/", query_string=query).status_code == 400


def test_a_search_date_before_any_day_is_refused_in_words(client: FlaskClient) -> None:
    response = client.get("/api/entries", query_string={"q": "颱風 since:0001-01-01"})

    assert response.status_code == 400
    assert "since:" in response.get_json()["error"]
