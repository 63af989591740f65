"""Feed HTML is hostile: sanitize_html keeps the article and nothing that can run."""

from __future__ import annotations

import pytest

from aggregator.parse.sanitize import sanitize_html, text_to_html
from aggregator.text.chars import strip_control_chars

HOSTILE = [
    pytest.param('<p>市府公告<script>alert("x")</script></p>', "alert", id="script"),
    pytest.param('<img src="a.png" onerror="alert(1)">', "onerror", id="onerror"),
    pytest.param('<a href="javascript:alert(1)">點我</a>', "javascript", id="javascript-href"),
    pytest.param('<a href="JaVaScRiPt:alert(1)">點我</a>', "alert", id="mixed-case-scheme"),
    pytest.param('<a href="&#106;avascript:alert(1)">點我</a>', "alert", id="entity-encoded"),
    pytest.param('<a href="&#x6A;avascript&#x3A;alert(1)">點我</a>', "alert", id="hex-entities"),
    pytest.param('<a href=" \tjavascript:alert(1)">點我</a>', "alert", id="leading-space"),
    pytest.param('<a href="java&#x09;script:alert(1)">點我</a>', "alert", id="tab-inside"),
    pytest.param('<a href="vbscript:msgbox(1)">點我</a>', "vbscript", id="vbscript"),
    pytest.param('<svg onload="alert(1)"><circle r="1"/></svg>', "onload", id="svg-onload"),
    pytest.param("<style>body{display:none}</style><p>文</p>", "display", id="style"),
    pytest.param('<iframe src="https://evil.example/"></iframe>', "evil", id="iframe"),
    pytest.param('<form action="https://evil.example/"><input></form>', "evil", id="form"),
    pytest.param('<meta http-equiv="refresh" content="0;url=https://evil.example/">', "evil"),
    pytest.param('<p style="width: expression(alert(1))">文</p>', "expression", id="css"),
    pytest.param('<img src="data:image/svg+xml;base64,PHN2Zz4=">', "data:", id="data-uri-image"),
    pytest.param('<object data="https://evil.example/x.swf"></object>', "evil", id="object"),
    pytest.param('<embed src="https://evil.example/x.swf">', "evil", id="embed"),
    pytest.param('<p onmouseover="alert(1)">文</p>', "onmouseover", id="event-handler"),
]


@pytest.mark.parametrize(("hostile", "must_not_survive"), HOSTILE)
def test_hostile_markup_is_removed(hostile: str, must_not_survive: str) -> None:
    cleaned = sanitize_html(hostile, base_url="https://www.example.gov.tw/news/1")
    assert must_not_survive.lower() not in cleaned.lower()


def test_script_content_is_removed_with_the_tag() -> None:
    assert sanitize_html("<p>公告<script>var stolen = 1;</script></p>") == "<p>公告</p>"


def test_article_markup_is_kept() -> None:
    article = (
        "<h2>標題</h2><p><strong>粗體</strong> <em>斜體</em></p><ul><li>一</li></ul>"
        "<blockquote>引言</blockquote><table><tbody><tr><td>格</td></tr></tbody></table>"
        "<figure><figcaption>說明</figcaption></figure><pre><code>x = 1</code></pre>"
    )
    assert sanitize_html(article) == article


def test_images_keep_their_descriptive_attributes() -> None:
    image = '<img src="https://example.gov.tw/a.jpg" alt="合龍" title="橋" width="64" height="48">'
    assert sanitize_html(image) == image


def test_links_are_marked_noopener_noreferrer_nofollow() -> None:
    cleaned = sanitize_html('<a href="https://www.example.gov.tw/">市府</a>')
    assert cleaned == (
        '<a href="https://www.example.gov.tw/" rel="noopener noreferrer nofollow">市府</a>'
    )


def test_mailto_links_are_allowed() -> None:
    assert 'href="mailto:news@example.gov.tw"' in sanitize_html(
        '<a href="mailto:news@example.gov.tw">來信</a>'
    )


@pytest.mark.parametrize(
    ("relative", "absolute"),
    [
        ("detail.html", "https://www.example.gov.tw/news/detail.html"),
        ("/images/a.jpg", "https://www.example.gov.tw/images/a.jpg"),
        ("../b.html", "https://www.example.gov.tw/b.html"),
        ("//cdn.example.gov.tw/c.pdf", "https://cdn.example.gov.tw/c.pdf"),
        ("?page=2", "https://www.example.gov.tw/news/1.html?page=2"),
    ],
)
def test_relative_urls_are_resolved_against_the_base(relative: str, absolute: str) -> None:
    cleaned = sanitize_html(
        f'<a href="{relative}">連結</a><img src="{relative}">',
        base_url="https://www.example.gov.tw/news/1.html",
    )
    assert cleaned.count(f'"{absolute}"') == 2


def test_without_a_base_relative_urls_are_left_as_they_are() -> None:
    assert 'src="/images/a.jpg"' in sanitize_html('<img src="/images/a.jpg">')


def test_text_to_html_escapes_and_keeps_paragraphs() -> None:
    assert text_to_html("a < b\n第二行\n\n第二段") == "<p>a &lt; b<br>第二行</p><p>第二段</p>"


@pytest.mark.parametrize(
    "forbidden",
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff", "\ud800", "\udfff"],
    ids=repr,
)
def test_strip_control_chars_removes_what_xml_forbids(forbidden: str) -> None:
    assert strip_control_chars(f"市府{forbidden}公告") == "市府公告"


def test_strip_control_chars_keeps_tab_newline_and_carriage_return() -> None:
    assert strip_control_chars("a\tb\nc\rd") == "a\tb\nc\rd"
