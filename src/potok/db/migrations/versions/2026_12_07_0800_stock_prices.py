"""stock priced for the orders still to come: the pricing runs and the latest prices

Revision ID: 5b8e0c4d7f21
Revises: f1a2c3d40700
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import ScaledDecimal, UtcDateTime

revision: str = "5b8e0c4d7f21"
down_revision: str | None = "f1a2c3d40700"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stock_pricing_runs",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
        sa.Column("history_days", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.Column("priced", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_pricing_runs")),
    )
    op.create_index(
        op.f("ix_stock_pricing_runs_computed_at"), "stock_pricing_runs", ["computed_at"]
    )
    op.create_table(
        "stock_prices",
        sa.Column("warehouse_id", ID, nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("price", ScaledDecimal(14, 2), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_stock_prices_price_positive")),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_prices_warehouse_id_warehouses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_stock_prices_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("warehouse_id", "product_id", name=op.f("pk_stock_prices")),
    )


def downgrade() -> None:
    op.drop_table("stock_prices")
    op.drop_index(op.f("ix_stock_pricing_runs_computed_at"), "stock_pricing_runs")
    op.drop_table("stock_pricing_runs")
