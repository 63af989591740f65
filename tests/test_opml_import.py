"""`aggregator opml import FILE`: OPML feeds join feeds.yaml, and the file stays the person's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aggregator.config.load import ConfigError, load_config
from aggregator.config.opml_import import (
    ImportedSource,
    OpmlImportError,
    append_sources,
    sources_from_opml,
)
from aggregator.models import Category, Source

DATA = Path(__file__).parent / "data" / "config"


def opml(name: str) -> list[ImportedSource]:
    return sources_from_opml((DATA / name).read_bytes())


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A commented configuration the import may change."""
    path = tmp_path / "feeds.yaml"
    shutil.copy(DATA / "commented.yaml", path)
    return path


def sources_by_id(path: Path) -> dict[str, Source]:
    return {source.id: source for source in load_config(path, environ={}).sources}


def test_the_feeds_of_an_opml_file_are_read_with_their_folders() -> None:
    assert opml("subscriptions.opml") == [
        ImportedSource(
            id="kcginfo-kcg-gov-tw",
            url="https://kcginfo.kcg.gov.tw/Rss_News.aspx?n=C527413F7300192A",
            title="高雄市政府 新聞局",
            category="高雄市政新聞",
        ),
        ImportedSource(
            id="kaohsiung-city-news",
            url="https://www.kcg.gov.tw/rss.xml",
            title="Kaohsiung City News",
            category="高雄市政新聞",
        ),
        ImportedSource(
            id="tainan-city-government",
            url="https://www.tainan.gov.tw/OpenData.aspx?SN=0C669D9634F511BC",
            title="Tainan City Government",
            category="Tainan",
        ),
        ImportedSource(
            id="tainan-culture-arts",
            url="https://culture.tainan.gov.tw/rss",
            title="Tainan: Culture & Arts",
            category="Tainan",
        ),
        ImportedSource(
            id="feeds-feedburner-com",
            url="https://feeds.feedburner.com/rsscna/local",
            title="中央社地方新聞",
            category=None,
        ),
    ]


def test_a_feed_listed_twice_in_the_opml_is_read_once() -> None:
    xml = b"""<opml version="2.0"><body>
      <outline text="News" xmlUrl="https://news.example.org/rss"/>
      <outline text="News again" xmlUrl="https://NEWS.example.org/rss"/>
    </body></opml>"""
    assert [source.id for source in sources_from_opml(xml)] == ["news"]


def test_feeds_with_the_same_title_get_distinct_ids() -> None:
    xml = b"""<opml version="2.0"><body>
      <outline text="News" xmlUrl="https://a.example.org/rss"/>
      <outline text="News" xmlUrl="https://b.example.org/rss"/>
    </body></opml>"""
    assert [source.id for source in sources_from_opml(xml)] == ["news", "news-2"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "opml-doctype.opml",
            "the OPML file has a DOCTYPE, which is not accepted",
        ),
        (
            "opml-rss-instead.opml",
            "this is not an OPML file: its root element is <rss>",
        ),
        (
            "opml-broken.opml",
            "the OPML file is not well-formed XML: mismatched tag (line 5)",
        ),
        (
            "opml-unpollable.opml",
            "the OPML file lists feeds that cannot be polled:\n"
            "line 4: feed URL 'file:///etc/passwd' is not an http:// or https:// URL\n"
            "line 6: feed URL 'feed://www.kcg.gov.tw/rss.xml' is not an http:// or https:// URL",
        ),
    ],
)
def test_an_unusable_opml_file_is_refused_with_a_reason(name: str, message: str) -> None:
    with pytest.raises(OpmlImportError) as refused:
        opml(name)
    assert str(refused.value) == message


def test_imported_feeds_become_sources_of_the_configuration(config_copy: Path) -> None:
    append_sources(config_copy, opml("subscriptions.opml"))
    sources = sources_by_id(config_copy)
    assert sorted(sources) == [
        "feeds-feedburner-com",
        "kcg-news",
        "kcginfo-kcg-gov-tw",
        "tainan-city-government",
        "tainan-culture-arts",
    ]
    assert sources["tainan-culture-arts"].title == "Tainan: Culture & Arts"
    assert sources["tainan-culture-arts"].url == "https://culture.tainan.gov.tw/rss"


def test_the_import_says_how_many_sources_it_added(config_copy: Path) -> None:
    # Five feeds in the OPML; one of them is already configured.
    assert append_sources(config_copy, opml("subscriptions.opml")) == 4


