"""marketplace stickers: WB's sticker of each assembly task, fetched once it is packed there

Revision ID: e5f1c7e20510
Revises: d5b0e3f80420
Create Date: 2026-12-07 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import UtcDateTime

revision: str = "e5f1c7e20510"
down_revision: str | None = "d5b0e3f80420"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "marketplace_stickers",
        sa.Column("connection_id", ID, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("part_a", sa.String(length=32), nullable=False),
        sa.Column("part_b", sa.String(length=32), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=False),
        sa.Column("file", sa.LargeBinary(), nullable=False),
        sa.Column("fetched_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_marketplace_stickers_connection_id_marketplace_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_marketplace_stickers_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "connection_id", "external_id", name=op.f("pk_marketplace_stickers")
        ),
    )
    op.create_index(
        op.f("ix_marketplace_stickers_order_id"), "marketplace_stickers", ["order_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_marketplace_stickers_order_id"), table_name="marketplace_stickers")
    op.drop_table("marketplace_stickers")
