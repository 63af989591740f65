"""parse_date reads the dates Taiwanese sources really publish, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.parse.dates import has_time_of_day, parse_date

NOW = datetime(2025, 6, 1, tzinfo=UTC)
TAIPEI = "Asia/Taipei"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # RFC 822 / 2822
        ("Sat, 22 Mar 2025 10:00:00 +0800", utc(2025, 3, 22, 2)),
        ("Sat, 22 Mar 2025 02:00:00 GMT", utc(2025, 3, 22, 2)),
        ("22 Mar 2025 10:00:00 +0800", utc(2025, 3, 22, 2)),
        ("Saturday, 22 March 2025 10:00 +0800", utc(2025, 3, 22, 2)),
        ("Sat, 22 Mar 2025 10:00:00 +0800 (CST)", utc(2025, 3, 22, 2)),
        ("Sat, 22 Mar 25 10:00 GMT", utc(2025, 3, 22, 10)),
        # RFC 3339 / ISO 8601
        ("2025-03-22T10:00:00+08:00", utc(2025, 3, 22, 2)),
        ("2025-03-22T02:00:00Z", utc(2025, 3, 22, 2)),
        ("2025-03-22T02:00:00.250Z", datetime(2025, 3, 22, 2, 0, 0, 250_000, tzinfo=UTC)),
        ("2025-03-22T10:00:00", utc(2025, 3, 22, 2)),
        ("2025-03-22", utc(2025, 3, 21, 16)),
        # Chinese morning/afternoon markers
        ("2025/3/22 上午 10:00:00", utc(2025, 3, 22, 2)),
        ("2025/3/22 下午 02:05:00", utc(2025, 3, 22, 6, 5)),
        ("2025/3/22 上午 12:30:00", utc(2025, 3, 21, 16, 30)),
        ("2025/3/22 下午 12:30:00", utc(2025, 3, 22, 4, 30)),
        # Numeric, year first
        ("2025/03/22", utc(2025, 3, 21, 16)),
        ("2025-03-22 10:00", utc(2025, 3, 22, 2)),
        ("2025/3/22 10:00:00", utc(2025, 3, 22, 2)),
        # ROC calendar
        ("114/03/22", utc(2025, 3, 21, 16)),
        ("114/3/22 14:30", utc(2025, 3, 22, 6, 30)),
        ("114-03-22", utc(2025, 3, 21, 16)),
        ("民國114年3月22日", utc(2025, 3, 21, 16)),
        ("114年3月22日 下午3時", utc(2025, 3, 22, 7)),
        ("114年3月22日 15時30分", utc(2025, 3, 22, 7, 30)),
        # Chinese Gregorian, with full-width digits and a weekday
        ("2025年3月22日", utc(2025, 3, 21, 16)),
        ("２０２５年３月２２日（星期六）", utc(2025, 3, 21, 16)),
        # Year last: month first, unless the first number cannot be a month
        ("3/22/2025", utc(2025, 3, 21, 16)),
        ("3/22/2025 10:00:00 AM", utc(2025, 3, 22, 2)),
        ("3/22/2025 2:05:00 PM", utc(2025, 3, 22, 6, 5)),
        ("22/3/2025", utc(2025, 3, 21, 16)),
        ("Mar 22, 2025", utc(2025, 3, 21, 16)),
        # Zones
        ("Sat, 22 Mar 2025 10:00:00 CST", utc(2025, 3, 22, 2)),
        ("2025/3/22 10:00 +08:00", utc(2025, 3, 22, 2)),
        ("2025/3/22 10:00 UTC+8", utc(2025, 3, 22, 2)),
        ("2025/3/22 02:00 UTC", utc(2025, 3, 22, 2)),
    ],
)
def test_reads_the_formats_sources_publish(text: str, expected: datetime) -> None:
    assert parse_date(text, timezone=TAIPEI, now=NOW) == expected


def test_a_date_without_a_zone_is_in_the_sources_timezone() -> None:
    assert parse_date("2025/3/22 10:00", timezone="Europe/London", now=NOW) == utc(2025, 3, 22, 10)


def test_cst_is_taiwan_time_not_us_central() -> None:
    assert parse_date("22 Mar 2025 10:00 CST", timezone="UTC", now=NOW) == utc(2025, 3, 22, 2)


def test_a_date_less_than_a_day_ahead_is_clamped_to_now() -> None:
    assert parse_date("2025-06-01T20:00:00Z", timezone=TAIPEI, now=NOW) == NOW


@pytest.mark.parametrize(
    "text",
    [
        "Mon, 01 Jan 0001 00:00:00 +0000",  # Go's zero time
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+05:00",  # before the first representable instant in UTC
        "9999-12-31T23:59:59-05:00",  # after the last
        "9999-12-31T23:59:59Z",
        "2099-01-01T00:00:00Z",  # far future
        "2025-06-02T01:00:00Z",  # more than a day ahead of the fetch
        "Thu, 01 Jan 1970 00:00:00 GMT",  # the Unix epoch: a placeholder
        "1969-07-20T20:17:00Z",
        "1989-12-31T23:59:59Z",
        "2025-03-22T10:00:00+15:00",  # no zone is 15 hours from UTC
        "2025-03-22T10:00:00-23:59",
        "Sat, 22 Mar 2025 10:00:00 +1800",
        "2025-02-30T10:00:00Z",  # fields out of range
        "2025-03-22T24:61:00Z",
        "Sat, 22 Mar 99999 10:00:00 GMT",
    ],
)
def test_a_date_outside_the_usable_bounds_is_no_date(text: str) -> None:
    assert parse_date(text, timezone=TAIPEI, now=NOW) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-01-01T00:00:00Z", datetime(1990, 1, 1, tzinfo=UTC)),
        ("2025-03-22T10:00:00+14:00", datetime(2025, 3, 21, 20, tzinfo=UTC)),
        ("2025-03-22T10:00:00-12:00", datetime(2025, 3, 22, 22, tzinfo=UTC)),
    ],
)
def test_a_date_at_the_edge_of_the_bounds_is_used(text: str, expected: datetime) -> None:
    assert parse_date(text, timezone=TAIPEI, now=NOW) == expected


def test_the_result_is_aware_utc() -> None:
    parsed = parse_date("114/3/22 14:30", timezone=TAIPEI, now=NOW)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "近期公告",
        "yesterday",
        "2025/13/40",
        "114/02/30",
        "2025-03-22 25:00",
        "0001-01-01T00:00:00",
        "Sat, 22 Foo 2025 10:00:00 +0800",
        "2025/3/22 10:00 +9900",
        "999/3/22",
        "12345",
        "2025/3/22 " + " " * 10_000 + "10:00",
    ],
)
def test_anything_else_is_none(text: str) -> None:
    assert parse_date(text, timezone=TAIPEI, now=NOW) is None


@pytest.mark.parametrize(
    "text",
    [
        "114/03/16",
        "114/3/16",
        "2025-03-16",
        "2025/3/16",
        "民國114年3月16日",
        "16 Mar 2025",
        "3/16/2025",
    ],
)
def test_a_day_without_a_time_is_told_apart(text: str) -> None:
    assert not has_time_of_day(text)
    # Read as that day's midnight in the source's zone, shown as a date.
    assert parse_date(text, timezone=TAIPEI, now=NOW) == utc(2025, 3, 15, 16)


@pytest.mark.parametrize(
    "text",
    [
        "114/03/16 14:30",
        "2025-03-16T00:00:00+08:00",
        "2025-03-16 00:00",
        "Sun, 16 Mar 2025 00:00:00 +0800",
        "2025/3/16 下午 02:05:00",
        "民國114年3月16日 14時",
        "not a date",
    ],
)
def test_a_date_with_a_time_even_midnight_has_one(text: str) -> None:
    assert has_time_of_day(text)
