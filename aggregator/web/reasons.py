"""Why a poll failed, in the page's language.

The fetcher words its failures in English for the log and the API (`last_error`); a staff
page in Chinese shows the common ones in Chinese, keeping what varies (the host, the HTTP
status, the limit). A reason not known here is shown as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aggregator.web.i18n import Language

_CHINESE: Sequence[tuple[re.Pattern[str], str]] = tuple(
    (re.compile(pattern), template)
    for pattern, template in (
        (
            r"the server was too slow: no complete response within (?P<s>[\d.]+) s",
            "伺服器太慢：{s} 秒內沒有完整回應",
        ),
        (
            r"the host name (?P<host>\S+) does not exist: check the URL",
            "主機名稱 {host} 不存在：請檢查網址",
        ),
        (
            r"the host name (?P<host>\S+) could not be looked up: this machine may have no"
            r" network or no DNS server",
            "查不到主機名稱 {host}：這台機器可能沒有網路或 DNS 伺服器",
        ),
        (
            r"no network route to (?P<host>\S+): this machine may have no network",
            "沒有通往 {host} 的網路：這台機器可能沒有網路",
        ),
        (
            r"(?P<host>\S+) port (?P<port>\d+) refused the connection: is the server down\?",
            "{host} 的 {port} 埠拒絕連線：伺服器可能停機了",
        ),
        (
            r"the TLS certificate of (?P<host>\S+) is not valid: (?P<why>.*)",
            "{host} 的 TLS 憑證無效：{why}",
        ),
        (
            r"the TLS connection to (?P<host>\S+) failed: (?P<why>.*)",
            "與 {host} 的 TLS 連線失敗：{why}",
        ),
        (r"the server answered (?P<status>.+): check the URL", "伺服器回應 {status}：請檢查網址"),
        (
            r"the server answered (?P<status>.+): the feed was removed; find its new URL",
            "伺服器回應 {status}：feed 已移除，請找新網址",
        ),
        (
            r"the server answered (?P<status>.+): it does not let us read the feed",
            "伺服器回應 {status}：不允許讀取這個 feed",
        ),
        (
            r"the server answered (?P<status>.+): we asked too often",
            "伺服器回應 {status}：抓取太頻繁",
        ),
        (
            r"the server answered (?P<status>.+): a problem on the server's side; will retry",
            "伺服器回應 {status}：伺服器端出錯，稍後重試",
        ),
        (r"the server answered (?P<status>.+) instead of a feed", "伺服器回應 {status}，不是 feed"),
        (
            r"the server asked us to wait \(HTTP (?P<status>\d+)\) until (?P<until>.+) UTC",
            "伺服器要求等到 {until}（UTC）再抓（HTTP {status}）",
        ),
        (r"the feed is larger than (?P<size>.+)", "feed 超過 {size}"),
        (r"the connection to (?P<host>\S+) failed: (?P<why>.*)", "與 {host} 的連線失敗：{why}"),
        (
            r"the connection to (?P<host>\S+) broke off or was not HTTP: (?P<why>.*)",
            "與 {host} 的連線中斷或不是 HTTP：{why}",
        ),
        (r"the server sent an empty response instead of a feed", "伺服器回傳空白內容，不是 feed"),
        (
            r"the URL returned an HTML page, not a feed .*",
            "網址回傳的是網頁而不是 feed（是不是網站首頁？請在網頁中找 RSS 連結）",
        ),
        (
            r"the response is neither XML nor JSON, so it is not a feed",
            "回應既不是 XML 也不是 JSON，不是 feed",
        ),
        (r"the response is not valid JSON .*", "回應不是有效的 JSON，不是 feed"),
    )
)


def error_reason(error: str, language: Language) -> str:
    """`error` (a poll's failure as the fetcher words it) in `language`."""
    if language == "en":
        return error
    for pattern, template in _CHINESE:
        match = pattern.fullmatch(error)
        if match is not None:
            return template.format(**match.groupdict())
    return error
