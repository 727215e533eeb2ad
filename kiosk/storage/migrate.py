"""Schema migrations (Alembic), run by kiosk itself on an open engine.

A database made before migrations existed (tables but no ``alembic_version``) is stamped at the
first revision and upgraded from there, keeping its data.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"


def _config(audit_key: bytes) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["audit_key"] = audit_key
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config(b"")).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision; the first one for a pre-migration database; None when empty."""
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        if revision is None and inspect(connection).has_table("visits"):
            return FIRST_REVISION
        return revision


def upgrade(engine: Engine, audit_key: bytes, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest)."""
    config = _config(audit_key)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        legacy = MigrationContext.configure(connection).get_current_revision() is None and inspect(
            connection
        ).has_table("visits")
        if legacy:
            command.stamp(config, FIRST_REVISION)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
