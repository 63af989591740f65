"""The config stage: what `aggregator check` tells a person about their feeds.yaml."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.config.load import ConfigError, load_config, parse_interval
from aggregator.models import Category, Settings, Source, Watch

CONFIGS = Path(__file__).parent / "data" / "config"
BUNDLED = Path(__file__).parent.parent / "feeds.yaml"
SLUG_RULE = "use lowercase letters a-z, digits and hyphens, starting with a letter or digit"


def problems_in(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        load_config(path, environ={})
    return [str(problem) for problem in refused.value.problems]


@pytest.mark.parametrize(
    ("name", "line", "reason"),
    [
        (
            "syntax-error",
            7,
            "invalid YAML: expected ',' or ']', but got ':'"
            " (while parsing a flow sequence that starts on line 6)",
        ),
        ("unknown-key", 2, "unknown key 'intrval' (did you mean 'interval'?)"),
        ("duplicate-key", 7, "duplicate key 'url' (first on line 5)"),
        ("wrong-type", 7, "'priority' must be a whole number, not 'high'"),
        (
            "sources-not-a-list",
            4,
            "'sources' must be a list (items starting with '- '), not a mapping",
        ),
        ("missing-id", 4, "a source is missing 'id'"),
        ("missing-url", 4, "a source is missing 'url'"),
        ("missing-categories", 4, "a source is missing 'categories'"),
        ("empty-category-list", 6, "a source needs at least one category"),
        ("duplicate-source-id", 7, "duplicate source id 'kcg-news' (first on line 4)"),
        (
            "duplicate-source-url",
            8,
            "duplicate source URL 'https://WWW.KCG.GOV.TW/rss.xml' (source 'kcg-news' on line 5)",
        ),
        (
            "non-http-url",
            5,
            "'url' must be an http:// or https:// URL, not 'ftp://www.kcg.gov.tw/rss.xml'",
        ),
        ("bad-source-id", 4, f"'id' must be a slug ({SLUG_RULE}), not 'KCG_News'"),
        ("bad-category-slug", 3, f"category 'Taipei City' is not a slug: {SLUG_RULE}"),
        ("unknown-category", 6, "unknown category 'kaoshiung' (did you mean 'kaohsiung'?)"),
        (
            "unknown-watch-category",
            10,
            "unknown category 'tainan': add it under 'categories:' (defined: kaohsiung)",
        ),
        (
            "bad-interval",
            7,
            "'15x' is not an interval: write a number with a unit s, m or h,"
            " such as 90s, 15m, 2h or 1h30m",
        ),
        ("short-interval", 2, "interval '10s' is too short: the minimum is 30s"),
        ("interval-without-unit", 7, "interval 90 has no unit: write it as 90s, 15m or 2h"),
        ("unknown-timezone", 2, "unknown time zone 'Asia/Taipai' (did you mean 'Asia/Taipei'?)"),
        ("bad-retention", 2, "'retention_days' must be a positive whole number, not 0"),
        ("duplicate-watch-name", 10, "duplicate watch name 'typhoon' (first on line 8)"),
        ("empty-watch-query", 9, "watch 'typhoon' has an empty query"),
        ("bad-watch-query", 9, "watch 'typhoon': OR at column 4 needs a term after it"),
        (
            "bad-base-url",
            2,
            "'base_url' must be an http:// or https:// URL, not 'news.example.org'",
        ),
        ("empty", 1, "the file is empty: it needs 'categories:' and 'sources:'"),
        (
            "big5",
            2,
            "the file is not UTF-8 text: save it as UTF-8 (Big5 and others are not read)",
        ),
    ],
)
def test_a_bad_file_is_refused_with_the_line_and_a_reason(
    name: str, line: int, reason: str
) -> None:
    path = CONFIGS / f"{name}.yaml"
    assert problems_in(path) == [f"{path}:{line}: {reason}"]


def test_every_problem_in_a_file_is_reported_in_line_order() -> None:
    path = CONFIGS / "three-problems.yaml"
    assert problems_in(path) == [
        f"{path}:3: unknown key 'timezon' (did you mean 'timezone'?)",
        f"{path}:10: 'enabled' must be true or false, not 'sometimes'",
        f"{path}:13: unknown category 'tainan': add it under 'categories:' (defined: kaohsiung)",
    ]


def test_the_error_message_lists_every_problem_one_per_line() -> None:
    path = CONFIGS / "three-problems.yaml"
    with pytest.raises(ConfigError) as refused:
        load_config(path, environ={})
    assert str(refused.value).splitlines() == problems_in(path)


def test_a_missing_file_is_refused_saying_it_does_not_exist(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    assert problems_in(path) == [f"{path}:1: the file does not exist"]


def test_settings_left_out_take_their_defaults() -> None:
    config = load_config(CONFIGS / "minimal.yaml", environ={})
    assert config.settings == Settings(
        interval=timedelta(minutes=15),
        timezone="Asia/Taipei",
        base_url=None,
        trusted_proxies=0,
        allow_private_addresses=False,
        retention_days=365,
        websub_hub=None,
    )


def test_a_source_inherits_interval_and_timezone_from_settings() -> None:
    config = load_config(CONFIGS / "overrides.yaml", environ={})
    assert config.sources[0] == Source(
        id="kcg-news",
        url="https://www.kcg.gov.tw/rss.xml",
        categories=("kaohsiung",),
        interval=timedelta(hours=1, minutes=30),
        timezone="UTC",
        title=None,
        enabled=True,
        priority=0,
    )


def test_a_source_can_set_every_optional_field() -> None:
    config = load_config(CONFIGS / "overrides.yaml", environ={})
    assert config.sources[1] == Source(
        id="kcg-alerts",
        url="https://www.kcg.gov.tw/alerts.xml",
        categories=("kaohsiung",),
        interval=timedelta(seconds=90),
        timezone="Asia/Tokyo",
        title="高雄警報",
        enabled=False,
        priority=10,
    )


def test_settings_given_in_the_file_are_used() -> None:
    config = load_config(CONFIGS / "overrides.yaml", environ={})
    assert config.settings == Settings(
        interval=timedelta(hours=1, minutes=30),
        timezone="UTC",
        base_url="https://news.example.org/aggregator",
        allow_private_addresses=True,
        retention_days=30,
        websub_hub="https://pubsubhubbub.appspot.com/",
    )


def test_categories_and_watches_are_read_in_full() -> None:
    config = load_config(CONFIGS / "overrides.yaml", environ={})
    assert dict(config.categories) == {
        "kaohsiung": Category("kaohsiung", "高雄市政新聞", "高雄市政府的新聞稿")
    }
    assert config.watches == (
        Watch(
            name="typhoon",
            query="颱風 OR 停班停課",
            categories=("kaohsiung",),
            webhook="https://hooks.example.org/typhoon",
        ),
    )


def test_the_config_remembers_the_file_it_came_from() -> None:
    path = CONFIGS / "minimal.yaml"
    assert load_config(path, environ={}).path == str(path)


@pytest.mark.parametrize(("value", "allowed"), [("1", True), ("0", False), ("", False)])
def test_the_environment_can_allow_private_addresses(value: str, allowed: bool) -> None:
    config = load_config(CONFIGS / "minimal.yaml", environ={"AGGREGATOR_ALLOW_PRIVATE": value})
    assert config.settings.allow_private_addresses is allowed


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 5m ", timedelta(minutes=5)),
    ],
)
def test_an_interval_is_a_number_with_a_unit(text: str, interval: timedelta) -> None:
    assert parse_interval(text) == interval


@pytest.mark.parametrize("text", ["", "15", "m", "15 m", "1.5h", "30m1h", "15min", "-5m"])
def test_an_interval_without_a_clear_unit_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not an interval"):
        parse_interval(text)


def test_the_bundled_feeds_yaml_is_valid() -> None:
    config = load_config(BUNDLED, environ={})
    assert {"taipei", "kaohsiung", "taoyuan", "taichung", "tainan", "national"} <= set(
        config.categories
    )


def test_the_bundled_government_sources_win_merges() -> None:
    config = load_config(BUNDLED, environ={})
    government = [source for source in config.sources if ".gov.tw" in source.url]
    assert government
    assert all(source.priority == 10 for source in government)


@pytest.mark.parametrize(
    "url", ["www.kcg.gov.tw/rss.xml", "https://", "http://[::1", "javascript:alert(1)"]
)
def test_a_source_url_must_be_a_web_address(tmp_path: Path, url: str) -> None:
    path = tmp_path / "feeds.yaml"
    text = (CONFIGS / "minimal.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("https://www.kcg.gov.tw/rss.xml", url), encoding="utf-8")
    assert problems_in(path) == [f"{path}:5: 'url' must be an http:// or https:// URL, not {url!r}"]


def test_absurdly_deep_nesting_is_refused_not_crashed_on(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("sources: " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    assert problems_in(path) == [f"{path}:1: invalid YAML: nested too deeply"]
