"""The Flask application factory: one blueprint per concern, state in app.extensions."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from aggregator.config.environment import read_environment
from aggregator.config.load import load_config
from aggregator.models import Config
from aggregator.store import Store, open_store
from aggregator.web import (
    api,
    errors,
    feeds,
    metrics,
    ops,
    params,
    reader,
    responsecache,
    security,
    staff,
    staff_entries,
    templating,
)
from aggregator.web.state import EXTENSION_KEY, AppState, utc_now

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def create_app(
    settings: Mapping[str, Any] | None = None,
    *,
    config: Config | None = None,
    store: Store | None = None,
) -> Flask:
    """Build the web app from the environment every entry point reads (DATABASE_URL,
    AGGREGATOR_CONFIG, AGGREGATOR_ALLOW_PRIVATE, AGGREGATOR_STAFF_SECRET,
    AGGREGATOR_SECRET_KEY), or from `settings` in its place (tests, which may also freeze
    the pages' CLOCK).

    `config` and `store` are ones the caller has already opened, used instead of loading
    AGGREGATOR_CONFIG and opening DATABASE_URL: `aggregator run` serves from the store its
    worker writes, one store per process. The scheduler never starts here.
    """
    environ = os.environ if settings is None else _texts(settings)
    environment = read_environment(environ)
    # Templates and static files are package data, wherever the package is installed.
    app = _App(
        __name__,
        template_folder=str(files("aggregator.templates")),
        static_folder=str(files("aggregator.web") / "static"),
    )
    app.config["AGGREGATOR_SECRET_KEY"] = environment.secret_key
    # Chinese as UTF-8 in JSON, not \u escapes: a third of the size, and readable.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    clock: Callable[[], datetime] = (settings or {}).get("CLOCK", utc_now)
    app.extensions[EXTENSION_KEY] = AppState(
        config=config or load_config(environment.config_path, environ=environ),
        store=store or open_store(environment.database_url),
        staff_secret=environment.staff_secret,
        clock=clock,
    )
    security.init_app(app)
    staff_entries.init_app(app)  # staff sign-in and the entry pages' merge actions
    templating.init_app(app)
    errors.init_app(app)
    for blueprint in (reader.bp, feeds.bp, api.bp, staff.bp, ops.bp, metrics.bp):
        app.register_blueprint(blueprint)
    responsecache.install(app, max_bytes=environment.cache_bytes)
    proxies = app.extensions[EXTENSION_KEY].config.settings.trusted_proxies
    if proxies:
        # Outside the response cache, so that it keys answers on the forwarded host too.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )
    return app


class _App(Flask):
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # Before anything in wsgi_app (the response cache first) sees the request.
        return self.wsgi_app(params.known_environ(self, environ), start_response)


def _texts(settings: Mapping[str, Any]) -> dict[str, str]:
    """The settings that stand for environment variables (CLOCK and unset ones are not)."""
    return {name: value for name, value in settings.items() if isinstance(value, str)}
