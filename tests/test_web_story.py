"""The story page `/entries/<id>`: a reader compares every source's report of one story."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aggregator.render.compare import compare_reports
from aggregator.store import Store
from tests.storedata import outcome, report
from tests.webapp import MERGED_TITLE, NOW, link_labelled, seeded_app

SHARED_LINK = "https://kcg.example.gov.tw/news/harbour"
SHOWN = "<p>高雄港擴建今(3)日動工，總經費1,200億元。工程預計三年完成。</p>"
REWRITE = (
    "<p>【記者王小明／高雄報導】高雄港擴建3日動工，總經費1200億元。"
    "工程預計2029年完成。市長陳其邁出席典禮。</p>"
)


@pytest.fixture
def app(store: Store, db_url: str, tmp_path: Path) -> Flask:
    """The seeded app, plus one story whose copy by 中央社 rewrites the city's release."""
    built = seeded_app(store, db_url, tmp_path)
    city = report(
        "kcg", "harbour", title="高雄港擴建動工", link=SHARED_LINK, content=SHOWN, published=NOW
    )
    store.apply_poll(outcome("kcg", [city], attempted_at=NOW))
    wire = report(
        "cna",
        "harbour",
        title="港區擴建 市長出席",
        link=SHARED_LINK,
        content=REWRITE,
        published=NOW,
    )
    store.apply_poll(outcome("cna", [wire], attempted_at=NOW))
    return built


def story_link(page: str, title: str) -> str:
    """The story page link of the river entry titled `title`."""
    article = page[page.index(title) :]
    match = re.search(r'href="(/entries/[^"?]+)', article)
    assert match, "the entry links to its story page"
    return html.unescape(match.group(1))


def text_of(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_every_river_entry_links_to_its_story_page(client: FlaskClient) -> None:
    river = text_of(client, "/")
    assert river.count('href="/entries/') == river.count('<article class="entry">')
    story = text_of(client, story_link(river, MERGED_TITLE))
    assert f"<h1>{MERGED_TITLE}</h1>" in story


def test_the_embed_links_to_the_story_page(client: FlaskClient) -> None:
    embed = text_of(client, "/embed/kaohsiung")
    assert 'href="/entries/' in embed


def test_the_story_page_shows_what_another_report_adds_and_leaves_out(
    client: FlaskClient,
) -> None:
    story = text_of(client, story_link(text_of(client, "/"), "高雄港擴建動工"))
    assert "高雄港擴建今(3)日動工" in story  # the shown report, in full
    assert "港區擴建 市長出席" in story  # the other report's headline
    assert link_labelled(story, "到原網站閱讀") == SHARED_LINK
    assert "<ins>市長陳其邁出席典禮。</ins>" in story
    assert "<del>工程預計三年完成。</del>" in story
    assert '<ins class="number">2029</ins>' in story
    assert "記者王小明" not in story  # a byline is not what a report adds
    assert "高雄市政新聞" in story  # its category


def test_the_story_page_speaks_english_when_asked(client: FlaskClient) -> None:
    path = story_link(text_of(client, "/"), "高雄港擴建動工")
    story = text_of(client, f"{path}?lang=en")
    assert "Other sources&#39; reports (1)" in story or "Other sources' reports (1)" in story
    assert "Leaves out" in story


def test_an_unknown_story_is_a_404_that_says_so(client: FlaskClient) -> None:
    response = client.get("/entries/no-such-story")
    assert response.status_code == 404
    assert "no-such-story" in response.get_data(as_text=True)


def test_copies_that_differ_only_in_spelling_say_the_same() -> None:
    assert compare_reports("<p>臺北市今(3)日停班。</p>", "<p>台北市３日停班。</p>").same


def test_numbers_are_compared_with_thousands_separators_removed() -> None:
    difference = compare_reports("<p>經費1,200億元。</p>", "<p>經費1200億元，另有300億。</p>")
    assert difference.added_numbers == ("300",)
    assert difference.missing_numbers == ()
