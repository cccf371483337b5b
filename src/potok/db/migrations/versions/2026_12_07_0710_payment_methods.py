"""payment methods: how each order is paid (cash on delivery among them) and which methods
each channel takes

Revision ID: f1a2c3d40700
Revises: 7a1c2e90b3d4
Create Date: 2026-12-07 07:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.migration_ops import drop_plain_columns

revision: str = "f1a2c3d40700"
down_revision: str | None = "7a1c2e90b3d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVERY_METHOD = "online,cash_on_delivery,card_on_delivery,invoice,marketplace,in_store"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("payment_method", sa.String(length=24), nullable=True))
    with op.batch_alter_table("channels") as batch_op:
        batch_op.add_column(
            sa.Column(
                "payment_methods",
                sa.String(length=255),
                nullable=False,
                server_default=EVERY_METHOD,
            )
        )


def downgrade() -> None:
    drop_plain_columns("channels", "payment_methods")
    drop_plain_columns("orders", "payment_method")
