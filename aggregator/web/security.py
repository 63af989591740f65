"""Response headers that keep untrusted feed content harmless, and framing rules.

Every page denies framing except views marked `@frameable` (the embed), which any site
may put in an <iframe>.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, request

_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; "
    # Feed summaries carry pictures hosted by the sources themselves.
    "img-src 'self' https: data:; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors {ancestors}"
)

View = TypeVar("View", bound=Callable[..., object])


def frameable(view: View) -> View:
    """Mark a view as meant for an <iframe> on any other site."""
    setattr(view, "_aggregator_frameable", True)  # noqa: B010 - an attribute a function does not declare
    return view


def init_app(app: Flask) -> None:
    app.after_request(_add_security_headers)


def _add_security_headers(response: Response) -> Response:
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_aggregator_frameable", False):
        ancestors = "*"
    else:
        ancestors = "'none'"
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = _CONTENT_SECURITY_POLICY.format(
        ancestors=ancestors
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if response.mimetype == "application/json":
        response.headers["Access-Control-Allow-Origin"] = "*"
    if response.mimetype == "text/html":
        # The interface language follows Accept-Language: a shared cache must keep one
        # copy per language.
        response.vary.add("Accept-Language")
    return response
