"""Links to this site start from its public address."""

from __future__ import annotations

from flask import request

from aggregator.models import Settings


def site_url(settings: Settings) -> str:
    """This site's public address, without a trailing slash: `base_url` when configured,
    else the one the request came to (its Host, and X-Forwarded-* only from as many proxies
    as `trusted_proxies` says; see `aggregator.web.create_app`)."""
    return (settings.base_url or request.url_root).rstrip("/")
