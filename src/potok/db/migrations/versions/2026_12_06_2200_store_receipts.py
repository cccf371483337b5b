"""store receipts: what stores' tills sold and took back, each receipt once per store

Revision ID: 5e1f0c0de801
Revises: e11e7a0d0002
Create Date: 2026-12-06 21:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types

revision: str = "5e1f0c0de801"
down_revision: str | None = "e11e7a0d0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_receipts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column(
            "warehouse_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("receipt_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("till", sa.String(length=64), server_default="", nullable=False),
        sa.Column("sold_at", potok.db.types.UtcDateTime(), nullable=False),
        sa.Column("received_at", potok.db.types.UtcDateTime(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("total", potok.db.types.ScaledDecimal(precision=14, scale=2), nullable=False),
        sa.Column(
            "lines",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('sale', 'return')", name=op.f("ck_store_receipts_kind_known")),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_store_receipts_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_receipts")),
        sa.UniqueConstraint(
            "warehouse_id", "receipt_id", name=op.f("uq_store_receipts_warehouse_id_receipt_id")
        ),
    )
    with op.batch_alter_table("store_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_store_receipts_warehouse_id_sold_at"),
            ["warehouse_id", "sold_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("store_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_store_receipts_warehouse_id_sold_at"))

    op.drop_table("store_receipts")
