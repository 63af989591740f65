"""Without `base_url`, pages and feeds link to the address they were asked at; forwarded
headers count only from proxies the configuration trusts."""

from __future__ import annotations

import json

import feedparser
import pytest
from flask import Flask

from aggregator.config.load import ConfigError, config_from_text
from aggregator.store import Store
from aggregator.web import create_app

CONFIG = """\
settings:
{settings}
categories:
  kaohsiung:
    title: 高雄市政新聞
sources:
  - id: kcg
    url: https://kcg.example.gov.tw/rss.xml
    categories: [kaohsiung]
"""


def app_with(store: Store, settings: str = "  timezone: Asia/Taipei") -> Flask:
    config = config_from_text(CONFIG.format(settings=settings), "feeds.yaml", environ={})
    return create_app({}, config=config, store=store)


def self_link(body: bytes) -> str:
    parsed = feedparser.parse(body)
    return next(link.href for link in parsed.feed.links if link.rel == "self")


def test_feeds_link_to_the_host_they_were_fetched_from(store: Store) -> None:
    client = app_with(store).test_client()

    atom = client.get("/feeds/kaohsiung.atom", base_url="https://news.example.org")
    json_feed = json.loads(client.get("/feeds/all.json", base_url="http://localhost:8123").data)

    assert self_link(atom.data) == "https://news.example.org/feeds/kaohsiung.atom"
    assert feedparser.parse(atom.data).feed.id == "https://news.example.org/feeds/kaohsiung.atom"
    assert json_feed["feed_url"] == "http://localhost:8123/feeds/all.json"
    assert json_feed["home_page_url"] == "http://localhost:8123/"


def test_a_cached_feed_is_not_served_with_another_hosts_links(store: Store) -> None:
    client = app_with(store).test_client()

    first = client.get("/feeds/kaohsiung.rss", base_url="https://a.example.org")
    second = client.get("/feeds/kaohsiung.rss", base_url="https://b.example.org")

    assert self_link(first.data).startswith("https://a.example.org/")
    assert self_link(second.data).startswith("https://b.example.org/")


def test_the_embed_code_names_the_host_it_was_shown_on(store: Store) -> None:
    client = app_with(store).test_client()

    page = client.get("/?category=kaohsiung", base_url="https://news.example.org").data

    assert "https://news.example.org/embed/kaohsiung" in page.decode("utf-8")


FORWARDED = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}


def test_forwarded_headers_are_ignored_unless_a_proxy_is_trusted(store: Store) -> None:
    client = app_with(store).test_client()

    atom = client.get("/feeds/kaohsiung.atom", base_url="http://10.0.0.5", headers=FORWARDED)

    assert self_link(atom.data) == "http://10.0.0.5/feeds/kaohsiung.atom"


def test_a_trusted_proxy_says_which_address_the_reader_asked_for(store: Store) -> None:
    client = app_with(store, "  trusted_proxies: 1").test_client()
    forwarded = {"X-Forwarded-Host": "news.example.org", "X-Forwarded-Proto": "https"}

    atom = client.get("/feeds/kaohsiung.atom", base_url="http://10.0.0.5", headers=forwarded)

    assert self_link(atom.data) == "https://news.example.org/feeds/kaohsiung.atom"


def test_a_configured_base_url_wins_over_the_request(store: Store) -> None:
    client = app_with(store, "  base_url: https://news.example.org/agg/").test_client()

    atom = client.get("/feeds/kaohsiung.atom", base_url="http://10.0.0.5")

    assert self_link(atom.data) == "https://news.example.org/agg/feeds/kaohsiung.atom"


@pytest.mark.parametrize("proxies", ["-1", "one"])
def test_trusted_proxies_must_be_a_count(proxies: str) -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        config_from_text(CONFIG.format(settings=f"  trusted_proxies: {proxies}"), "f.yaml")


def test_a_websub_hub_needs_a_base_url() -> None:
    with pytest.raises(ConfigError, match="'websub_hub' needs 'base_url'"):
        config_from_text(CONFIG.format(settings="  websub_hub: https://hub.example.org/"), "f.yaml")
