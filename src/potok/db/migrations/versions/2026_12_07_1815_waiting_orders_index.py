"""orders waiting for an operator (new, on hold, backordered) in a partial index of their
status and channel, so that the dashboard counts them without reading every order

Revision ID: 5b1e9d3a1815
Revises: e7a5c11d1400
Create Date: 2026-12-07 18:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e9d3a1815"
down_revision: str | None = "e7a5c11d1400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_orders_waiting"
WAITING = "status IN ('new', 'on_hold', 'backordered')"


def upgrade() -> None:
    op.create_index(
        NAME,
        "orders",
        ["status", "channel_id"],
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="orders")
