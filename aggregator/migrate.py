"""Schema migrations (Alembic), run from code: `upgrade(url)` and `is_current(url)`.

The scripts live in `aggregator/migrations/`; no alembic.ini is needed.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from aggregator.store import make_engine

SCRIPT_LOCATION = "aggregator:migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def upgrade(url: str) -> None:
    """Apply every migration the database at `url` lacks, in one transaction."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def is_current(url: str) -> bool:
    """Whether the database at `url` has every migration applied."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            applied = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    return applied == heads
