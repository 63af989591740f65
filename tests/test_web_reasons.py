"""Why a poll failed, in the staff page's language: the fetcher's own words, from real
fetches over HTTP on 127.0.0.1, each read in Chinese (English pages keep them as written)."""

from __future__ import annotations

import pytest

from aggregator.fetch.fetcher import Fetcher
from aggregator.models import Validators
from aggregator.web.reasons import error_reason
from tests.feedserver import FeedServer, Reply


@pytest.mark.parametrize(
    ("reply", "chinese"),
    [
        (Reply(status=404), "伺服器回應 404 Not Found：請檢查網址"),
        (Reply(status=410), "伺服器回應 410 Gone：feed 已移除，請找新網址"),
        (Reply(status=403), "伺服器回應 403 Forbidden：不允許讀取這個 feed"),
        (Reply(status=503), "伺服器回應 503 Service Unavailable：伺服器端出錯，稍後重試"),
    ],
)
def test_an_http_failure_reads_in_chinese(
    feed_server: FeedServer, reply: Reply, chinese: str
) -> None:
    feed_server.handle("/feed.xml", lambda request: reply)
    fetcher = Fetcher(allow_private_addresses=True, timeout=5.0)
    result = fetcher.fetch("kcg", feed_server.url("/feed.xml"), Validators())
    assert result.error is not None
    assert error_reason(result.error, "zh-Hant") == chinese
    assert error_reason(result.error, "en") == result.error


def test_an_unknown_host_reads_in_chinese_whatever_this_machines_resolver_says() -> None:
    fetcher = Fetcher(timeout=5.0)
    result = fetcher.fetch("kcg", "http://no-such-host.invalid/feed.xml", Validators())
    assert result.error is not None
    # With a working resolver the name does not exist; offline, or behind a resolver that
    # finds no name at all, it could not be looked up.
    assert error_reason(result.error, "zh-Hant") in {
        "主機名稱 no-such-host.invalid 不存在：請檢查網址",
        "查不到主機名稱 no-such-host.invalid：這台機器可能沒有網路或 DNS 伺服器",
    }


def test_a_machine_without_network_reads_apart_from_a_wrong_host_name() -> None:
    offline = (
        "the host name www.kcg.gov.tw could not be looked up: this machine may have no"
        " network or no DNS server"
    )

    assert error_reason(offline, "zh-Hant") == (
        "查不到主機名稱 www.kcg.gov.tw：這台機器可能沒有網路或 DNS 伺服器"
    )
    assert error_reason("no network route to www.kcg.gov.tw: this machine may have no network",
                        "zh-Hant") == "沒有通往 www.kcg.gov.tw 的網路：這台機器可能沒有網路"


def test_a_reason_not_known_is_shown_as_written() -> None:
    assert error_reason("something new went wrong", "zh-Hant") == "something new went wrong"
