"""Reading the dates that news sources actually publish.

Taiwanese government feeds rarely follow RFC 822: they write ROC-calendar years
(`114/03/22`), Chinese AM/PM markers (`2025/3/22 下午 02:05:00`), `民國114年3月22日`,
US month-first dates and `CST` meaning Taiwan time. `parse_date` reads all of
these, and anything it cannot read gives None rather than a guess.

A date read is usable only between EARLIEST_USABLE (1990: no news source here publishes
older items, and placeholder dates such as Go's zero time `0001-01-01` or the Unix epoch
fall before it) and a day after the time of the fetch (clock skew and zone mistakes; a
date within that day is taken as the fetch time). Offsets beyond ±14 hours exist in no
time zone. Anything outside these bounds is "no usable date" (None): the entry is dated
when first seen, so merge windows, retention, ordering and every output format only ever
see dates a calendar can hold with room to spare.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_offset
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["EARLIEST_USABLE", "FUTURE_TOLERANCE", "has_time_of_day", "parse_date"]

EARLIEST_USABLE = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
_WIDEST_OFFSET = timedelta(hours=14)  # UTC+14 (Kiribati) and UTC-12 are the extremes

# RFC 822 zone names. CST is China/Taiwan Standard Time for our sources, never
# US Central: a Taiwanese site writing "CST" means +0800.
_ZONE_OFFSETS_HOURS = {
    "Z": 0,
    "UT": 0,
    "UTC": 0,
    "GMT": 0,
    "CST": 8,
    "EST": -5,
    "EDT": -4,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
}

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

_MORNING = frozenset({"上午", "早上", "凌晨", "AM"})  # the rest (下午 中午 晚上 PM) are afternoon
_MERIDIEM = r"上午|早上|凌晨|下午|中午|晚上|[AaPp]\.?[Mm]\.?"

_WEEKDAY_NAME = re.compile(
    r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s*|"
    r"\(?(?:星期|週|周|禮拜|礼拜)[一二三四五六日天]\)?|\([一二三四五六日天]\)",
    re.IGNORECASE,
)
# An RFC 2822 comment such as "(CST)" after the offset: informational only.
_TRAILING_COMMENT = re.compile(r"\s+\([A-Za-z ]+\)$")
# A numeric offset counts only after whitespace, a UTC/GMT prefix or a time of
# day, so that the "-22" ending "2025-03-22" is never read as a zone.
_TRAILING_ZONE = re.compile(
    r"(?:\s+|(?<=\d:\d\d))"
    r"(?:(?P<name>[A-Za-z]{1,3})"
    r"|(?P<prefix>UTC|GMT)?\s*(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?)$"
    r"|(?P<glued_prefix>UTC|GMT)(?P<glued_sign>[+-])(?P<glued_hours>\d{1,2})"
    r"(?::?(?P<glued_minutes>\d{2}))?$"
)

_TIME = (
    rf"(?:(?P<meridiem_before>{_MERIDIEM})\s*)?"
    r"(?P<hour>\d{1,2})\s*"
    r"(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>[.,]\d+)?)?"
    r"|[時时點点](?:\s*(?P<cjk_minute>\d{1,2})\s*分(?:\s*(?P<cjk_second>\d{1,2})\s*秒)?)?)"
    rf"\s*(?P<meridiem_after>{_MERIDIEM})?"
)
_OPTIONAL_TIME = rf"(?:(?:\s*[T,]?\s*){_TIME})?"

_NUMERIC_DATE = re.compile(
    rf"(?P<first>\d{{1,4}})(?P<sep>[/.-])(?P<second_part>\d{{1,2}})(?P=sep)(?P<last>\d{{1,4}})"
    rf"{_OPTIONAL_TIME}"
)
_CJK_DATE = re.compile(
    r"(?P<roc>民國|民国)?\s*(?P<year>\d{2,4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})"
    rf"\s*[日號号]{_OPTIONAL_TIME}"
)
_DAY_MONTH_NAME_DATE = re.compile(
    r"(?P<day>\d{1,2})[\s-]+(?P<month_name>[A-Za-z]{3,9})\.?[\s-]+(?P<year>\d{2,4})"
    rf"{_OPTIONAL_TIME}"
)
_MONTH_NAME_FIRST_DATE = re.compile(
    r"(?P<month_name>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})"
    rf"{_OPTIONAL_TIME}"
)

_LONGEST_DATE = 100  # characters; anything longer is not a date, and is not worth scanning
_ROC_EPOCH = 1911
_LATEST_ROC_YEAR = 200


def parse_date(text: str, *, timezone: str, now: datetime) -> datetime | None:
    """Read a published date; aware UTC, never later than `now`, None when unreadable or
    outside the usable bounds (see the module's docstring).

    A date without a zone is in `timezone` (an IANA name such as "Asia/Taipei").
    """
    if len(text) > _LONGEST_DATE:
        return None
    cleaned = _normalise(text)
    if not cleaned:
        return None
    try:
        read = _read(cleaned)
        if read is None:
            return None
        local = read[0]
        if local.tzinfo is None:
            local = local.replace(tzinfo=_zone(timezone))
        offset = local.utcoffset()
        if offset is not None and abs(offset) > _WIDEST_OFFSET:
            return None
        utc, now_utc = local.astimezone(UTC), now.astimezone(UTC)
        if not EARLIEST_USABLE <= utc <= now_utc + FUTURE_TOLERANCE:
            return None
        return min(utc, now_utc)
    except (ValueError, OverflowError):
        # Out-of-range fields (month 13, 25 o'clock, year 0) are unreadable dates.
        return None


def has_time_of_day(text: str) -> bool:
    """Whether a date `parse_date` reads gives a time of day: False for a day alone
    (`114/03/16`, `2025-03-16`, `民國114年3月16日`), which `parse_date` reads as that day's
    midnight in the source's zone and pages show as a date. True for anything else."""
    if len(text) > _LONGEST_DATE:
        return True
    try:
        read = _read(_normalise(text))
    except (ValueError, OverflowError):
        return True
    return True if read is None else read[1]


def _normalise(text: str) -> str:
    # NFKC folds full-width digits, colons, slashes and parentheses to ASCII.
    folded = unicodedata.normalize("NFKC", text)
    without_weekday = _WEEKDAY_NAME.sub(" ", folded.strip())
    return " ".join(without_weekday.split())


def _read(text: str) -> tuple[datetime, bool] | None:
    """The moment `text` gives (naive when it names no zone), and whether it has a time."""
    iso = _from_iso(text)
    if iso is not None:
        return iso
    rest, zone = _split_zone(_TRAILING_COMMENT.sub("", text))
    read = _from_iso(rest) or _from_patterns(rest)
    if read is None or zone is None:
        return read
    return read[0].replace(tzinfo=zone), True


def _from_iso(text: str) -> tuple[datetime, bool] | None:
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return moment, not _ISO_DAY.fullmatch(text)


_ISO_DAY = re.compile(r"\d{4}-?\d\d-?\d\d")


def _split_zone(text: str) -> tuple[str, tzinfo | None]:
    match = _TRAILING_ZONE.search(text)
    if match is None:
        return text, None
    name = match["name"]
    if name is not None:
        hours = _ZONE_OFFSETS_HOURS.get(name.upper())
        if hours is None:
            return text, None
        return text[: match.start()], fixed_offset(timedelta(hours=hours))
    sign = match["sign"] or match["glued_sign"]
    hours_text = match["hours"] or match["glued_hours"]
    minutes_text = match["minutes"] or match["glued_minutes"] or "0"
    offset = timedelta(hours=int(hours_text), minutes=int(minutes_text))
    if offset >= timedelta(hours=24):
        return text, None
    return text[: match.start()], fixed_offset(-offset if sign == "-" else offset)


def _from_patterns(text: str) -> tuple[datetime, bool] | None:
    match = _NUMERIC_DATE.fullmatch(text)
    if match is not None:
        ymd = _numeric_year_month_day(match["first"], match["second_part"], match["last"])
        return None if ymd is None else _combine(*ymd, match)
    match = _CJK_DATE.fullmatch(text)
    if match is not None:
        year = _cjk_year(match["year"], explicit_roc=match["roc"] is not None)
        if year is None:
            return None
        return _combine(year, int(match["month"]), int(match["day"]), match)
    match = _DAY_MONTH_NAME_DATE.fullmatch(text) or _MONTH_NAME_FIRST_DATE.fullmatch(text)
    if match is not None:
        month = _month_number(match["month_name"])
        year = _english_year(match["year"])
        if month is None or year is None:
            return None
        return _combine(year, month, int(match["day"]), match)
    return None


def _numeric_year_month_day(first: str, middle: str, last: str) -> tuple[int, int, int] | None:
    if len(last) == 4:
        # Year last: month first as in the US (3/22/2025), unless the first
        # number cannot be a month, then day first (22/3/2025).
        if int(first) > 12:
            return int(last), int(middle), int(first)
        return int(last), int(first), int(middle)
    if len(first) == 4:
        return int(first), int(middle), int(last)
    year = _roc_year(first)
    return None if year is None else (year, int(middle), int(last))


def _roc_year(digits: str) -> int | None:
    # ROC (Minguo) years count from 1912 = year 1, so 114 is 2025. A year written
    # with two or three digits and no larger than 200 can only be an ROC year in
    # these feeds (Gregorian years are written with four digits): add 1911.
    if len(digits) not in (2, 3):
        return None
    year = int(digits)
    return year + _ROC_EPOCH if 1 <= year <= _LATEST_ROC_YEAR else None


def _cjk_year(digits: str, *, explicit_roc: bool) -> int | None:
    if explicit_roc:
        year = int(digits)
        return year + _ROC_EPOCH if 1 <= year <= _LATEST_ROC_YEAR else None
    return int(digits) if len(digits) == 4 else _roc_year(digits)


def _english_year(digits: str) -> int | None:
    # RFC 2822 section 4.3: two-digit years below 50 are 20xx, the rest 19xx.
    if len(digits) == 4:
        return int(digits)
    if len(digits) == 2:
        year = int(digits)
        return year + (2000 if year < 50 else 1900)
    return None


def _month_number(name: str) -> int | None:
    lowered = name.lower()
    for number, full_name in enumerate(_MONTH_NAMES, start=1):
        if full_name.startswith(lowered):
            return number
    return None


def _combine(year: int, month: int, day: int, match: re.Match[str]) -> tuple[datetime, bool]:
    if match["hour"] is None:
        return datetime(year, month, day), False
    hour = _24_hour(int(match["hour"]), match["meridiem_before"] or match["meridiem_after"])
    minute = int(match["minute"] or match["cjk_minute"] or 0)
    second = min(int(match["second"] or match["cjk_second"] or 0), 59)  # leap second
    fraction = match["fraction"]
    microsecond = round(float("0." + fraction[1:]) * 1_000_000) if fraction else 0
    return datetime(year, month, day, hour, minute, second, min(microsecond, 999_999)), True


def _24_hour(hour: int, meridiem: str | None) -> int:
    if meridiem is None or hour > 12:
        # "下午 14:30" happens: a 24-hour time needs no marker, so ignore it.
        return hour
    if meridiem.replace(".", "").upper() in _MORNING:
        return 0 if hour == 12 else hour
    return hour if hour == 12 else hour + 12


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    return ZoneInfo(name)
