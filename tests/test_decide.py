"""The decide stage: identity within a source, change detection, duplicate guids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.decide import canonical_url, content_hash, identify, plan_writes, shared_links
from aggregator.models import KnownReport, ParsedEntry, ParsedFeed

FETCHED = datetime(2025, 3, 22, 12, 0, tzinfo=UTC)


def entry(guid: str | None = None, link: str | None = None, title: str = "市政新聞",
          content: str = "<p>內文</p>", published: datetime | None = None,
          updated: datetime | None = None) -> ParsedEntry:
    return ParsedEntry(guid=guid, link=link, title=title, summary=content, content=content,
                       published=published, updated=updated)


def feed(*entries: ParsedEntry) -> ParsedFeed:
    return ParsedFeed(title="高雄市政府", link="https://www.kcg.gov.tw/", entries=entries)


def known_from(plan_feed: ParsedFeed) -> dict[str, KnownReport]:
    plan = plan_writes("kcg", plan_feed, {}, FETCHED)
    return {r.identity: KnownReport(r.identity, r.content_hash, r.published) for r in plan.new}


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://news.example.tw/a?id=1&utm_source=fb&utm_medium=social",
         "https://news.example.tw/a?id=1"),
        ("https://news.example.tw/a?fbclid=XYZ&id=1", "https://news.example.tw/a?id=1"),
        ("HTTPS://News.Example.TW:443/a#comments", "https://news.example.tw/a"),
        ("http://example.tw:8080/a?b=2&a=1", "http://example.tw:8080/a?a=1&b=2"),
        ("https://example.tw", "https://example.tw/"),
    ],
)
def test_canonical_url_drops_what_does_not_name_the_article(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_identity_is_the_guid_when_there_is_one() -> None:
    assert identify(entry(guid="abc", link="https://a.tw/1"), frozenset()) == "guid:abc"


def test_identity_falls_back_to_the_link() -> None:
    assert identify(entry(link="https://a.tw/1?utm_source=x"), frozenset()) == \
        "link:https://a.tw/1"


def test_a_link_shared_by_several_items_does_not_identify_them() -> None:
    items = [entry(link="https://a.tw/", title="甲"), entry(link="https://a.tw/", title="乙")]
    shared = shared_links(items)
    identities = {identify(item, shared) for item in items}
    assert len(identities) == 2
    assert all(identity.startswith("hash:") for identity in identities)


def test_first_poll_plans_every_entry_as_new() -> None:
    plan = plan_writes("kcg", feed(entry(guid="1"), entry(guid="2")), {}, FETCHED)
    assert [r.identity for r in plan.new] == ["guid:1", "guid:2"]
    assert plan.changed == () and plan.unchanged == 0


def test_repolling_an_unchanged_feed_plans_no_writes() -> None:
    same = feed(entry(guid="1"), entry(guid="2"))
    plan = plan_writes("kcg", same, known_from(same), FETCHED)
    assert plan.new == () and plan.changed == () and plan.unchanged == 2


def test_a_changed_title_is_an_update_whose_time_moves() -> None:
    first = feed(entry(guid="1", published=FETCHED - timedelta(hours=2)))
    later = FETCHED + timedelta(hours=1)
    plan = plan_writes("kcg", feed(entry(guid="1", title="市政新聞（更正）",
                                         published=FETCHED - timedelta(hours=2))),
                       known_from(first), later)
    assert [r.identity for r in plan.changed] == ["guid:1"]
    assert plan.changed[0].updated == later


@pytest.mark.parametrize(
    "churned",
    [
        entry(guid="1", content="<p>內文</p>\n\n   "),
        entry(guid="1", content="<p>內文</p>", title="  市政新聞 "),
        entry(guid="1", link="https://a.tw/1?utm_campaign=rss"),
    ],
    ids=["whitespace in content", "whitespace in title", "tracking parameter in link"],
)
def test_cosmetic_churn_is_not_a_change(churned: ParsedEntry) -> None:
    first = feed(entry(guid="1", link="https://a.tw/1" if churned.link else None))
    plan = plan_writes("kcg", feed(churned), known_from(first), FETCHED)
    assert plan.changed == () and plan.unchanged == 1


def test_duplicate_guids_resolve_to_the_newest_item_whatever_the_order() -> None:
    old = entry(guid="1", title="舊", updated=FETCHED - timedelta(days=1))
    new = entry(guid="1", title="新", updated=FETCHED - timedelta(hours=1))
    for items in ((old, new), (new, old)):
        plan = plan_writes("kcg", feed(*items), {}, FETCHED)
        assert [r.title for r in plan.new] == ["新"]


def test_a_flood_of_one_guid_becomes_one_report() -> None:
    flood = feed(*(entry(guid="same", title=f"第{i}則") for i in range(10_000)))
    plan = plan_writes("kcg", flood, {}, FETCHED)
    assert len(plan.new) == 1
    assert plan.new == plan_writes("kcg", flood, {}, FETCHED).new


def test_a_missing_date_is_first_seen_and_stays_so() -> None:
    undated = feed(entry(guid="1"))
    first = plan_writes("kcg", undated, {}, FETCHED)
    assert first.new[0].published == FETCHED
    known = {r.identity: KnownReport(r.identity, "other-hash", r.published) for r in first.new}
    later = plan_writes("kcg", undated, known, FETCHED + timedelta(days=1))
    assert later.changed[0].published == FETCHED


def test_content_hash_ignores_tracking_parameters_inside_content() -> None:
    a = content_hash("t", None, '<a href="https://a.tw/x?utm_source=rss">x</a>')
    b = content_hash("t", None, '<a href="https://a.tw/x">x</a>')
    assert a == b
