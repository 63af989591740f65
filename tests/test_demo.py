"""The demo's sample feeds tell the truth: each story under its own city, HTML as HTML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.config.load import config_from_text
from aggregator.demo import build_feeds, demo_config
from aggregator.models import ParsedFeed
from aggregator.parse.feed import parse_feed
from aggregator.text.markup import markup_text

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
FEEDS = build_feeds(NOW)  # the RSS and Atom samples by path; test_demo_kinds covers the others
FEED_SOURCES = sorted(path.strip("/").removesuffix(".xml") for path in FEEDS)
CITY_WORDS = {"kaohsiung": ("高雄", "仁武", "旗津"), "taipei": ("臺北", "北市", "台北")}


def parsed(source_id: str) -> ParsedFeed:
    content_type, body = FEEDS[f"/{source_id}.xml"]
    return parse_feed(
        body,
        content_type=content_type,
        url=f"http://127.0.0.1/{source_id}.xml",
        fetched_at=NOW,
        timezone="Asia/Taipei",
    )


@pytest.mark.parametrize("source_id", FEED_SOURCES)
def test_sample_content_is_html_not_escaped_markup(source_id: str) -> None:
    for entry in parsed(source_id).entries:
        assert entry.content.startswith("<"), entry.content
        assert "<p>" not in markup_text(entry.content)
        assert "&lt;p&gt;" not in entry.content


def test_every_sample_source_is_filed_only_under_the_city_its_stories_are_about() -> None:
    config = config_from_text(demo_config("http://127.0.0.1:1"), "feeds.yaml", environ={})
    for source in (s for s in config.sources if s.id in FEED_SOURCES):
        entries = parsed(source.id).entries
        for entry in entries:
            text = entry.title + markup_text(entry.content)
            for category in source.categories:
                assert any(word in text for word in CITY_WORDS[category]), (
                    f"{source.id}: {entry.title!r} is filed under {category}"
                )
