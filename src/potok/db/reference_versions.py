"""Tokens that change whenever slowly changing reference data changes (for caches)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from potok.db.engine import is_sqlite
from potok.db.tables import reference_versions

NETWORK = "network"


def bump_network(connection: sa.Connection) -> None:
    """Say that channels or locations changed (in the transaction that changes them)."""
    insert = (sqlite_dialect if is_sqlite(connection) else postgresql).insert(reference_versions)
    token = str(uuid.uuid4())
    connection.execute(
        insert.values(name=NETWORK, token=token).on_conflict_do_update(
            index_elements=["name"], set_={"token": token}
        )
    )


def read_token(connection: sa.Connection) -> str | None:
    return connection.execute(
        sa.select(reference_versions.c.token).where(reference_versions.c.name == NETWORK)
    ).scalar()
