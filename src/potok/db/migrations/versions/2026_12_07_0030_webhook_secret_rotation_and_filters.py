"""webhook subscriptions: the old secret kept for a grace period after a rotation, and
optional filters by channel and by warehouse

Revision ID: d1e2a7b0c002
Revises: 6ae70909b23e
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "d1e2a7b0c002"
down_revision: str | None = "6ae70909b23e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as table:
        table.add_column(sa.Column("previous_secret", sa.String(length=500), nullable=True))
        table.add_column(
            sa.Column(
                "previous_secret_until", potok.db.types.UtcDateTime(timezone=True), nullable=True
            )
        )
        table.add_column(sa.Column("channels", potok.db.types.json_type(), nullable=True))
        table.add_column(sa.Column("warehouses", potok.db.types.json_type(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as table:
        table.drop_column("warehouses")
        table.drop_column("channels")
        table.drop_column("previous_secret_until")
        table.drop_column("previous_secret")
