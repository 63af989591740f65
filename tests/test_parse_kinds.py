"""Sources that have no RSS: OpenData JSON arrays, news list pages read with CSS selectors,
and CAP disaster alerts, each fetched over HTTP as the poller fetches them and parsed by the
kind the source's configuration gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.fetch.fetcher import Fetcher
from aggregator.models import (
    AlertArea,
    ListSelectors,
    OpenDataFields,
    ParsedFeed,
    SourceFormat,
    Validators,
)
from aggregator.parse.cap import area_categories
from aggregator.parse.feed import ParseError, parse_feed
from tests.feedserver import FeedServer
from tests.fixtures_http import read_data

FETCHED_AT = datetime(2024, 3, 16, 0, 0, tzinfo=UTC)  # 08:00 in Taipei

HUALIEN = SourceFormat(
    kind="html",
    selectors=ListSelectors(
        item="table.list tbody tr", title="td.title a", link="td.title a", date="td.date"
    ),
)
CHANGHUA = SourceFormat(
    kind="html",
    selectors=ListSelectors(
        item="ul.list li", title="a", link="a", date="span.date", summary="p.summary"
    ),
)


@pytest.fixture
def fetcher() -> Fetcher:
    return Fetcher(allow_private_addresses=True, timeout=5.0)


def fetched(
    server: FeedServer,
    fetcher: Fetcher,
    path: str,
    fixture: str,
    content_type: str,
    source_format: SourceFormat,
) -> ParsedFeed:
    server.serve(path, read_data(f"kinds/{fixture}"), content_type=content_type)
    result = fetcher.fetch("source", server.url(path), Validators())
    assert result.body is not None, result.error
    return parse_feed(
        result.body,
        content_type=result.content_type,
        url=result.url,
        fetched_at=FETCHED_AT,
        timezone="Asia/Taipei",
        source_format=source_format,
    )


# --- html: a news list page ------------------------------------------------------------


def test_a_list_page_gives_one_entry_per_row_with_links_made_absolute(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed = fetched(
        feed_server, fetcher, "/News.aspx", "hualien_news_list.html", "text/html", HUALIEN
    )
    base = feed_server.url("")
    assert feed.title == "花蓮縣政府-新聞稿"
    assert [(entry.title, entry.link, entry.published) for entry in feed.entries] == [
        (
            # The row shows a headline cut short; its link's title holds all of it.
            "花蓮縣政府宣布颱風假 明日停班停課 請民眾注意安全並遠離海邊",
            f"{base}/News_Content.aspx?n=5&sms=9&s=301245",
            datetime(2024, 3, 14, 16, tzinfo=UTC),  # 113-03-15 in Taipei
        ),
        (
            "太魯閣峽谷音樂節 三月底登場",
            f"{base}/News_Content.aspx?n=5&sms=9&s=301244",
            datetime(2024, 3, 13, 16, tzinfo=UTC),
        ),
        (
            "縣長視察 193 縣道 拓寬工程",
            "https://www.hl.gov.tw/News_Content.aspx?n=5&sms=9&s=301240",
            datetime(2024, 3, 12, 16, tzinfo=UTC),
        ),
    ]


def test_a_big5_list_page_is_decoded_and_its_header_row_and_pager_left_out(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed = fetched(
        feed_server,
        fetcher,
        "/Lpsimplelist.aspx",
        "changhua_news_big5.html",
        "text/html",
        CHANGHUA,
    )
    assert [(entry.title, entry.summary, entry.published) for entry in feed.entries] == [
        (
            "彰化縣 鹿港慶端陽 龍舟賽報名開始",
            "<p>今年龍舟賽於鹿港溪舉行，歡迎各界組隊報名。</p>",
            datetime(2024, 3, 15, 6, 30, tzinfo=UTC),
        ),
        (
            "八卦山大佛 風景區步道整修 裏山步道暫停開放",
            "<p>步道整修期間請改道。</p>",
            datetime(2024, 3, 13, 16, tzinfo=UTC),
        ),
    ]


@pytest.mark.parametrize(
    ("selectors", "message"),
    [
        (
            HUALIEN.selectors,
            "the item selector 'table.list tbody tr' matches nothing on the page: the site has "
            "probably changed its layout, so the source's 'selectors' need updating",
        ),
        (
            ListSelectors(item="article.card", title="td.title a", link="h3 a", date="time"),
            "the title selector 'td.title a' matches nothing in any item ('article.card'): the "
            "site has probably changed its layout, so the source's 'selectors' need updating",
        ),
        (
            ListSelectors(item="article.card", title="h3 a", link="h3 a", date="td.date"),
            "the date selector 'td.date' matches nothing in any item ('article.card'): the "
            "site has probably changed its layout, so the source's 'selectors' need updating",
        ),
    ],
)
def test_a_changed_layout_fails_naming_the_selector_that_no_longer_matches(
    feed_server: FeedServer, fetcher: Fetcher, selectors: ListSelectors, message: str
) -> None:
    with pytest.raises(ParseError) as failed:
        fetched(
            feed_server,
            fetcher,
            "/News.aspx",
            "hualien_news_redesigned.html",
            "text/html; charset=utf-8",
            SourceFormat(kind="html", selectors=selectors),
        )
    assert str(failed.value) == message


def test_an_rss_feed_configured_as_a_list_page_says_to_make_it_a_feed(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/rss.xml", read_data("feeds/rss20.xml"))
    result = fetcher.fetch("source", feed_server.url("/rss.xml"), Validators())
    assert result.body is not None
    with pytest.raises(ParseError, match="the page is a feed, not a news list: set kind: feed"):
        parse_feed(result.body, content_type=result.content_type, url=result.url,
                   fetched_at=FETCHED_AT, timezone="Asia/Taipei", source_format=HUALIEN)


# --- OpenData JSON arrays ---------------------------------------------------------------


def test_an_opendata_array_with_chinese_keys_is_read_without_configuration(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed = fetched(
        feed_server,
        fetcher,
        "/OpenData.aspx",
        "tainan_opendata_chinese.json",
        "application/json; charset=utf-8",
        SourceFormat(),  # kind feed: told apart by its content
    )
    first, second = feed.entries
    assert (first.title, first.link, first.published, first.agency) == (
        "臺南市政府 古蹟夜間開放 延長至晚間九點",
        "https://www.tainan.gov.tw/News_Content.aspx?n=13370&s=8123451",
        datetime(2024, 3, 15, 6, 30, tzinfo=UTC),
        "文化局",
    )
    assert first.content == "<p>赤崁樓、安平古堡即日起<strong>延長開放</strong>至晚間九點。</p>"
    assert (second.link, second.published, second.agency) == (
        feed_server.url("/News_Content.aspx?n=13370&s=8123450"),
        datetime(2024, 3, 13, 16, tzinfo=UTC),
        "交通局",
    )
    assert second.content == "<p>元宵節期間鹽水區實施交通管制。\n<br>請民眾多加利用接駁車。</p>"


def test_an_opendata_array_with_mixed_keys_is_read_without_configuration(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed = fetched(
        feed_server,
        fetcher,
        "/OpenData.aspx",
        "taoyuan_opendata_mixed.json",
        "text/html; charset=utf-8",  # what these servers often say
        SourceFormat(kind="opendata"),
    )
    assert [
        (entry.title, entry.link, entry.published, entry.agency, entry.tags)
        for entry in feed.entries
    ] == [
        (
            "桃園機場捷運 增開直達車班次",
            "https://www.tycg.gov.tw/News_Content.aspx?n=9&s=1201",
            datetime(2024, 3, 15, 1, 5, tzinfo=UTC),
            "捷運工程局",
            ("交通",),
        ),
        (
            "桃園燈會 志工招募",
            # Its "url" is empty: the "Link" is the item's page.
            "https://www.tycg.gov.tw/News_Content.aspx?n=9&s=1200",
            datetime(2024, 3, 14, 7, 20, tzinfo=UTC),
            "觀光旅遊局",
            ("觀光",),
        ),
    ]


def test_opendata_keys_named_in_fields_are_read(feed_server: FeedServer, fetcher: Fetcher) -> None:
    named = OpenDataFields(title="主旨", link="網址", published="公告日期", content="說明",
                           agency="機關")
    feed = fetched(feed_server, fetcher, "/OpenData.aspx", "opendata_unusual_keys.json",
                   "application/json", SourceFormat(kind="opendata", fields=named))
    [entry] = feed.entries
    assert (entry.title, entry.link, entry.published, entry.agency, entry.content) == (
        "宜蘭縣 綠色博覽會 售票開始",
        "https://www.e-land.gov.tw/News_Content.aspx?n=4&s=5501",
        datetime(2024, 3, 14, 16, tzinfo=UTC),
        "農業處",
        "<p>綠博門票即日起於各超商販售。</p>",
    )


def test_a_feed_source_that_turns_out_to_be_an_opendata_array_uses_its_fields(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed = fetched(feed_server, fetcher, "/OpenData.aspx", "opendata_unusual_keys.json",
                   "application/json", SourceFormat(fields=OpenDataFields(title="主旨")))
    assert [entry.title for entry in feed.entries] == ["宜蘭縣 綠色博覽會 售票開始"]


def test_opendata_keys_nobody_named_fail_listing_the_keys_there_are(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    with pytest.raises(ParseError) as failed:
        fetched(feed_server, fetcher, "/OpenData.aspx", "opendata_unusual_keys.json",
                "application/json", SourceFormat(kind="opendata"))
    assert str(failed.value) == (
        "no item has a title under any key this reader knows (the items have: 主旨, 公告日期, "
        "機關, 網址, 說明): name the keys in the source's 'fields:', such as fields: {title: 標題}"
    )


def test_a_key_named_in_fields_that_no_item_has_is_a_failure_naming_it(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    with pytest.raises(ParseError, match="'fields' says the agency is under '發布機關', but no"):
        fetched(feed_server, fetcher, "/OpenData.aspx", "tainan_opendata_chinese.json",
                "application/json", SourceFormat(kind="opendata",
                                                 fields=OpenDataFields(agency="發布機關")))


def test_an_opendata_endpoint_answering_rss_is_read_as_the_feed_it_is(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed = fetched(feed_server, fetcher, "/OpenData.aspx", "../feeds/rss20.xml",
                   "application/rss+xml", SourceFormat(kind="opendata"))
    assert feed.entries[0].title == "高雄捷運環狀輕軌全線通車 市長邀市民搭乘"


# --- cap: disaster alerts --------------------------------------------------------------


def test_alerts_in_force_carry_expiry_severity_and_areas_and_expired_ones_are_left_out(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed = fetched(feed_server, fetcher, "/RssAtomFeed.ashx", "ncdr_alerts.atom",
                   "application/atom+xml", SourceFormat(kind="cap"))
    assert feed.title == "國家災害防救科技中心 示警資料"
    # 臺北市's closure expired yesterday; the last entry is a test of the alert system.
    closure, rain, reservoir, wind = feed.entries
    assert (
        closure.title,
        closure.agency,
        closure.tags,
        closure.severity,
        closure.expires,
        closure.areas,
        closure.published,
    ) == (
        "高雄市 今天停止上班、停止上課",
        "行政院人事行政總處",
        ("停班停課",),
        "Severe",
        datetime(2024, 3, 16, 15, 59, tzinfo=UTC),
        (AlertArea(name="高雄市", geocodes=("6400000000",)),),
        datetime(2024, 3, 15, 23, 40, tzinfo=UTC),
    )
    assert closure.content == (
        "<p>高雄市：今天停止上班、停止上課。<br>請民眾注意颱風動態，減少外出。</p>"
    )
    assert (rain.title, rain.severity, rain.expires, rain.areas, rain.tags) == (
        "豪雨特報",
        "Moderate",
        datetime(2024, 3, 16, 21, tzinfo=UTC),
        (AlertArea(name="花蓮縣", geocodes=("1001500000",)),),
        ("降雨",),
    )
    # The agency's own entries: zone-less Taipei dates with Chinese AM/PM, HTML summaries.
    assert (wind.tags, wind.agency, wind.summary, wind.published, wind.expires) == (
        ("強風",),
        None,
        "東北風影響，<b>新北市沿海</b>地區有強風",
        datetime(2024, 3, 15, 20, 40, tzinfo=UTC),
        datetime(2024, 3, 16, 10, tzinfo=UTC),
    )
    # Its details are only in the linked CAP document: an alert without an expiry.
    assert (reservoir.title, reservoir.link, reservoir.expires) == (
        "水庫放流通知",
        "https://alerts.ncdr.nat.gov.tw/Capstorage/WRA/2024/WRA-2024-0316-0001.cap",
        None,
    )


def test_a_cap_document_of_its_own_is_one_alert_read_in_traditional_chinese(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed = fetched(feed_server, fetcher, "/alert.cap", "cap_alert.xml", "application/xml",
                   SourceFormat(kind="cap"))
    [alert] = feed.entries
    assert (alert.guid, alert.title, alert.link, alert.agency, alert.areas) == (
        "CWA-EQ-2024-0316-0812",
        "地震報告 花蓮縣震度4級",
        "https://www.cwa.gov.tw/V8/C/E/EQ/EQ113045.html",
        "交通部中央氣象署",
        (
            AlertArea(name="花蓮縣", geocodes=("1001500000",)),
            AlertArea(name="宜蘭縣", geocodes=("1000200000",)),
        ),
    )


def test_a_cap_source_answering_a_news_page_fails_saying_so(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    alerts_only = "root element is <rss>, not an Atom <feed> of alerts or a CAP <alert>"
    with pytest.raises(ParseError, match=alerts_only):
        fetched(feed_server, fetcher, "/rss.xml", "../feeds/rss20.xml", "application/rss+xml",
                SourceFormat(kind="cap"))


def test_an_alert_goes_to_the_categories_of_the_areas_it_names_however_they_are_written() -> None:
    areas = (("臺北市", "taipei"), ("6400000000", "kaohsiung"), ("臺南市", "tainan"))
    alert_areas = (AlertArea(name="台北市"), AlertArea(name="高雄市", geocodes=("6400000000",)))
    assert area_categories(alert_areas, areas) == ("taipei", "kaohsiung")
