"""transfers: the customer order a transfer brings units for (consolidation at a hub)

Revision ID: e7b2f3c4a002
Revises: f3c9d1e5b003
Create Date: 2026-11-26 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7b2f3c4a002"
down_revision: str | None = "f3c9d1e5b003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch_op:
        batch_op.add_column(
            sa.Column(
                "order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index("ix_transfers_order_id", ["order_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_transfers_order_id_orders",
            "orders",
            ["order_id"],
            ["id"],
            ondelete="SET NULL",
            deferrable=True,
            initially="DEFERRED",
        )


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch_op:
        batch_op.drop_constraint("fk_transfers_order_id_orders", type_="foreignkey")
        batch_op.drop_index("ix_transfers_order_id")
        batch_op.drop_column("order_id")
