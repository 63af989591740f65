"""Output feeds as documents: valid Atom, RSS and JSON Feed for anything the store can hold."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import pytest

from aggregator.config.load import load_config
from aggregator.models import Config, SourceReport, StoredEntry
from aggregator.render import FORMATS, FeedMeta, feed_meta

DATA = Path(__file__).parent / "data"
ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE_CASES: list[dict[str, Any]] = json.loads(
    (DATA / "render" / "hostile_entries.json").read_text(encoding="utf-8")
)
PUBLISHED = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
SITE = "https://news.example.org/agg"  # the base_url of tests/data/feeds/feeds.yaml
ENTRY_ID = "6f1c1f7e-3b0a-4d43-9a8e-2f61c1f0a001"


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(DATA / "feeds" / "feeds.yaml")


@pytest.fixture(scope="module")
def kaohsiung(config: Config) -> FeedMeta:
    meta = feed_meta(config, "kaohsiung", SITE)
    assert meta is not None
    return meta


def report(source_id: str, source_title: str, link: str | None) -> SourceReport:
    return SourceReport(source_id, source_title, "市府新聞", link, PUBLISHED)


def news_entry(**changes: Any) -> StoredEntry:
    entry = StoredEntry(
        id=ENTRY_ID,
        title="高雄市長視察颱風災後復原",
        link="https://www.kcg.gov.tw/news/1",
        summary="<p>市府團隊今日前往旗津。</p>",
        content="<p>市府團隊今日前往旗津，檢視海岸修復進度。</p>",
        published=PUBLISHED,
        updated=PUBLISHED,
        categories=("kaohsiung",),
        reports=(
            report("kaohsiung-news", "高雄市政府新聞稿", "https://www.kcg.gov.tw/news/1"),
            report("kaohsiung-info", "高雄市政府新聞局", "https://kcginfo.kcg.gov.tw/n/7"),
        ),
    )
    return replace(entry, **changes)


def hostile_entry(case: dict[str, Any]) -> StoredEntry:
    link = case.get("link", "https://www.kcg.gov.tw/news/1")
    shown = report("kaohsiung-news", case.get("source_title", "高雄市政府新聞稿"), link)
    return news_entry(
        title=case["title"],
        link=link,
        summary=case.get("summary", ""),
        content=case["content"],
        published=datetime.fromisoformat(case.get("published", PUBLISHED.isoformat())),
        updated=datetime.fromisoformat(case.get("updated", PUBLISHED.isoformat())),
        reports=(shown,),
    )


def hostile_params() -> list[Any]:
    return [pytest.param(case, id=case["name"]) for case in HOSTILE_CASES]


def render(extension: str, meta: FeedMeta, entries: Sequence[StoredEntry]) -> bytes:
    return FORMATS[extension].render(meta, entries)


def children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return element.findall(f"{ATOM}{name}")


def alternate_links(element: ElementTree.Element) -> list[ElementTree.Element]:
    return [
        link for link in children(element, "link") if link.get("rel", "alternate") == "alternate"
    ]


# --- validity for any content ---------------------------------------------------------


@pytest.mark.parametrize("case", hostile_params())
def test_atom_has_every_element_rfc4287_requires(case: dict[str, Any], kaohsiung: FeedMeta) -> None:
    feed = ElementTree.fromstring(render("atom", kaohsiung, [hostile_entry(case)]))

    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(children(feed, name)) == 1, name
    feed_has_author = bool(children(feed, "author"))
    for entry in children(feed, "entry"):
        for name in ("id", "title", "updated"):
            assert len(children(entry, name)) == 1, name
            assert (children(entry, name)[0].text or "").strip(), name
        assert children(entry, "content") or alternate_links(entry)
        assert feed_has_author or children(entry, "author")
        datetime.fromisoformat(children(entry, "updated")[0].text or "")


@pytest.mark.parametrize("case", hostile_params())
def test_rss_has_every_element_rss2_requires(case: dict[str, Any], kaohsiung: FeedMeta) -> None:
    rss = ElementTree.fromstring(render("rss", kaohsiung, [hostile_entry(case)]))

    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel is not None
    for name in ("title", "link", "description"):
        assert (channel.findtext(name) or "").strip(), name
    items = channel.findall("item")
    assert len(items) == 1
    assert items[0].findtext("title") or items[0].findtext("description")


@pytest.mark.parametrize("extension", ["atom", "rss"])
@pytest.mark.parametrize("case", hostile_params())
def test_feedparser_reads_back_the_same_titles_ids_and_links(
    case: dict[str, Any], extension: str, kaohsiung: FeedMeta
) -> None:
    entry = hostile_entry(case)
    parsed = feedparser.parse(render(extension, kaohsiung, [entry]))

    assert not parsed.bozo, parsed.get("bozo_exception")
    (item,) = parsed.entries
    assert item.title == case.get("expect_title", case["title"])
    assert item.id == f"urn:uuid:{ENTRY_ID}"
    expected_link = case.get("expect_link", entry.link)
    if expected_link is None:
        assert "javascript" not in json.dumps(item.get("links", []))
        assert all(link.get("rel") != "alternate" for link in item.get("links", []))
    else:
        assert item.link == expected_link


@pytest.mark.parametrize("case", hostile_params())
def test_json_feed_has_every_field_json_feed_requires(
    case: dict[str, Any], kaohsiung: FeedMeta
) -> None:
    feed = json.loads(render("json", kaohsiung, [hostile_entry(case)]).decode("utf-8"))

    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"]
    (item,) = feed["items"]
    assert item["id"] == f"urn:uuid:{ENTRY_ID}"
    assert item["title"] == case.get("expect_title", case["title"])
    assert "content_html" in item
    datetime.fromisoformat(item["date_modified"])


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_scripts_never_reach_the_feed(extension: str, kaohsiung: FeedMeta) -> None:
    entry = news_entry(
        summary="<p onclick='alert(1)'>摘要</p>",
        content="<script>alert(1)</script><img src=x onerror=alert(2)><p>正文</p>",
    )

    document = render(extension, kaohsiung, [entry]).decode("utf-8")

    for dangerous in ("<script", "&lt;script", "onerror", "onclick", "alert("):
        assert dangerous not in document
    assert "正文" in document


# --- identity and determinism ----------------------------------------------------------


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_an_entry_keeps_its_id_when_its_title_is_edited(
    extension: str, kaohsiung: FeedMeta
) -> None:
    before = render(extension, kaohsiung, [news_entry()]).decode("utf-8")
    after = render(extension, kaohsiung, [news_entry(title="更正：市長視察")]).decode("utf-8")

    assert f"urn:uuid:{ENTRY_ID}" in before
    assert f"urn:uuid:{ENTRY_ID}" in after


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_the_same_entries_render_to_the_same_bytes(extension: str, kaohsiung: FeedMeta) -> None:
    # ETags are hashes of the document: a render must not stamp the time it ran.
    entries = [news_entry()]

    assert render(extension, kaohsiung, entries) == render(extension, kaohsiung, entries)


def test_entries_keep_their_order(kaohsiung: FeedMeta) -> None:
    newer = news_entry(id="6f1c1f7e-3b0a-4d43-9a8e-2f61c1f0a002", title="較新")
    older = news_entry(title="較舊")

    parsed = feedparser.parse(render("atom", kaohsiung, [newer, older]))

    assert [item.title for item in parsed.entries] == ["較新", "較舊"]


# --- feed metadata ---------------------------------------------------------------------


def test_feed_updated_is_the_newest_entry_updated(kaohsiung: FeedMeta) -> None:
    newest = datetime(2024, 5, 2, 3, 4, 5, tzinfo=UTC)
    entries = [news_entry(), news_entry(id="6f1c1f7e-3b0a-4d43-9a8e-2f61c1f0a002", updated=newest)]

    feed = ElementTree.fromstring(render("atom", kaohsiung, entries))

    assert datetime.fromisoformat(feed.findtext(f"{ATOM}updated") or "") == newest


@pytest.mark.parametrize("extension", ["atom", "rss"])
def test_an_empty_feed_is_valid_and_dated_at_the_epoch(extension: str, kaohsiung: FeedMeta) -> None:
    parsed = feedparser.parse(render(extension, kaohsiung, []))

    assert not parsed.bozo
    assert parsed.entries == []
    assert parsed.feed.updated_parsed[:3] == (1970, 1, 1)


def test_atom_feed_names_itself_and_its_reader_page_from_the_base_url(
    kaohsiung: FeedMeta,
) -> None:
    feed = ElementTree.fromstring(render("atom", kaohsiung, [news_entry()]))
    links = {link.get("rel"): link.get("href") for link in children(feed, "link")}

    assert feed.findtext(f"{ATOM}id") == "https://news.example.org/agg/feeds/kaohsiung.atom"
    assert links["self"] == "https://news.example.org/agg/feeds/kaohsiung.atom"
    assert links["alternate"] == "https://news.example.org/agg/?category=kaohsiung"
    assert feed.findtext(f"{ATOM}title") == "高雄市政新聞"
    assert feed.findtext(f"{ATOM}subtitle") == "高雄市政府的新聞稿"


def test_rss_channel_links_to_itself_and_its_reader_page(kaohsiung: FeedMeta) -> None:
    channel = ElementTree.fromstring(render("rss", kaohsiung, [news_entry()])).find("channel")
    assert channel is not None

    assert channel.findtext("link") == "https://news.example.org/agg/?category=kaohsiung"
    self_link = channel.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None
    assert self_link.get("href") == "https://news.example.org/agg/feeds/kaohsiung.rss"


def test_the_all_feed_is_titled_for_every_category(config: Config) -> None:
    meta = feed_meta(config, "all", SITE)
    assert meta is not None

    parsed = feedparser.parse(render("atom", meta, [news_entry()]))

    assert "全部" in parsed.feed.title
    assert parsed.feed.link == "https://news.example.org/agg/"


def test_an_unknown_category_has_no_feed(config: Config) -> None:
    assert feed_meta(config, "tainan", SITE) is None


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_every_format_advertises_the_websub_hub(extension: str, kaohsiung: FeedMeta) -> None:
    document = render(extension, kaohsiung, [news_entry()])

    if extension == "json":
        assert json.loads(document)["hubs"] == [
            {"type": "WebSub", "url": "https://hub.example.org/"}
        ]
    else:
        root = ElementTree.fromstring(document)
        hubs = [link.get("href") for link in root.iter(f"{ATOM}link") if link.get("rel") == "hub"]
        assert hubs == ["https://hub.example.org/"]


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_without_a_hub_no_feed_mentions_one(extension: str) -> None:
    meta = feed_meta(load_config(DATA / "feeds" / "no-hub.yaml"), "kaohsiung", SITE)
    assert meta is not None

    document = render(extension, meta, [news_entry()]).decode("utf-8")

    assert 'rel="hub"' not in document
    assert '"hubs"' not in document


# --- provenance ------------------------------------------------------------------------


def test_atom_source_names_the_feed_of_the_report_shown(kaohsiung: FeedMeta) -> None:
    feed = ElementTree.fromstring(render("atom", kaohsiung, [news_entry()]))
    (source,) = children(children(feed, "entry")[0], "source")

    assert source.findtext(f"{ATOM}id") == "https://www.kcg.gov.tw/rss.xml"
    assert source.findtext(f"{ATOM}title") == "高雄市政府新聞稿"
    assert [(link.get("rel"), link.get("href")) for link in children(source, "link")] == [
        ("self", "https://www.kcg.gov.tw/rss.xml")
    ]


def test_atom_links_every_other_report_as_via(kaohsiung: FeedMeta) -> None:
    entry = news_entry(
        reports=(
            report("kaohsiung-news", "高雄市政府新聞稿", "https://www.kcg.gov.tw/news/1"),
            report("kaohsiung-info", "高雄市政府新聞局", "https://kcginfo.kcg.gov.tw/n/7"),
            report("taipei-news", "臺北市政府新聞稿", None),
        )
    )

    feed = ElementTree.fromstring(render("atom", kaohsiung, [entry]))
    links = children(children(feed, "entry")[0], "link")

    assert [
        (link.get("href"), link.get("title")) for link in links if link.get("rel") == "via"
    ] == [
        ("https://kcginfo.kcg.gov.tw/n/7", "高雄市政府新聞局"),
        # No link of its own: the source's feed stands in for it.
        ("https://www.gov.taipei/rss.xml", "臺北市政府新聞稿"),
    ]
    assert [link.get("href") for link in alternate_links(children(feed, "entry")[0])] == [
        "https://www.kcg.gov.tw/news/1"
    ]


def test_rss_item_names_its_source_feed(kaohsiung: FeedMeta) -> None:
    channel = ElementTree.fromstring(render("rss", kaohsiung, [news_entry()])).find("channel")
    assert channel is not None
    source = channel.find("item/source")

    assert source is not None
    assert source.get("url") == "https://www.kcg.gov.tw/rss.xml"
    assert source.text == "高雄市政府新聞稿"


def test_rss_items_name_the_other_sources_that_carried_the_story(kaohsiung: FeedMeta) -> None:
    entry = news_entry(
        reports=(
            report("kaohsiung-news", "高雄市政府新聞稿", "https://www.kcg.gov.tw/news/1"),
            report("kaohsiung-info", "高雄市政府新聞局", "https://kcginfo.kcg.gov.tw/n/7"),
            report("taipei-news", "臺北市政府新聞稿", None),
        )
    )

    (item,) = feedparser.parse(render("rss", kaohsiung, [entry])).entries
    channel = ElementTree.fromstring(render("rss", kaohsiung, [entry])).find("channel")
    assert channel is not None
    via = [
        (link.get("href"), link.get("title"))
        for link in channel.findall(f"item/{ATOM}link")
        if link.get("rel") == "via"
    ]

    assert "亦見於：" in item.content[0].value
    assert '<a href="https://kcginfo.kcg.gov.tw/n/7">高雄市政府新聞局</a>' in item.content[0].value
    assert via == [
        ("https://kcginfo.kcg.gov.tw/n/7", "高雄市政府新聞局"),
        ("https://www.gov.taipei/rss.xml", "臺北市政府新聞稿"),
    ]


def test_an_rss_item_reported_once_names_no_other_source(kaohsiung: FeedMeta) -> None:
    alone = news_entry(
        reports=(report("kaohsiung-news", "高雄市政府新聞稿", "https://www.kcg.gov.tw/news/1"),)
    )
    (item,) = feedparser.parse(render("rss", kaohsiung, [alone])).entries
    assert "亦見於" not in item.content[0].value


def test_json_feed_lists_every_report(kaohsiung: FeedMeta) -> None:
    (item,) = json.loads(render("json", kaohsiung, [news_entry()]))["items"]

    assert [r["source"] for r in item["_sources"]["reports"]] == [
        "kaohsiung-news",
        "kaohsiung-info",
    ]
    assert item["authors"] == [{"name": "高雄市政府新聞稿"}]


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_entries_carry_their_category_titles(extension: str, kaohsiung: FeedMeta) -> None:
    document = render(extension, kaohsiung, [news_entry()]).decode("utf-8")

    assert "高雄市政新聞" in document
