"""The demo's sources that have no RSS, one of each kind: a city's OpenData JSON array, a
county's news list page (each item's own page followed for its full text), and an Atom
feed of CAP alerts, one of them already expired. Dated relative to the demo's start, like
the sample feeds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape

TAIPEI_TIME = timezone(timedelta(hours=8))
# ROC years (民國): what Taiwanese OpenData and list pages write.
ROC_OFFSET = 1911

CATEGORIES = {"tainan": "臺南市政新聞", "hualien": "花蓮縣政新聞", "alerts": "災害示警"}

Document = tuple[str, bytes]  # content type, body


@dataclass(frozen=True, slots=True)
class KindSource:
    id: str
    title: str
    path: str  # on the demo server
    categories: tuple[str, ...]
    options: str  # the source's kind and that kind's keys, as feeds.yaml lines


SOURCES = (
    KindSource("tainan-opendata", "臺南市政府 OpenData", "/tainan/news.json", ("tainan",),
               "    kind: opendata\n"),
    KindSource(
        "hualien-list", "花蓮縣政府新聞稿", "/hualien/News.aspx", ("hualien",),
        "    kind: html\n"
        "    selectors:\n"
        "      item: table.list tbody tr\n"
        "      title: td.title a\n"
        "      link: td.title a\n"
        "      date: td.date\n"
        "    follow: true\n"
        "    content: div.article\n",
    ),
    KindSource(
        "alerts", "災害示警", "/alerts.atom", ("alerts",),
        "    kind: cap\n"
        "    areas:\n"
        "      高雄市: kaohsiung\n"
        "      臺北市: taipei\n",
    ),
)

_TAINAN = (
    (3, "臺南市古蹟夜間開放 延長至晚間九點", "文化局",
     "<p>赤崁樓、安平古堡即日起延長開放至晚間九點，歡迎市民夜訪古都。</p>"),
    (7, "鹽水蜂炮期間 交通管制公告", "交通局",
     "<p>元宵節期間鹽水區實施交通管制，請民眾多加利用接駁車。</p>"),
)
_HUALIEN = (
    (301, 4, "太魯閣峽谷音樂節 本月底登場", "<p>音樂節於太魯閣台地舉行，免費入場。</p>"),
    (300, 9, "縣長視察 193 縣道拓寬工程",
     "<p>縣長今日視察 193 縣道拓寬工程進度，預計年底完工。</p>"),
)


def kind_documents(now: datetime) -> dict[str, Document]:
    """Every document the demo serves for these sources, by path."""
    local = now.astimezone(TAIPEI_TIME)
    documents = {
        "/tainan/news.json": ("application/json; charset=utf-8", _tainan(local)),
        "/hualien/News.aspx": ("text/html; charset=utf-8", _hualien_list(local)),
        "/alerts.atom": ("application/atom+xml; charset=utf-8", _alerts(local)),
    }
    for number, _, title, content in _HUALIEN:
        documents[f"/hualien/News_Content.aspx?s={number}"] = (
            "text/html; charset=utf-8", _hualien_page(title, content))
    return documents


def _roc(moment: datetime) -> str:
    return f"{moment.year - ROC_OFFSET}/{moment:%m/%d %H:%M}"


def _tainan(local: datetime) -> bytes:
    items = [
        {
            "標題": title,
            "連結": f"https://www.tainan.gov.tw/News_Content.aspx?n=13370&s={8123400 + hours}",
            "發布日期": _roc(local - timedelta(hours=hours)),
            "內容": content,
            "發布單位": agency,
        }
        for hours, title, agency, content in _TAINAN
    ]
    return json.dumps(items, ensure_ascii=False, indent=1).encode("utf-8")


def _hualien_list(local: datetime) -> bytes:
    rows = "".join(
        f'<tr><td class="title"><a href="News_Content.aspx?s={number}">{escape(title)}</a></td>'
        f'<td class="date">{(local - timedelta(hours=hours)):%Y/%m/%d}</td></tr>\n'
        for number, hours, title, _ in _HUALIEN
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>花蓮縣政府-新聞稿</title></head>"
        "<body><table class='list'><thead><tr><th>標題</th><th>日期</th></tr></thead>"
        f"<tbody>\n{rows}</tbody></table></body></html>"
    ).encode()


def _hualien_page(title: str, content: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><h2>{escape(title)}</h2><div class='article'>{content}</div></body></html>"
    ).encode()


def _alerts(local: datetime) -> bytes:
    current = _alert("DEMO-KHH", "高雄市 今天停止上班、停止上課", local - timedelta(hours=1),
                     local + timedelta(hours=12), "Severe", "高雄市")
    expired = _alert("DEMO-TPE", "臺北市 昨日停止上班、停止上課", local - timedelta(days=1),
                     local - timedelta(hours=1), "Severe", "臺北市")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">\n'
        "<id>https://demo.invalid/alerts</id><title>災害示警（示範）</title>"
        f"<updated>{local.isoformat()}</updated>\n{current}{expired}</feed>\n"
    ).encode()


def _alert(
    identifier: str, headline: str, sent: datetime, expires: datetime, severity: str, area: str
) -> str:
    return f"""<entry><id>{identifier}</id><title>{headline}</title>
<updated>{sent.isoformat()}</updated>
<link href="https://demo.invalid/alerts/{identifier}.cap"/>
<content type="text/xml"><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>{identifier}</identifier><sent>{sent.isoformat()}</sent><status>Actual</status>
<info><language>zh-TW</language><event>停班停課</event><severity>{severity}</severity>
<expires>{expires.isoformat()}</expires><senderName>行政院人事行政總處</senderName>
<headline>{headline}</headline><description>{headline}。</description>
<area><areaDesc>{area}</areaDesc></area></info></alert></content></entry>
"""
