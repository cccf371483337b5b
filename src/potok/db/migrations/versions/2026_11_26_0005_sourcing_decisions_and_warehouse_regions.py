"""sourcing: every decision kept per order with its full record; the region a warehouse
stands in

Revision ID: 50d409dd3f05
Revises: 6a42efada59c
Create Date: 2026-11-25 23:50:19.556484
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types

revision: str = "50d409dd3f05"
down_revision: str | None = "6a42efada59c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sourcing_decisions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("decided_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=255), server_default="", nullable=False),
        sa.Column("warehouses", sa.String(length=500), server_default="", nullable=False),
        sa.Column("total_cost", potok.db.types.ScaledDecimal(precision=14, scale=2), nullable=True),
        sa.Column("rules_version", sa.String(length=120), nullable=False),
        sa.Column("tariffs_version", sa.String(length=40), nullable=False),
        sa.Column(
            "record",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_sourcing_decisions_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sourcing_decisions")),
    )
    op.create_index(
        op.f("ix_sourcing_decisions_order_id_id"),
        "sourcing_decisions",
        ["order_id", "id"],
        unique=False,
    )
    with op.batch_alter_table("warehouses") as batch:
        batch.add_column(sa.Column("region", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warehouses") as batch:
        batch.drop_column("region")
    op.drop_index(op.f("ix_sourcing_decisions_order_id_id"), table_name="sourcing_decisions")
    op.drop_table("sourcing_decisions")
