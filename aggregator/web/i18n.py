"""Interface text in Traditional Chinese (the default) and English: a small message catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from werkzeug.datastructures import LanguageAccept

from aggregator.web.i18n_staff import STAFF_MESSAGES

Language = Literal["zh-Hant", "en"]
DEFAULT_LANGUAGE: Language = "zh-Hant"
LANGUAGES: tuple[Language, ...] = ("zh-Hant", "en")

_SITE_MESSAGES: Mapping[Language, Mapping[str, str]] = {
    "zh-Hant": {
        "site.title": "市政新聞匯流",
        "site.tagline": "各縣市政府新聞，一次看完",
        "nav.reader": "新聞",
        "nav.sources": "來源狀態",
        "nav.opml": "OPML",
        "nav.opml_help": "各分類 feed 的 OPML：一次訂閱所有分類",
        "nav.switch_language": "English",
        "filter.category": "分類",
        "filter.source": "來源",
        "filter.all_categories": "全部分類",
        "filter.all_sources": "全部來源",
        "filter.apply": "篩選",
        "river.empty": "目前沒有新聞。",
        "river.also_in": "亦見於",
        "river.severity": "嚴重程度",
        "river.older": "較舊",
        "river.newest": "回到最新",
        "river.subscribe": "訂閱",
        "embed.heading": "嵌入這個分類",
        "embed.help": "把下面這段程式碼貼到您的網頁，就能顯示這個分類的最新新聞：",
        "embed.more": "更多新聞",
        "builder.heading": "把新聞嵌入您的網站",
        "builder.intro": "選好分類與樣式，複製下面的程式碼貼到您的網頁；預覽就是貼上後的樣子。",
        "builder.limit": "則數（1–{maximum}）",
        "builder.theme": "外觀",
        "builder.theme.light": "淺色",
        "builder.theme.dark": "深色",
        "builder.theme.auto": "跟隨訪客的系統設定",
        "builder.language": "語言",
        "builder.language.visitor": "依訪客的瀏覽器",
        "builder.update": "更新程式碼",
        "builder.code": "程式碼",
        "builder.preview": "預覽",
        "builder.docs": (
            "嵌入的頁面只列標題、來源與時間；點標題開啟原文，點時間開啟本站的全文比較。"
        ),
        "embed.options": "更多選項與預覽",
        "sources.heading": "來源狀態",
        "sources.opml": "來源清單 OPML",
        "sources.summary": "共 {total} 個來源，{failing} 個失敗，{never} 個尚未抓取。",
        "sources.source": "來源",
        "sources.categories": "分類",
        "sources.status": "狀態",
        "sources.last_success": "上次成功",
        "sources.last_error": "最近錯誤",
        "sources.failures": "連續失敗",
        "sources.entries": "新聞數",
        "sources.next_poll": "下次抓取",
        "sources.none": "—",
        "sources.activity": "近 30 天",
        "sources.chart_label": "{title}：近 30 天每日新聞數，共 {total} 則",
        "silence.quiet": "異常沉寂：自 {since} 起沒有新消息，平常最長間隔約 {usual} 小時",
        "silence.no_new": "有回應但長期沒有新消息（自 {since} 起）",
        "silence.html": "回傳的是網頁而不是 feed，網址可能已更改",
        "status.ok": "正常",
        "status.failing": "失敗",
        "status.never": "尚未抓取",
        "time.never": "從未",
        "time.just_now": "剛剛",
        "time.ago": "{count} {unit}前",
        "time.in": "{count} {unit}後",
        "time.overdue": "逾期 {count} {unit}",
        "time.today": "今天 {time}",
        "time.yesterday": "昨天 {time}",
        "day.today": "今天",
        "day.yesterday": "昨天",
        "day.date": "{year}年{month}月{day}日",
        "zone.Asia/Taipei": "臺北時間",
        "unit.minute.one": "分鐘",
        "unit.minute.other": "分鐘",
        "unit.hour.one": "小時",
        "unit.hour.other": "小時",
        "unit.day.one": "天",
        "unit.day.other": "天",
        "error.400": "請求有誤",
        "error.404": "找不到頁面",
        "error.503": "服務暫時無法使用",
        "error.back": "回到首頁",
        "error.store_unavailable": "資料庫暫時無法連線，請稍後再試。",
        "error.unknown_category": "沒有「{value}」這個分類。",
        "error.unknown_watch": "沒有「{value}」這個關注項目。",
        "error.unknown_source": "沒有「{value}」這個來源。",
        "error.bad_cursor": "分頁參數 cursor 無效，請從第一頁重新開始。",
        "error.bad_limit": "limit 必須是 1 到 {maximum} 之間的整數，收到的是「{value}」。",
        "error.bad_theme": "theme 只能是 light、dark 或 auto，收到的是「{value}」。",
        "error.bad_language": "lang 只能是 zh-Hant（或 zh-TW、zh）或 en，收到的是「{value}」。",
        "story.open": "全文比較",
        "story.shown": "顯示的報導",
        "story.others": "其他來源的報導（{count}）",
        "story.none": "只有這個來源報導了這則新聞。",
        "story.categories": "分類",
        "story.read_at_source": "到原網站閱讀",
        "story.same": "內容與顯示的報導相同。",
        "story.adds": "多寫了",
        "story.leaves_out": "少寫了",
        "story.numbers_added": "多出的數字",
        "story.numbers_missing": "少了的數字",
        "error.unknown_entry": "沒有編號「{value}」的新聞，可能已經過期刪除。",
        "search.help": "搜尋語法說明",
        "help.heading": "搜尋語法",
        "help.intro": (
            "在搜尋框輸入字詞，找出標題或內文含有這些字詞的新聞。"
            "中文不必斷詞：連續的中文字就是一個詞組，簡體字也會找到繁體字的新聞。"
        ),
        "help.you_type": "輸入",
        "help.finds": "找到的新聞",
        "help.words": "同時含有「颱風」和「高雄」（順序、位置不拘）",
        "help.phrase": "含有這個詞組：停班停課、停班 停課、停班、停課都算",
        "help.or": "含有其中之一（OR 要大寫）",
        "help.not": "含有「颱風」但不含「演習」",
        "help.source": "由這個來源報導（來源代號列在下方）",
        "help.category": "屬於這個分類",
        "help.since": "在這天或之後發布（以本站時區計）",
        "help.until": "在這天或之前發布（整天都算）",
        "help.filters": (
            "篩選條件可以單獨使用：只輸入 source:、category:、since:"
            " 或 until:，就會列出符合條件的所有新聞，最新的在前。"
            "篩選條件的冒號後面不要空格。"
        ),
        "help.feeds": (
            "搜尋結果也能訂閱：搜尋後，頁面下方的 Atom、RSS、JSON Feed 連結就是這個搜尋的 feed。"
        ),
        "help.sources": "來源代號",
        "help.categories": "分類代號",
        "source.news": "這個來源的新聞",
        "source.subscribe": "訂閱這個來源",
        "source.queued": "已排入，下一輪抓取。",
        "source.poll_now": "立即抓取",
        "source.poll_now_help": "排入工作程序的下一輪（約一秒內），不必等到下次抓取時間。",
        "attempts.heading": "最近 {count} 次抓取",
        "attempts.none": "還沒有抓取紀錄。",
        "attempts.time": "時間",
        "attempts.outcome": "結果",
        "attempts.http": "HTTP",
        "attempts.duration": "耗時",
        "attempts.failed": "錯誤",
        "attempts.not_modified": "沒有變更",
        "attempts.new": "{count} 則新報導",
        "attempts.updated": "{count} 則更新",
        "attempts.nothing_new": "沒有新消息",
        "error.cannot_poll": "來源「{value}」已停用，無法抓取。",
        "search.label": "搜尋新聞",
        "search.placeholder": "例如：颱風 高雄",
        "search.submit": "搜尋",
        "search.heading": "搜尋：{query}",
        "search.order": "排序",
        "search.order.newest": "最新",
        "search.order.relevance": "最相關",
        "search.empty": "沒有符合「{query}」的新聞。",
        "error.bad_search": "無法搜尋（{reason}）。請參考搜尋語法說明。",
        "error.bad_order": "order 只能是 newest 或 relevance，收到的是「{value}」。",
    },
    "en": {
        "site.title": "City News River",
        "site.tagline": "News from Taiwan's city governments, in one place",
        "nav.reader": "News",
        "nav.sources": "Source health",
        "nav.opml": "OPML",
        "nav.opml_help": "OPML of every category feed: subscribe to them all at once",
        "nav.switch_language": "中文",
        "filter.category": "Category",
        "filter.source": "Source",
        "filter.all_categories": "All categories",
        "filter.all_sources": "All sources",
        "filter.apply": "Filter",
        "river.empty": "No news yet.",
        "river.also_in": "Also in",
        "river.severity": "Severity",
        "river.older": "Older",
        "river.newest": "Back to newest",
        "river.subscribe": "Subscribe",
        "embed.heading": "Embed this category",
        "embed.help": "Paste this code into your web page to show this category's latest news:",
        "embed.more": "More news",
        "builder.heading": "Embed the news in your site",
        "builder.intro": (
            "Choose a category and a style, then paste the code below into your page;"
            " the preview is what it will look like."
        ),
        "builder.limit": "Entries (1–{maximum})",
        "builder.theme": "Theme",
        "builder.theme.light": "Light",
        "builder.theme.dark": "Dark",
        "builder.theme.auto": "The visitor's system setting",
        "builder.language": "Language",
        "builder.language.visitor": "The visitor's browser",
        "builder.update": "Update the code",
        "builder.code": "Code",
        "builder.preview": "Preview",
        "builder.docs": (
            "An embed lists headlines, sources and times; a headline opens the source's"
            " article, a time this site's comparison of every report."
        ),
        "embed.options": "More options and a preview",
        "sources.heading": "Source health",
        "sources.opml": "Sources as OPML",
        "sources.summary": "{total} sources, {failing} failing, {never} never polled.",
        "sources.source": "Source",
        "sources.categories": "Categories",
        "sources.status": "Status",
        "sources.last_success": "Last success",
        "sources.last_error": "Last error",
        "sources.failures": "Failures in a row",
        "sources.entries": "Entries",
        "sources.next_poll": "Next poll",
        "sources.none": "—",
        "sources.activity": "Last 30 days",
        "sources.chart_label": "{title}: entries per day over the last 30 days, {total} in all",
        "silence.quiet": (
            "Unusually silent: nothing new since {since}; its longest usual gap is about"
            " {usual} hours"
        ),
        "silence.no_new": "Answers, but nothing new for a long time (since {since})",
        "silence.html": "Returns a web page instead of a feed: its URL may have changed",
        "status.ok": "OK",
        "status.failing": "Failing",
        "status.never": "Never polled",
        "time.never": "never",
        "time.just_now": "just now",
        "time.ago": "{count} {unit} ago",
        "time.in": "in {count} {unit}",
        "time.overdue": "overdue by {count} {unit}",
        "time.today": "Today {time}",
        "time.yesterday": "Yesterday {time}",
        "day.today": "Today",
        "day.yesterday": "Yesterday",
        "day.date": "{day} {month_name} {year}",
        "zone.Asia/Taipei": "Taipei time",
        "unit.minute.one": "minute",
        "unit.minute.other": "minutes",
        "unit.hour.one": "hour",
        "unit.hour.other": "hours",
        "unit.day.one": "day",
        "unit.day.other": "days",
        "error.400": "Bad request",
        "error.404": "Not found",
        "error.503": "Service unavailable",
        "error.back": "Back to the news",
        "error.store_unavailable": "The database cannot be reached right now; try again later.",
        "error.unknown_category": "There is no category “{value}”.",
        "error.unknown_watch": "There is no watch “{value}”.",
        "error.unknown_source": "There is no source “{value}”.",
        "error.bad_cursor": "The paging cursor is not valid; start again from the first page.",
        "error.bad_limit": "limit must be a whole number from 1 to {maximum}, not “{value}”.",
        "error.bad_theme": "theme must be light, dark or auto, not “{value}”.",
        "error.bad_language": "lang must be zh-Hant (or zh-TW, zh) or en, not “{value}”.",
        "story.open": "Compare reports",
        "story.shown": "The report shown",
        "story.others": "Other sources' reports ({count})",
        "story.none": "Only this source reported this story.",
        "story.categories": "Categories",
        "story.read_at_source": "Read at the source",
        "story.same": "Says the same as the report shown.",
        "story.adds": "Adds",
        "story.leaves_out": "Leaves out",
        "story.numbers_added": "Numbers it adds",
        "story.numbers_missing": "Numbers it leaves out",
        "error.unknown_entry": "There is no story “{value}”; it may have expired.",
        "search.help": "Search syntax",
        "help.heading": "Search syntax",
        "help.intro": (
            "Type words into the search box to find news whose headline or text contains them."
            " Chinese needs no word breaks: a run of Chinese characters is one phrase,"
            " and Simplified characters find Traditional text."
        ),
        "help.you_type": "You type",
        "help.finds": "Finds news that",
        "help.words": "contains both 颱風 and 高雄, anywhere, in any order",
        "help.phrase": "contains the phrase: 停班停課, 停班 停課 and 停班、停課 all count",
        "help.or": "contains either (OR in capitals)",
        "help.not": "contains 颱風 but not 演習",
        "help.source": "was reported by that source (ids are listed below)",
        "help.category": "is filed under that category",
        "help.since": "was published on or after that day (in the site's time zone)",
        "help.until": "was published on or before that day (the whole day counts)",
        "help.filters": (
            "Filters work on their own: source:, category:, since: or until:"
            " alone lists every entry they select, newest first."
            " Write no space after a filter's colon."
        ),
        "help.feeds": (
            "Searches can be subscribed to: after searching, the Atom,"
            " RSS and JSON Feed links at the foot of the page are that search's feed."
        ),
        "help.sources": "Source ids",
        "help.categories": "Category ids",
        "source.news": "This source's news",
        "source.subscribe": "Subscribe to this source",
        "source.queued": "Queued: the next round of polls will fetch it.",
        "source.poll_now": "Poll now",
        "source.poll_now_help": "Queued for the workers' next round (within a second or so).",
        "attempts.heading": "Last {count} polls",
        "attempts.none": "No polls yet.",
        "attempts.time": "Time",
        "attempts.outcome": "Outcome",
        "attempts.http": "HTTP",
        "attempts.duration": "Took",
        "attempts.failed": "Error",
        "attempts.not_modified": "Not modified",
        "attempts.new": "{count} new reports",
        "attempts.updated": "{count} updated",
        "attempts.nothing_new": "Nothing new",
        "error.cannot_poll": "The source “{value}” is disabled: it cannot be polled.",
        "search.label": "Search the news",
        "search.placeholder": "e.g. 颱風 高雄",
        "search.submit": "Search",
        "search.heading": "Search: {query}",
        "search.order": "Order",
        "search.order.newest": "Newest",
        "search.order.relevance": "Most relevant",
        "search.empty": "No news matches “{query}”.",
        "error.bad_search": "The search cannot run: {reason}. See the search syntax help.",
        "error.bad_order": "order must be newest or relevance, not “{value}”.",
    },
}

MESSAGES: Mapping[Language, Mapping[str, str]] = {
    language: {**_SITE_MESSAGES[language], **STAFF_MESSAGES[language]} for language in LANGUAGES
}

_UNITS: tuple[tuple[str, int], ...] = (("day", 86400), ("hour", 3600), ("minute", 60))


def translate(language: Language, key: str, **values: object) -> str:
    """The message `key` in `language`, with `{name}` placeholders filled from `values`."""
    return MESSAGES[language][key].format(**values)


# `?lang=` values as people write them: the tags of Taiwan's Chinese name one catalogue.
_REQUESTED: Mapping[str, Language] = {
    "zh-hant": "zh-Hant",
    "zh-tw": "zh-Hant",
    "zh": "zh-Hant",
    "en": "en",
}


def choose_language(requested: str | None, accepted: LanguageAccept) -> Language:
    """`?lang=` wins; else the browser's Accept-Language; else Traditional Chinese.

    Raises ValueError for a `?lang=` we have no catalogue for.
    """
    if requested is not None:
        if requested.lower() in _REQUESTED:
            return _REQUESTED[requested.lower()]
        raise ValueError(requested)
    best = accepted.best_match(["zh-TW", "zh", "en"], default="zh")
    return "en" if best == "en" else "zh-Hant"


def day_time(
    moment: datetime, now: datetime, timezone: str, language: Language, *, has_time: bool = True
) -> str:
    """When something was published, as a reader of the river wants it: '今天 14:05' /
    'Today 14:05', '昨天 09:30' / 'Yesterday 09:30', else '2026-12-01 16:00', all in
    `timezone` (days are that zone's days). A date given without a time (`has_time`
    False) is a day: '今天' / 'Today', '昨天', else '2025年3月16日' / '16 March 2025'."""
    zone = ZoneInfo(timezone)
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    if not has_time:
        return _day(local.date(), today, language)
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return translate(language, "time.today", time=clock)
    if local.date() == today - timedelta(days=1):
        return translate(language, "time.yesterday", time=clock)
    return local.strftime("%Y-%m-%d %H:%M")


def next_day(now: datetime, timezone: str) -> datetime:
    """When the day after `now`'s begins in `timezone`: what '今天' means changes then."""
    zone = ZoneInfo(timezone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(), tzinfo=zone)


