"""Links from feeds are untrusted: only http(s) URLs are ever offered to a browser."""

from __future__ import annotations

from urllib.parse import urlsplit

_WEB_SCHEMES = frozenset({"http", "https"})


def web_link(url: str | None) -> str | None:
    """`url` when it is an http(s) address; None for javascript:, data: and anything else."""
    if url is None:
        return None
    cleaned = url.strip()
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    return cleaned if scheme in _WEB_SCHEMES else None
