"""Alembic, driven from code: ``potok db upgrade`` and the schema-drift check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from potok.db.tables import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def not_a_partition(connection: Connection) -> Callable[[str | None, str, Any], bool]:
    """Autogenerate's filter: a month of a partitioned table (PostgreSQL) is not a table
    of its own in the code."""
    from potok.db.partitions import partition_names

    months = partition_names(connection)
    return lambda name, kind, _parent: not (kind == "table" and name in months)


def not_replaced(connection: Connection) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Autogenerate's filter: PostgreSQL holds a reservation's references by one key where
    the tables in code declare three (``db/reservation_keys.py``)."""
    from potok.db.reservation_keys import REPLACED

    replaced = REPLACED if connection.dialect.name == "postgresql" else frozenset()
    return lambda _object, name, kind, _reflected, _other: (
        not (kind == "foreign_key_constraint" and name in replaced)
    )


def schema_drift(engine: Engine) -> list[Any]:
    """Differences between the migrated database and the tables in code; empty when in step."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": False,
                "include_name": not_a_partition(connection),
                "include_object": not_replaced(connection),
            },
        )
        return list(compare_metadata(context, metadata))


def is_up_to_date(engine: Engine) -> bool:
    """Whether the schema is at the newest revision (raises when the database is unreachable)."""
    return current_revision(engine) == head_revision(engine)
