"""`/healthz` tells a load balancer whether this web process can serve pages: 503, with the
reason, when the templates cannot be loaded or the database schema is behind the code."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import FileSystemLoader

from aggregator.web import create_app
from tests.fixtures_db import migrated_to
from tests.webapp import write_config


def test_healthz_is_503_when_the_templates_cannot_be_loaded(app: Flask, tmp_path: Path) -> None:
    # As an install that shipped no templates: the folder the app reads them from is empty.
    app.jinja_env.loader = FileSystemLoader(str(tmp_path))

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert "template reader.html cannot be loaded" in response.get_data(as_text=True)


def test_healthz_is_503_when_the_schema_is_behind_the_code(db_url: str, tmp_path: Path) -> None:
    with migrated_to(db_url, "0005"):  # the release step has not run the newest migration
        pass
    app = create_app({"DATABASE_URL": db_url, "AGGREGATOR_CONFIG": str(write_config(tmp_path))})

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_data(as_text=True) == (
        "database schema is not current: run `aggregator db upgrade`"
    )

