"""indexes that leave out the rows intake writes with NULL: an order's phone and e-mail
hashes (an order without one costs no entry) and an event's position (events are written
without one and sequenced later, on PostgreSQL); the JSON of the rows every order writes compressed
with LZ4 on PostgreSQL (db/compression.py)

Revision ID: 3d7c0e51a9b4
Revises: f162a3b030d7
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db import compression

revision: str = "3d7c0e51a9b4"
down_revision: str | None = "f162a3b030d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (  # name, table, column, unique, partial on SQLite too
    ("ix_orders_customer_phone_hash", "orders", "customer_phone_hash", False, True),
    ("ix_orders_customer_email_hash", "orders", "customer_email_hash", False, True),
    # SQLite would not use a partial index for the sequencer's max(position)
    ("ix_outbox_events_position", "outbox_events", "position", True, False),
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, table, column, unique, on_sqlite in INDEXES:
        if sqlite and not on_sqlite:
            continue
        op.drop_index(name, table_name=table)
        present = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            name, table, [column], unique=unique, postgresql_where=present, sqlite_where=present
        )
    compression.install(op.get_bind())


def downgrade() -> None:
    compression.uninstall(op.get_bind())
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, table, column, unique, on_sqlite in INDEXES:
        if sqlite and not on_sqlite:
            continue
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], unique=unique)
