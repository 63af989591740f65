"""What templates see: the request's language, message lookup, links, and time and HTML filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, g, request, url_for
from markupsafe import Markup

from aggregator.parse.sanitize import sanitize_html, web_link
from aggregator.web import i18n, timefmt
from aggregator.web.params import InvalidParameter, page_parameters
from aggregator.web.state import current_state


def init_app(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.before_request(_choose_language)
    app.context_processor(_template_globals)
    app.add_template_filter(timefmt.rfc3339, "rfc3339")
    app.add_template_filter(_local_time, "local_time")
    app.add_template_filter(_relative_time, "relative")
    app.add_template_filter(_due_time, "due")
    app.add_template_filter(_safe_html, "safe_html")
    app.add_template_filter(web_link, "web_link")


def current_language() -> i18n.Language:
    """The language of this response; the default until the request's own choice is known."""
    language: i18n.Language = g.get("language", i18n.DEFAULT_LANGUAGE)
    return language


def translate(key: str, **values: object) -> str:
    """The message `key` in this response's language."""
    return i18n.translate(current_language(), key, **values)


def page_url(endpoint: str, **params: Any) -> str:
    """A link within the site that keeps an explicit `?lang=` choice. None values are left out."""
    return url_for(endpoint, **params, lang=request.args.get("lang"))


def switch_language_url() -> str:
    other = "en" if current_language() == "zh-Hant" else "zh-Hant"
    endpoint = request.endpoint or "reader.river"
    kept: dict[str, Any] = {
        name: request.args[name] for name in page_parameters(endpoint) if name in request.args
    }
    return url_for(endpoint, **{**kept, **(request.view_args or {}), "lang": other})


def _choose_language() -> None:
    try:
        g.language = i18n.choose_language(request.args.get("lang"), request.accept_languages)
    except ValueError as error:
        raise InvalidParameter(400, "error.bad_language", value=str(error)) from error


def _template_globals() -> dict[str, Any]:
    return {
        "t": translate,
        "language": current_language(),
        "page_url": page_url,
        "switch_language_url": switch_language_url,
        "now": current_state().clock(),
    }


def _local_time(moment: datetime) -> str:
    return timefmt.local_time(moment, current_state().config.settings.timezone)


def _relative_time(moment: datetime, now: datetime) -> str:
    return i18n.relative_time(moment, now, current_language())


def _due_time(moment: datetime, now: datetime) -> str:
    return i18n.due_time(moment, now, current_language())


def _safe_html(html: str) -> Markup:
    # The parser sanitised this already; sanitising again at render costs little with nh3.
    return Markup(sanitize_html(html))
