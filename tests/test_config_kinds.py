"""`kind:` in feeds.yaml: what each kind of source needs, and what `aggregator check` says
when a source's keys do not fit its kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.config.load import ConfigError, config_from_text, load_config
from aggregator.models import ListSelectors, OpenDataFields, SourceFormat

HEAD = """\
categories:
  hualien: {title: 花蓮縣政新聞}
  kaohsiung: {title: 高雄市政新聞}
sources:
  - id: source
    url: https://www.hl.gov.tw/News.aspx?n=5
    categories: [hualien]
"""  # the source's own keys follow, from line 8


def source_format(keys: str) -> SourceFormat:
    return config_from_text(HEAD + keys, "feeds.yaml", environ={}).sources[0].format


def problems(keys: str) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        config_from_text(HEAD + keys, "feeds.yaml", environ={})
    return [str(problem) for problem in refused.value.problems]


def test_a_source_without_kind_is_a_feed() -> None:
    assert source_format("") == SourceFormat(kind="feed")


def test_an_html_source_reads_its_selectors_and_follow() -> None:
    assert source_format(
        "    kind: html\n"
        "    selectors:\n"
        "      item: table.list tbody tr\n"
        "      title: td.title a\n"
        "      link: td.title a\n"
        "      date: td.date\n"
        "    follow: true\n"
        "    content: div.article\n"
    ) == SourceFormat(
        kind="html",
        selectors=ListSelectors(
            item="table.list tbody tr", title="td.title a", link="td.title a", date="td.date"
        ),
        follow=True,
        content="div.article",
    )


def test_an_opendata_source_names_its_keys() -> None:
    assert source_format(
        "    kind: opendata\n    fields: {title: 主旨, published: 發布時間, agency: 機關}\n"
    ) == SourceFormat(
        kind="opendata", fields=OpenDataFields(title="主旨", published="發布時間", agency="機關")
    )


def test_a_cap_source_maps_alert_areas_to_categories() -> None:
    assert source_format(
        "    kind: cap\n    areas: {高雄市: kaohsiung, '6400000000': kaohsiung, 花蓮縣: hualien}\n"
    ) == SourceFormat(
        kind="cap",
        areas=(("高雄市", "kaohsiung"), ("6400000000", "kaohsiung"), ("花蓮縣", "hualien")),
    )


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("    kind: htm\n", "feeds.yaml:8: unknown kind 'htm' (did you mean 'html'?)"),
        (
            "    kind: html\n",
            "feeds.yaml:5: a source of kind html is missing 'selectors' (item, title, link)",
        ),
        (
            "    kind: html\n    selectors: {item: tr, title: td a}\n",
            "feeds.yaml:9: 'selectors' is missing 'link'",
        ),
        (
            "    kind: html\n    selectors: {item: tr, title: td a, link: td a, heading: h1}\n",
            "feeds.yaml:9: unknown key 'heading' "
            "(expected one of: date, item, link, summary, title)",
        ),
        (
            "    kind: html\n    selectors: {item: 'tr[[', title: td a, link: td a}\n",
            "feeds.yaml:9: 'item': 'tr[[' is not a valid CSS selector",
        ),
        (
            "    kind: html\n    selectors: {item: tr, title: td a, link: td a}\n"
            "    follow: true\n",
            "feeds.yaml:10: 'follow: true' needs 'content': the selector of the full text on "
            "an item's page",
        ),
        (
            "    selectors: {item: tr, title: td a, link: td a}\n",
            "feeds.yaml:8: 'selectors' is only for sources of kind html, and this one is kind feed",
        ),
        (
            "    kind: opendata\n    follow: false\n",
            "feeds.yaml:9: 'follow' is only for sources of kind html, "
            "and this one is kind opendata",
        ),
        (
            "    kind: cap\n    content: div.article\n",
            "feeds.yaml:9: 'content' is only for sources of kind html, and this one is kind cap",
        ),
        (
            "    kind: html\n    selectors: {item: tr, title: td a, link: td a}\n"
            "    fields: {title: 標題}\n",
            "feeds.yaml:10: 'fields' is only for sources of kind feed or opendata, and this one "
            "is kind html",
        ),
        (
            "    kind: opendata\n    fields: {title: 標題, headline: 主旨}\n",
            "feeds.yaml:9: unknown key 'headline' (expected one of: agency, category, content, "
            "id, link, published, summary, title, updated)",
        ),
        (
            "    kind: opendata\n    fields: {titel: 標題}\n",
            "feeds.yaml:9: unknown key 'titel' (did you mean 'title'?)",
        ),
        (
            "    areas: {高雄市: kaohsiung}\n",
            "feeds.yaml:8: 'areas' is only for sources of kind cap, and this one is kind feed",
        ),
        (
            "    kind: cap\n    areas: {臺南市: tainan}\n",
            "feeds.yaml:9: unknown category 'tainan': add it under 'categories:' "
            "(defined: hualien, kaohsiung)",
        ),
    ],
)
def test_check_names_the_line_and_the_reason_for_each_kind(keys: str, expected: str) -> None:
    assert problems(keys) == [expected]


def test_the_bundled_opendata_and_alert_sources_say_their_kind() -> None:
    config = load_config(Path(__file__).parent.parent / "feeds.yaml", environ={})
    kinds = {source.id: source.format.kind for source in config.sources}
    opendata = [source.id for source in config.sources if "OpenData.aspx" in source.url]
    assert opendata
    assert {kinds[source_id] for source_id in opendata} == {"opendata"}
    assert kinds["ncdr-alerts"] == "cap"
    alerts = next(source for source in config.sources if source.id == "ncdr-alerts")
    assert ("高雄市", "kaohsiung") in alerts.format.areas
