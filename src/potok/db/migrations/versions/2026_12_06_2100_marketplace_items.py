"""marketplace items: each connection's map of Potok SKUs to the marketplace's item ids
(WB chrtId / Ozon sku), product cards (WB nmId / Ozon product_id), articles and barcodes,
used to import orders and to push stock

Revision ID: b7a1c0de6003
Revises: a4d1c0de5003
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "b7a1c0de6003"
down_revision: str | None = "a4d1c0de5003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AT = potok.db.types.UtcDateTime()


def upgrade() -> None:
    op.create_table(
        "marketplace_items",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("connection_id", ID, nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=True),
        sa.Column("article", sa.String(length=128), nullable=True),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_marketplace_items_connection_id_marketplace_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_marketplace_items_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_items")),
        sa.UniqueConstraint(
            "connection_id", "item", name=op.f("uq_marketplace_items_connection_id_item")
        ),
        sa.UniqueConstraint(
            "connection_id",
            "product_id",
            name=op.f("uq_marketplace_items_connection_id_product_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("marketplace_items")
