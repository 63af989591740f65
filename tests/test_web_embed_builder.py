"""`/embed`: the code of a category's embed with its options (category, limit, theme,
language) and a preview; a GET form that works without script."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def snippet(page_html: str) -> str:
    match = re.search(r'<textarea id="embed-code"[^>]*>(.*?)</textarea>', page_html, re.DOTALL)
    assert match is not None, "no embed code"
    return html.unescape(match.group(1))


def preview_src(page_html: str) -> str:
    match = re.search(r'<iframe id="embed-preview" src="([^"]+)"', page_html)
    assert match is not None, "no preview"
    return html.unescape(match.group(1))


def test_the_page_gives_the_first_categorys_code_with_the_default_options(
    client: FlaskClient,
) -> None:
    shown = page(client, "/embed")
    code = snippet(shown)
    assert code.startswith('<iframe src="https://news.example.org/embed/kaohsiung"')
    assert 'title="高雄市政新聞"' in code
    assert preview_src(shown) == "/embed/kaohsiung"
    assert '<option value="light" selected>淺色</option>' in shown


def test_the_chosen_options_go_into_the_code_and_the_preview(client: FlaskClient) -> None:
    shown = page(client, "/embed?category=taipei&limit=5&theme=dark&embed_lang=en")
    code = snippet(shown)
    assert 'src="https://news.example.org/embed/taipei?limit=5&amp;theme=dark&amp;lang=en"' in code
    assert preview_src(shown) == "/embed/taipei?limit=5&theme=dark&lang=en"
    # The form shows what was chosen, so that "update" keeps it.
    assert '<option value="taipei" selected>' in shown
    assert 'name="limit" min="1" max="50" value="5"' in shown
    assert '<option value="dark" selected>' in shown
    assert '<option value="en" lang="en" selected>' in shown


def test_the_preview_is_the_embed_itself(client: FlaskClient) -> None:
    embed = client.get(preview_src(page(client, "/embed?category=taipei&theme=dark")))
    assert embed.status_code == 200
    assert 'data-theme="dark"' in embed.get_data(as_text=True)


def test_the_page_speaks_english_on_request(client: FlaskClient) -> None:
    shown = page(client, "/embed?lang=en")
    assert "Embed the news in your site" in shown
    assert '<input type="hidden" name="lang" value="en">' in shown


def test_bad_options_are_refused_with_the_reason(client: FlaskClient) -> None:
    assert client.get("/embed?limit=500").status_code == 400
    assert client.get("/embed?theme=pink").status_code == 400
    assert client.get("/embed?embed_lang=fr").status_code == 400
    assert client.get("/embed?category=nowhere").status_code == 404


def test_a_category_page_links_to_the_embed_options(client: FlaskClient) -> None:
    river = page(client, "/?category=taipei")
    assert 'href="/embed?category=taipei"' in river
