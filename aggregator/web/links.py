"""Links: those from feeds are untrusted, so only http(s) URLs are ever offered to a
browser; links to this site start from its public address."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

from aggregator.models import Settings

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


def site_url(settings: Settings) -> str:
    """This site's public address, without a trailing slash: `base_url` when configured,
    else the one the request came to (its Host, and X-Forwarded-* only from as many proxies
    as `trusted_proxies` says; see `aggregator.web.create_app`)."""
    return (settings.base_url or request.url_root).rstrip("/")
