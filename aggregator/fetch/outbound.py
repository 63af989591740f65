"""POSTs to the receivers configuration names (webhooks, the WebSub hub), and their retries.

Receiver URLs are configuration, like feed URLs, so connections go through the fetcher's
address policy (`netpolicy`): no loopback or private address unless the settings allow it.
Redirects are not followed: a receiver that moved must be reconfigured.
"""

from __future__ import annotations

from datetime import timedelta
from http.client import HTTPException
from urllib.parse import urlsplit

import urllib3.exceptions
from urllib3.connection import HTTPConnection

from aggregator.fetch.fetcher import USER_AGENT, Deadline, guarded_connection
from aggregator.fetch.netpolicy import AddressPolicy, allowed_addresses

TIMEOUT_SECONDS = 10.0
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
_RESPONSE_READ_LIMIT = 64 * 1024


def backoff(attempts: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """The wait before the next attempt, after `attempts` failed ones: doubling, capped."""
    wait: timedelta = first * 2 ** max(attempts - 1, 0)
    return min(wait, MAX_RETRY)


def post(
    url: str,
    body: bytes,
    content_type: str,
    policy: AddressPolicy,
    timeout: float,
    *,
    receiver: str,
) -> str | None:
    """POST `body` to `url`; None when the receiver took it (2xx), else what went wrong,
    naming the receiver as `receiver` (such as "the WebSub hub") and its host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    https = parts.scheme == "https"
    # `timeout` bounds the whole POST, not each read: a receiver trickling its answer a
    # byte at a time is cut off when it is up.
    deadline = Deadline(timeout)
    deadline.start()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: HTTPConnection | None = None
    try:
        addresses = allowed_addresses(parts.hostname, parts.port or (443 if https else 80), policy)
        connection = guarded_connection(
            parts.hostname, parts.port, https=https, addresses=addresses, deadline=deadline
        )
        connection.request(
            "POST",
            target,
            body=body,
            headers={"Content-Type": content_type, "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        response.read(_RESPONSE_READ_LIMIT)
        if deadline.expired:  # a cut connection can look like the end of the answer
            raise TimeoutError
    except (OSError, HTTPException, urllib3.exceptions.HTTPError) as error:
        if deadline.expired or isinstance(error, TimeoutError):
            return f"{receiver} {parts.hostname} did not answer within {timeout:g} s"
        return f"could not reach {receiver} {parts.hostname}: {error}"
    finally:
        if connection is not None:
            connection.close()
        deadline.stop()
    if 200 <= response.status < 300:
        return None
    return f"{receiver} {parts.hostname} answered {response.status} {response.reason}"
