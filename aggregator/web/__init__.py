"""The Flask application factory: one blueprint per concern, state in app.extensions."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from aggregator.config.load import load_config
from aggregator.store import open_store
from aggregator.web import (
    api,
    errors,
    feeds,
    metrics,
    ops,
    reader,
    responsecache,
    security,
    staff,
    staff_entries,
    templating,
)
from aggregator.web.state import EXTENSION_KEY, AppState, utc_now

# Templates sit at the top of the repository, beside the package, not inside it.
TEMPLATE_FOLDER = Path(__file__).resolve().parents[2] / "templates"

DEFAULT_SETTINGS: Mapping[str, str | None] = {
    "DATABASE_URL": "sqlite:///aggregator.db",
    "AGGREGATOR_CONFIG": "feeds.yaml",
    "AGGREGATOR_STAFF_SECRET": None,
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app. Settings come from `config` when given (tests), else the environment.

    The scheduler never starts here: the web app only reads the store.
    """
    settings = _settings(config)
    app = Flask(__name__, template_folder=str(TEMPLATE_FOLDER))
    app.config.update(settings)
    # Chinese as UTF-8 in JSON, not \u escapes: a third of the size, and readable.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = AppState(
        config=load_config(settings["AGGREGATOR_CONFIG"]),
        store=open_store(settings["DATABASE_URL"]),
        staff_secret=settings["AGGREGATOR_STAFF_SECRET"] or None,
        # Only a `config` mapping can set CLOCK (tests); the environment cannot.
        clock=settings.get("CLOCK", utc_now),
    )
    security.init_app(app)
    staff_entries.init_app(app)  # staff sign-in and the entry pages' merge actions
    templating.init_app(app)
    errors.init_app(app)
    for blueprint in (reader.bp, feeds.bp, api.bp, staff.bp, ops.bp, metrics.bp):
        app.register_blueprint(blueprint)
    responsecache.install(app)
    return app


def _settings(config: Mapping[str, Any] | None) -> dict[str, Any]:
    if config is not None:
        return {**DEFAULT_SETTINGS, **config}
    return {name: os.environ.get(name, default) for name, default in DEFAULT_SETTINGS.items()}
