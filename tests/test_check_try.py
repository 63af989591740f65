"""`aggregator check --try ID`: one source fetched once and shown as it would be stored,
or why nothing would be; nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator.cli import main
from tests.feedserver import FeedServer
from tests.fixtures_http import read_data

TAIPEI = ZoneInfo("Asia/Taipei")
CONFIG = """\
settings:
  allow_private_addresses: {allow_private}
categories:
  hualien: {{title: 花蓮縣政新聞}}
  kaohsiung: {{title: 高雄市政新聞}}
  tainan: {{title: 臺南市政新聞}}
  national: {{title: 全國警報}}
sources:
  - id: hualien-news
    url: {base}/News.aspx?n=5
    categories: [hualien]
    kind: html
    selectors:
      item: table.list tbody tr
      title: td.title a
      link: td.title a
      date: td.date
  - id: tainan-news
    url: {base}/OpenData.aspx?SN=0C669D9634F511BC
    categories: [tainan]
    kind: opendata
  - id: alerts
    url: {base}/alert.cap
    categories: [national]
    kind: cap
    areas: {{花蓮縣: hualien, '6400000000': kaohsiung}}
"""


def check_try(
    tmp_path: Path, server: FeedServer, source_id: str, *, allow_private: bool = True
) -> int:
    config = tmp_path / "feeds.yaml"
    text = CONFIG.format(base=server.base_url, allow_private=str(allow_private).lower())
    config.write_text(text, encoding="utf-8")
    return main(["check", "--config", str(config), "--try", source_id])


@pytest.fixture(autouse=True)
def in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default store would be ./aggregator.db: a dry run must not create it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)


def test_a_list_page_shows_each_headline_its_date_and_link(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.serve("/News.aspx", read_data("kinds/hualien_news_list.html"),
                      content_type="text/html")
    assert check_try(tmp_path, feed_server, "hualien-news") == 0
    base = feed_server.base_url
    assert capsys.readouterr().out == (
        f"hualien-news: 3 entries would be stored (kind html, {base}/News.aspx?n=5)\n"
        "\n"
        "2024-03-15 00:00  花蓮縣政府宣布颱風假 明日停班停課 請民眾注意安全並遠離海邊\n"
        f"    {base}/News_Content.aspx?n=5&sms=9&s=301245\n"
        "\n"
        "2024-03-14 00:00  太魯閣峽谷音樂節 三月底登場\n"
        f"    {base}/News_Content.aspx?n=5&sms=9&s=301244\n"
        "\n"
        "2024-03-13 00:00  縣長視察 193 縣道 拓寬工程\n"
        "    https://www.hl.gov.tw/News_Content.aspx?n=5&sms=9&s=301240\n"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "feeds.yaml"]  # nothing written


def test_an_opendata_array_shows_each_entry_with_its_agency(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.serve("/OpenData.aspx", read_data("kinds/tainan_opendata_chinese.json"),
                      content_type="application/json")
    assert check_try(tmp_path, feed_server, "tainan-news") == 0
    out = capsys.readouterr().out
    assert "2024-03-15 14:30  臺南市政府 古蹟夜間開放 延長至晚間九點\n" in out
    assert "    agency: 文化局\n" in out
    assert "    agency: 交通局\n" in out


def test_an_alert_shows_its_severity_expiry_and_the_categories_of_its_areas(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # The dry run reads the clock: an alert in force is one that expires after it.
    expires = (datetime.now(UTC) + timedelta(hours=12)).astimezone(TAIPEI)
    in_force = read_data("kinds/cap_alert.xml").replace(
        b"2024-03-16T20:12:00+08:00", expires.isoformat(timespec="seconds").encode()
    )
    feed_server.serve("/alert.cap", in_force, content_type="application/xml")
    assert check_try(tmp_path, feed_server, "alerts") == 0
    assert capsys.readouterr().out.splitlines()[2:] == [
        "2024-03-16 08:12  地震報告 花蓮縣震度4級",
        "    https://www.cwa.gov.tw/V8/C/E/EQ/EQ113045.html",
        "    agency: 交通部中央氣象署",
        f"    severity: Moderate, expires {expires:%Y-%m-%d %H:%M}",
        "    areas: 花蓮縣, 宜蘭縣 (categories: national, hualien)",
    ]


def test_only_expired_alerts_means_nothing_would_be_stored(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.serve("/alert.cap", read_data("kinds/cap_alert.xml"),
                      content_type="application/xml")
    assert check_try(tmp_path, feed_server, "alerts") == 1
    assert capsys.readouterr().out == (
        "alerts: nothing would be stored: the response holds no alert in force\n"
    )


def test_a_changed_layout_says_which_selector_no_longer_matches(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.serve("/News.aspx", read_data("kinds/hualien_news_redesigned.html"),
                      content_type="text/html")
    assert check_try(tmp_path, feed_server, "hualien-news") == 1
    assert capsys.readouterr().out == (
        "hualien-news: nothing would be stored: the item selector 'table.list tbody tr' "
        "matches nothing on the page: the site has probably changed its layout, so the "
        "source's 'selectors' need updating\n"
    )


def test_a_failed_fetch_says_why(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_try(tmp_path, feed_server, "tainan-news") == 1  # the server has no such page
    out = capsys.readouterr().out
    assert out.startswith("tainan-news: nothing would be stored: ")
    assert "404" in out


def test_the_address_policy_is_obeyed(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.serve("/OpenData.aspx", read_data("kinds/tainan_opendata_chinese.json"),
                      content_type="application/json")
    assert check_try(tmp_path, feed_server, "tainan-news", allow_private=False) == 1
    assert capsys.readouterr().out.startswith("tainan-news: nothing would be stored: ")
    assert feed_server.requests_to("/OpenData.aspx") == []


def test_an_unknown_source_is_refused_naming_the_sources_there_are(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_try(tmp_path, feed_server, "hualien") == 1
    assert capsys.readouterr().err == (
        "aggregator: unknown source 'hualien' (sources: hualien-news, tainan-news, alerts)\n"
    )
