"""a webhook subscription can be paused: deliveries wait (from its cursor) until resumed

Revision ID: c3e1c0de7001
Revises: b7a1e4750001
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "c3e1c0de7001"
down_revision: str | None = "b7a1e4750001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as table:
        table.add_column(
            sa.Column("paused_at", potok.db.types.UtcDateTime(timezone=True), nullable=True)
        )
        table.add_column(sa.Column("paused_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as table:
        table.drop_column("paused_by")
        table.drop_column("paused_at")
