"""Shared fixtures, one plugin module per concern so each can change on its own."""

pytest_plugins = [
    "tests.fixtures_http",
    "tests.fixtures_db",
    "tests.fixtures_web",
    "tests.fixtures_browser",
]