def _day(day: date, today: date, language: Language) -> str:
    if day == today:
        return translate(language, "day.today")
    if day == today - timedelta(days=1):
        return translate(language, "day.yesterday")
    return translate(
        language,
        "day.date",
        year=day.year,
        month=day.month,
        day=day.day,
        month_name=_MONTH_NAMES[day.month - 1],
    )


_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def zone_label(timezone: str, language: Language) -> str:
    """What the times on a page are in: '臺北時間' / 'Taipei time', else the zone's name."""
    return MESSAGES[language].get(f"zone.{timezone}", timezone)


def relative_time(moment: datetime, now: datetime, language: Language) -> str:
    """'3 小時前' / '3 hours ago', or '10 分鐘後' / 'in 10 minutes' for a moment still ahead."""
    seconds = (now - moment).total_seconds()
    return _in_words(language, "time.ago" if seconds > 0 else "time.in", abs(seconds))


def due_time(moment: datetime, now: datetime, language: Language) -> str:
    """When something is due: '10 分鐘後' / 'in 10 minutes' ahead, '逾期 5 分鐘' /
    'overdue by 5 minutes' once a minute or more has gone past it (not "5 minutes ago":
    it has not happened)."""
    late = (now - moment).total_seconds()
    if late >= _UNITS[-1][1]:
        return _in_words(language, "time.overdue", late)
    return relative_time(moment, now, language)


def _in_words(language: Language, key: str, seconds: float) -> str:
    """`key` filled with `seconds` in the largest whole unit, or 'just now' under a minute."""
    for unit, length in _UNITS:
        if seconds >= length:
            # Rounded, not truncated: a poll due in 9 minutes 58 seconds is "in 10 minutes".
            count = round(seconds / length)
            words = translate(language, f"unit.{unit}.{'one' if count == 1 else 'other'}")
            return translate(language, key, count=count, unit=words)
    return translate(language, "time.just_now")