def test_a_folder_titled_like_an_existing_category_joins_it(config_copy: Path) -> None:
    append_sources(config_copy, opml("subscriptions.opml"))
    assert sources_by_id(config_copy)["kcginfo-kcg-gov-tw"].categories == ("kaohsiung",)


def test_a_folder_matching_no_category_becomes_a_new_category(config_copy: Path) -> None:
    append_sources(config_copy, opml("subscriptions.opml"))
    config = load_config(config_copy, environ={})
    assert config.categories["tainan"] == Category("tainan", "Tainan")
    assert config.sources[-2].categories == ("tainan",)


def test_a_folder_without_latin_letters_gets_a_numbered_category(config_copy: Path) -> None:
    xml = """<opml version="2.0"><body>
      <outline text="農業"><outline text="Farm" xmlUrl="https://farm.example.tw/rss"/></outline>
    </body></opml>""".encode()
    append_sources(config_copy, sources_from_opml(xml))
    config = load_config(config_copy, environ={})
    assert config.categories["category"] == Category("category", "農業")


def test_feeds_outside_any_folder_go_to_the_imported_category(config_copy: Path) -> None:
    append_sources(config_copy, opml("subscriptions.opml"))
    config = load_config(config_copy, environ={})
    assert config.categories["imported"] == Category("imported", "Imported")
    assert sources_by_id(config_copy)["feeds-feedburner-com"].categories == ("imported",)


def test_an_id_already_taken_gets_a_number(config_copy: Path) -> None:
    taken = ImportedSource("kcg-news", "https://kcginfo.kcg.gov.tw/rss", "KCG News", None)
    append_sources(config_copy, [taken])
    assert sources_by_id(config_copy)["kcg-news-2"].url == "https://kcginfo.kcg.gov.tw/rss"


def test_the_configuration_keeps_its_comments_and_layout(config_copy: Path) -> None:
    before = config_copy.read_text(encoding="utf-8").splitlines()
    append_sources(config_copy, opml("subscriptions.opml"))
    after = iter(config_copy.read_text(encoding="utf-8").splitlines())
    # Every original line survives, unchanged and in order; the import only inserts.
    assert all(line in after for line in before)


def test_new_sources_go_at_the_end_of_the_sources_list(config_copy: Path) -> None:
    append_sources(config_copy, opml("subscriptions.opml"))
    lines = config_copy.read_text(encoding="utf-8").splitlines()
    url_lines = [number for number, line in enumerate(lines) if line.startswith("    url: ")]
    assert [lines[number].removeprefix("    url: ") for number in url_lines] == [
        "https://www.kcg.gov.tw/rss.xml",
        "https://kcginfo.kcg.gov.tw/Rss_News.aspx?n=C527413F7300192A",
        "https://www.tainan.gov.tw/OpenData.aspx?SN=0C669D9634F511BC",
        "https://culture.tainan.gov.tw/rss",
        "https://feeds.feedburner.com/rsscna/local",
    ]
    assert url_lines[-1] < lines.index("  # add new sources above this line")


def test_importing_again_adds_nothing_and_leaves_the_file_alone(config_copy: Path) -> None:
    append_sources(config_copy, opml("subscriptions.opml"))
    once = config_copy.read_bytes()
    assert append_sources(config_copy, opml("subscriptions.opml")) == 0
    assert config_copy.read_bytes() == once


def test_windows_line_endings_are_kept(config_copy: Path) -> None:
    config_copy.write_bytes(config_copy.read_bytes().replace(b"\n", b"\r\n"))
    append_sources(config_copy, opml("subscriptions.opml"))
    content = config_copy.read_bytes()
    assert content.count(b"\n") == content.count(b"\r\n")


@pytest.mark.parametrize(
    "layout",
    [
        "layout-flow-sources.yaml",
        "layout-empty-flow-sources.yaml",
        "layout-empty-sources.yaml",
        "layout-no-sources.yaml",
        "layout-indentless-sources.yaml",
        "layout-no-final-newline.yaml",
    ],
)
def test_sources_can_be_added_to_any_layout_of_the_file(tmp_path: Path, layout: str) -> None:
    path = tmp_path / "feeds.yaml"
    shutil.copy(DATA / layout, path)
    append_sources(path, opml("subscriptions.opml"))
    assert {"tainan-city-government", "feeds-feedburner-com"} <= set(sources_by_id(path))


def test_an_invalid_configuration_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    shutil.copy(DATA / "unknown-category.yaml", path)
    with pytest.raises(ConfigError):
        append_sources(path, opml("subscriptions.opml"))
    assert path.read_bytes() == (DATA / "unknown-category.yaml").read_bytes()
