"""Generated feeds: random RSS, Atom and JSON Feed documents (structure, encodings, dates,
sizes, nested and broken HTML, odd URLs, duplicate ids) through parse → decide → store →
render. Whatever the document, either the parser refuses it with a ParseError or: no other
exception escapes, every output feed is well-formed, and polling it again writes nothing.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.decide import plan_writes
from aggregator.dedupe import fingerprint_reports
from aggregator.models import EntryQuery, ParsedFeed, PollOutcome
from aggregator.parse.feed import ParseError, parse_feed
from aggregator.render import FORMATS, FeedMeta
from aggregator.store import Store
from tests.storedata import source

FEED_URL = "http://127.0.0.1:9/feed"
META = FeedMeta(
    category="all",
    title="全部",
    description="generated",
    base_url="http://127.0.0.1:8000",
    category_titles={"news": "新聞"},
    source_urls={},
)
# No example database: a run leaves nothing in the working tree, and examples stay few.
GENERATED = settings(
    database=None,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)

texts = st.text(max_size=40) | st.sampled_from(
    ["颱風停班停課", "高雄市政新聞", "", " ", "\x00", "\ufffe", "A & B < C", "]]>"]
)
long_texts = st.builds(lambda text, times: text * times, texts, st.integers(0, 3_000))
tags = st.sampled_from(["p", "div", "a", "b", "table", "tr", "td", "ul", "li", "script",
                        "style", "iframe", "img", "svg", "math", "template", "blink"])
attributes = st.sampled_from([
    "", ' href="javascript:alert(1)"', " onclick=\"alert(1)\"", ' src="x"', " onerror=alert(1)",
    ' href="/relative"', ' href="http://[::1"', ' style="color:red"', " href=' vbscript:x'",
])
broken = st.sampled_from(["<p", "</div>", "<a href=", "&amp", "&#0;", "&#xD800;", "<![CDATA[",
                          "<!--", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                          "<svg><script>alert(1)</script></svg>", "<<>>", "&nbsp;&#x4E2D;"])
html = st.recursive(
    texts.map(escape) | broken,
    lambda inner: st.builds(
        lambda tag, attribute, children, closed: f"<{tag}{attribute}>{''.join(children)}"
        + (f"</{tag}>" if closed else ""),
        tags, attributes, st.lists(inner, max_size=4), st.booleans(),
    ),
    max_leaves=20,
)
urls = texts | st.sampled_from([
    "https://www.kcg.gov.tw/News.aspx?n=1&utm_source=x", "/relative/path", "javascript:alert(1)",
    "http://[not-an-address]/", "http://例子.測試/新聞", "https://a.example/" + "x" * 3000,
    "data:text/html,<script>alert(1)</script>", "//protocol-relative.example/", "mailto:a@b",
])
zones = st.integers(-20 * 60, 20 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                       timezones=zones)
dates = (
    moments.map(format_datetime)
    | moments.map(datetime.isoformat)
    | texts
    | st.sampled_from(["Mon, 01 Jan 0001 00:00:00 +0000", "114/03/22 下午 02:05:00",
                       "2025-02-30T10:00:00Z", "9999-12-31T23:59:59-14:00", "0", "-1"])
)
guids = st.none() | st.sampled_from(["a", "a ", "b"]) | texts  # a few shared: duplicate ids
entries = st.fixed_dictionaries({
    "title": texts | long_texts, "link": st.none() | urls, "guid": guids,
    "content": st.none() | html, "summary": st.none() | html, "date": st.none() | dates,
})
encodings = st.sampled_from(["utf-8", "utf-16", "big5", "iso-8859-1", "windows-1252"])


def rss(items: list[dict[str, str | None]], encoding: str) -> bytes:
    body = "".join(
        "<item>" + _element("title", item["title"]) + _element("link", item["link"])
        + _element("guid", item["guid"]) + _element("description", item["summary"])
        + _element("content:encoded", item["content"]) + _element("pubDate", item["date"])
        + "</item>"
        for item in items
    )
    return _xml(
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>生成</title><link>{FEED_URL}</link>{body}</channel></rss>",
        encoding,
    )


def atom(items: list[dict[str, str | None]], encoding: str) -> bytes:
    body = "".join(
        "<entry>" + _element("id", item["guid"]) + _element("title", item["title"])
        + (f"<link href={quoteattr(item['link'])}/>" if item["link"] is not None else "")
        + _element("summary", item["summary"], ' type="html"')
        + _element("content", item["content"], ' type="html"')
        + _element("published", item["date"]) + _element("updated", item["date"])
        + "</entry>"
        for item in items
    )
    return _xml(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>生成</title>'
        f"<id>{FEED_URL}</id>{body}</feed>",
        encoding,
    )


def json_feed(items: list[dict[str, str | None]], encoding: str) -> bytes:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "生成",
        "items": [
            {"id": item["guid"], "url": item["link"], "title": item["title"],
             "content_html": item["content"], "summary": item["summary"],
             "date_published": item["date"]}
            for item in items
        ],
    }
    return json.dumps(document, ensure_ascii=encoding != "utf-8").encode("utf-8")


def _element(name: str, value: str | None, attributes: str = "") -> str:
    return "" if value is None else f"<{name}{attributes}>{escape(value)}</{name}>"


def _xml(document: str, encoding: str) -> bytes:
    return (f'<?xml version="1.0" encoding="{encoding}"?>' + document).encode(
        encoding, errors="xmlcharrefreplace"
    )


documents = st.builds(
    lambda build, items, encoding: build(items, encoding),
    st.sampled_from([rss, atom, json_feed]),
    st.lists(entries, max_size=8),
    encodings,
)
_SOURCE_IDS = (f"gen-{number}" for number in itertools.count())


@GENERATED
@given(body=documents, content_type=st.sampled_from(
    [None, "application/xml", "application/rss+xml; charset=big5", "application/json"]))
def test_a_generated_feed_is_refused_or_stored_served_well_formed_and_stored_once(
    store: Store, body: bytes, content_type: str | None
) -> None:
    source_id = next(_SOURCE_IDS)
    store.sync_sources([source(source_id)], datetime.now(UTC))
    fetched_at = datetime.now(UTC)
    try:
        feed = parse_feed(body, content_type=content_type, url=FEED_URL, fetched_at=fetched_at,
                          timezone="Asia/Taipei")
    except ParseError:
        return
    poll(store, source_id, feed, fetched_at)

    stored = store.entries(EntryQuery(source=source_id, limit=200)).entries
    for output in FORMATS.values():
        rendered = output.render(META, stored)
        if output.extension == "json":
            json.loads(rendered)
        else:
            ElementTree.fromstring(rendered)

    again = plan_writes(source_id, feed, store.known_reports(source_id),
                        fetched_at + timedelta(minutes=15))
    assert (again.new, again.changed) == ((), ())


def poll(store: Store, source_id: str, feed: ParsedFeed, fetched_at: datetime) -> None:
    plan = plan_writes(source_id, feed, store.known_reports(source_id), fetched_at)
    plan = replace(plan, fingerprints=fingerprint_reports(plan.new, frozenset()))
    store.apply_poll(PollOutcome(source_id=source_id, attempted_at=fetched_at, status="ok",
                                 elapsed_ms=1, next_poll=fetched_at + timedelta(minutes=15),
                                 plan=plan))
