"""parse_feed turns what a source sent into clean entries, or says plainly why it can't."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import astuple
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.models import ParsedEntry, ParsedFeed
from aggregator.parse.feed import ParseError, parse_feed
from tests.feedbuilder import FeedItem, atom, rss

FEEDS = Path(__file__).parent / "data" / "feeds"
FEED_URL = "https://www.example.gov.tw/rss/feed.xml"
FETCHED_AT = datetime(2025, 4, 1, tzinfo=UTC)


def parse(body: bytes, content_type: str | None = None) -> ParsedFeed:
    return parse_feed(
        body, content_type=content_type, url=FEED_URL, fetched_at=FETCHED_AT, timezone="Asia/Taipei"
    )


def parse_fixture(name: str, content_type: str | None = None) -> ParsedFeed:
    return parse((FEEDS / name).read_bytes(), content_type)


def every_text(feed: ParsedFeed) -> list[str]:
    texts = [feed.title or "", feed.link or ""]
    for entry in feed.entries:
        texts.extend(str(value) for value in astuple(entry) if value is not None)
    return texts


# --- formats --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "content_type", "expected"),
    [
        (
            "rss20.xml",
            "application/rss+xml",
            ("高雄市政府 市政新聞", "高雄捷運環狀輕軌全線通車 市長邀市民搭乘", 2),
        ),
        ("rss091.xml", "text/xml", ("高雄市政府 公告", "愛河燈會交通管制公告", 2)),
        (
            "rss10_rdf.xml",
            "application/rdf+xml",
            ("臺北市政府 新聞稿", "臺北市公共自行車新增五十站", 2),
        ),
        (
            "atom10.xml",
            "application/atom+xml",
            ("臺南市政府 市政新聞", "古蹟修復完成 赤崁樓 重新開放", 2),
        ),
        ("atom03.xml", "application/atom+xml", ("臺中市政府 新聞", "臺中國際花毯節開幕", 1)),
        ("jsonfeed11.json", "application/feed+json", ("新北市政府 新聞", "淡江大橋主橋段合龍", 2)),
        ("jsonfeed10.json", "application/json", ("桃園市政府 新聞", "桃園機場捷運增班", 1)),
    ],
)
def test_reads_every_supported_format(
    fixture: str, content_type: str, expected: tuple[str, str, int]
) -> None:
    """expected: the feed's title, its first entry's title, how many entries."""
    feed = parse_fixture(fixture, content_type)
    assert (feed.title, feed.entries[0].title, len(feed.entries)) == expected


def test_an_rss_item_is_read_completely() -> None:
    entry = parse_fixture("rss20.xml").entries[0]
    assert entry == ParsedEntry(
        guid="kcg-news-1001",
        link="https://www.example.gov.tw/News_Content.aspx?n=1001",
        title="高雄捷運環狀輕軌全線通車 市長邀市民搭乘",
        summary="<p>環狀輕軌今日<strong>全線通車</strong>，首週免費搭乘。</p>",
        content=(
            "<p>環狀輕軌今日<strong>全線通車</strong>，首週免費搭乘。</p>"
            "<p>市府提醒民眾多加利用大眾運輸。</p>"
        ),
        published=datetime(2025, 3, 22, 2, tzinfo=UTC),
        updated=datetime(2025, 3, 22, 2, tzinfo=UTC),
        author="新聞局",
        tags=("交通", "捷運"),
    )


def test_an_atom_entry_is_read_completely() -> None:
    entry = parse_fixture("atom10.xml").entries[0]
    assert entry == ParsedEntry(
        guid="tag:example.gov.tw,2025:tainan/4001",
        link="https://www.example.gov.tw/tainan/news/4001",
        title="古蹟修復完成 赤崁樓 重新開放",
        summary="<p>赤崁樓修復工程完工，明日起重新開放參觀。</p>",
        content="<p>赤崁樓修復工程完工，<strong>明日起</strong>重新開放參觀。</p>",
        published=datetime(2025, 3, 22, 3, tzinfo=UTC),
        updated=datetime(2025, 3, 22, 4, tzinfo=UTC),
        author="文化局",
        tags=("文化",),
    )


def test_a_json_feed_item_is_read_completely() -> None:
    entry = parse_fixture("jsonfeed11.json", "application/feed+json").entries[0]
    assert entry == ParsedEntry(
        guid="ntpc-6001",
        link="https://www.example.gov.tw/ntpc/news/6001",
        title="淡江大橋主橋段合龍",
        summary="<p>淡江大橋主橋段今日順利合龍。</p>",
        content=(
            "<p>淡江大橋主橋段今日<strong>順利合龍</strong>。</p>"
            '<img src="https://www.example.gov.tw/ntpc/img/6001.jpg" alt="合龍">'
        ),
        published=datetime(2025, 3, 22, 2, tzinfo=UTC),
        updated=datetime(2025, 3, 22, 3, 30, tzinfo=UTC),
        author="工務局",
        tags=("交通", "工程"),
    )


def test_a_json_feed_is_recognised_without_a_json_content_type() -> None:
    assert parse_fixture("jsonfeed11.json", "text/plain").title == "新北市政府 新聞"


def test_a_json_feed_numeric_id_becomes_a_string() -> None:
    assert parse_fixture("jsonfeed11.json").entries[1].guid == "6002"


def test_json_feed_plain_text_is_escaped_not_interpreted() -> None:
    entry = parse_fixture("jsonfeed11.json").entries[1]
    assert entry.title == "板橋 <車站> 周邊道路改善"
    assert entry.content == "<p>板橋車站周邊人行道拓寬工程開工。<br>預計年底完工。</p>"


def test_atom_plain_text_title_keeps_its_angle_brackets() -> None:
    assert parse_fixture("atom10.xml").entries[1].title == "運河星鑽區 <新> 公園啟用"


def test_a_feed_without_a_summary_uses_its_content_and_vice_versa() -> None:
    entry = parse_fixture("jsonfeed10.json").entries[0]
    assert entry.summary == entry.content == "<p>連假期間機場捷運加開班次。</p>"


# --- encodings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "content_type", "expected_title"),
    [
        ("big5.xml", "application/rss+xml; charset=big5", "高雄市政府舉辦城市博覽會"),
        ("big5.xml", None, "高雄市政府舉辦城市博覽會"),
        ("cp950_declared_big5.xml", "text/xml; charset=Big5", "圍碁比賽在裏港舉行"),
        ("cp950_declared_big5.xml", "application/rss+xml", "圍碁比賽在裏港舉行"),
        ("utf8_bom.xml", "application/rss+xml; charset=utf-8", "高雄市政府舉辦城市博覽會"),
        ("utf8_declared_big5.xml", "text/xml; charset=utf-8", "左營萬年季開幕"),
        ("big5_declared_utf8.xml", "text/xml; charset=big5", "左營萬年季開幕"),
        ("big5_declared_utf8.xml", "text/xml; charset=iso-8859-1", "左營萬年季開幕"),
    ],
)
def test_decodes_whatever_the_declarations_claim(
    fixture: str, content_type: str | None, expected_title: str
) -> None:
    assert parse_fixture(fixture, content_type).entries[0].title == expected_title


def test_a_genuinely_latin1_feed_is_still_read_as_latin1() -> None:
    body = rss([FeedItem("Café Zürich à Kaohsiung")], title="News", encoding="iso-8859-1")
    assert parse(body, "text/xml; charset=iso-8859-1").entries[0].title == "Café Zürich à Kaohsiung"


def test_characters_only_cp950_has_survive_in_the_summary() -> None:
    entry = parse_fixture("cp950_declared_big5.xml", "text/xml; charset=big5").entries[0]
    assert entry.summary == "防銹工程經費 €100 萬，由市府編列。"


# --- dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "roc_dates.xml",
            [
                datetime(2025, 3, 21, 16, tzinfo=UTC),
                datetime(2025, 3, 22, 6, 30, tzinfo=UTC),
                datetime(2025, 3, 20, 16, tzinfo=UTC),
            ],
        ),
        (
            "ampm_dates.xml",
            [
                datetime(2025, 3, 22, 2, tzinfo=UTC),
                datetime(2025, 3, 22, 6, 5, tzinfo=UTC),
                datetime(2025, 3, 21, 16, 30, tzinfo=UTC),
            ],
        ),
        (
            "rss10_rdf.xml",
            [datetime(2025, 3, 22, 1, 30, tzinfo=UTC), datetime(2025, 3, 20, 16, tzinfo=UTC)],
        ),
    ],
)
def test_reads_the_dates_the_feed_wrote(fixture: str, expected: list[datetime]) -> None:
    assert [entry.published for entry in parse_fixture(fixture).entries] == expected


def test_a_day_given_without_a_time_is_marked_so_that_pages_show_a_date() -> None:
    entries = parse_fixture("roc_dates.xml").entries
    assert [entry.published_has_time for entry in entries] == [False, True, False]


def test_an_entry_without_a_date_counts_as_timed_it_is_dated_when_first_seen() -> None:
    assert all(entry.published_has_time for entry in parse_fixture("no_dates.xml").entries)


def test_missing_and_unreadable_dates_are_none() -> None:
    entries = parse_fixture("no_dates.xml").entries
    assert [(entry.published, entry.updated) for entry in entries] == [(None, None), (None, None)]


def test_zone_less_dates_are_in_the_sources_timezone() -> None:
    body = rss([FeedItem("公告", link="https://www.example.gov.tw/1", published="2025/3/22 10:00")])
    feed = parse_feed(
        body, content_type=None, url=FEED_URL, fetched_at=FETCHED_AT, timezone="Asia/Tokyo"
    )
    assert feed.entries[0].published == datetime(2025, 3, 22, 1, tzinfo=UTC)


def test_a_date_years_ahead_is_no_usable_date() -> None:
    # decide then dates the entry when it is first seen
    body = rss([FeedItem("預告", link="https://www.example.gov.tw/1", published="2030-01-01")])
    assert parse(body).entries[0].published is None


# --- cleaning -------------------------------------------------------------------------


def test_control_characters_are_stripped_from_every_field() -> None:
    feed = parse_fixture("control_chars.xml")
    assert (feed.title, feed.entries[0].title, feed.entries[0].summary) == (
        "控制字元測試",
        "市府公告事項",
        "內容含有控制字元與非字元。",
    )


def test_relative_links_resolve_against_the_entry_link() -> None:
    entry = parse_fixture("relative_links.xml").entries[0]
    assert entry.link == "https://www.example.gov.tw/travel/news/11001.html"
    assert 'href="https://www.example.gov.tw/travel/news/detail/11001.html"' in entry.summary
    assert 'src="https://www.example.gov.tw/travel/images/sunset.jpg"' in entry.summary
    assert 'href="https://cdn.example.gov.tw/brochure.pdf"' in entry.summary


def test_relative_links_of_an_entry_without_a_link_resolve_against_the_feed_url() -> None:
    entry = parse_fixture("relative_links.xml").entries[1]
    assert 'href="https://www.example.gov.tw/rss/notice.html"' in entry.summary


def test_hostile_html_is_sanitised() -> None:
    entries = parse_fixture("hostile_html.xml").entries
    markup = " ".join(entry.summary + entry.content for entry in entries).lower()
    for dangerous in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<style",
                      "<svg", "onload", "<form", "<meta", "expression(", "data:"):  # fmt: skip
        assert dangerous not in markup


def test_a_title_carrying_markup_becomes_plain_text() -> None:
    assert parse_fixture("hostile_html.xml").entries[0].title == "市政公告"


def test_an_entry_link_that_is_not_http_is_dropped() -> None:
    assert parse_fixture("hostile_html.xml").entries[1].link is None


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ((FEEDS / "html_page.html").read_bytes(), "text/html", "HTML page, not a feed"),
        ((FEEDS / "not_a_feed.json").read_bytes(), "application/json", "not a JSON Feed"),
        ((FEEDS / "truncated.xml").read_bytes(), "application/rss+xml", "not well-formed XML"),
        (b"", "application/rss+xml", "empty response"),
        (b"  \r\n ", "application/rss+xml", "empty response"),
        (b'<?xml version="1.0"?><sitemap><url>x</url></sitemap>', "text/xml", "root element"),
        (b'{"version": "https://jsonfeed.org/version/1.1", ', "application/json", "not valid JSON"),
        (b"Service Unavailable", "text/plain", "neither XML nor JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "nested too deeply"),
        (b"<?x?>" * 1000 + b"!", "text/xml", "not well-formed XML"),
    ],
    ids=[
        "html",
        "json",
        "truncated",
        "empty",
        "blank",
        "sitemap",
        "broken-json",
        "plain-text",
        "deep-json",
        "hostile-prolog",
    ],
)
def test_what_is_not_a_feed_raises_a_parse_error_saying_why(
    body: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(ParseError, match=message):
        parse(body, content_type)


def test_a_recoverable_xml_error_still_yields_the_entries() -> None:
    body = rss([FeedItem("市府公告", link="https://www.example.gov.tw/1")]).replace(
        b"</title>", b"</title><br>", 1
    )
    assert [entry.title for entry in parse(body).entries] == ["市府公告"]


# --- security -------------------------------------------------------------------------


def test_billion_laughs_is_not_expanded() -> None:
    feed = parse_fixture("billion_laughs.xml")
    assert all("lollol" not in text for text in every_text(feed))
    assert sum(len(text) for text in every_text(feed)) < 1000


def test_an_external_entity_does_not_leak_the_file() -> None:
    feed = parse_fixture("xxe.xml")
    assert all("root:" not in text for text in every_text(feed))


# --- identity is decide's job: return everything, in order ---------------------------


def test_items_sharing_one_link_are_all_returned_in_document_order() -> None:
    titles = [entry.title for entry in parse_fixture("shared_link.xml").entries]
    assert titles == ["旗津海岸公園假日市集", "衛武營戶外音樂會", "美濃油紙傘工藝展"]


def test_ten_thousand_items_all_parse() -> None:
    items = [
        FeedItem(f"第{number}則", link=f"https://www.example.gov.tw/n/{number}")
        for number in range(10_000)
    ]
    entries = parse(rss(items), "application/rss+xml").entries
    assert [entry.title for entry in entries] == [item.title for item in items]


# --- the feed builder other tests rely on ---------------------------------------------


@pytest.mark.parametrize("build", [rss, atom], ids=["rss", "atom"])
def test_built_feeds_parse_back_to_their_items(
    build: Callable[[Sequence[FeedItem]], bytes],
) -> None:
    item = FeedItem(
        "颱風停班停課",
        link="https://www.example.gov.tw/news/1",
        guid="news-1",
        description="<p>明日停班停課。</p>",
        published=datetime(2025, 3, 22, 2, tzinfo=UTC),
        author="新聞局",
        categories=("防災",),
    )
    entry = parse(build([item])).entries[0]
    assert (entry.title, entry.link, entry.summary, entry.published, entry.tags) == (
        "颱風停班停課",
        "https://www.example.gov.tw/news/1",
        "<p>明日停班停課。</p>",
        datetime(2025, 3, 22, 2, tzinfo=UTC),
        ("防災",),
    )


# --- bidi controls ----------------------------------------------------------------------

BIDI_CONTROLS = (
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
)


def test_titles_summaries_and_names_lose_the_bidi_controls_that_reorder_a_page() -> None:
    feed = parse_fixture("bidi_controls.xml")
    entry = feed.entries[0]

    assert entry.title == "市政公告 gpj.exe 附件"
    assert feed.title == "市政新聞"
    for text in (entry.title, entry.summary, entry.author or "", feed.title or ""):
        assert not any(control in text for control in BIDI_CONTROLS)
    assert "\u200f" in entry.summary  # a mark reaches no further than its neighbours


def test_content_keeps_its_bidi_controls() -> None:
    assert "\u202bعربي\u202c" in parse_fixture("bidi_controls.xml").entries[0].content
