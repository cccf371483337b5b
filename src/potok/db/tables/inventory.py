"""Stock positions and the append-only stock ledger."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata
from potok.db.types import UtcDateTime

stock = sa.Table(
    "stock",
    metadata,
    id_column(),
    fk("warehouse_id", "warehouses.id"),
    fk("product_id", "products.id"),
    sa.Column("on_hand", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("reserved", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("warehouse_id", "product_id"),
    sa.Index(None, "product_id"),
    sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    sa.CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    # room on every page, so that reserving updates rows in place (HOT) without index churn
    postgresql_with={"fillfactor": 70},
)

stock_movements = sa.Table(
    "stock_movements",
    metadata,
    id_column(),
    fk("stock_id", "stock.id"),
    fk("warehouse_id", "warehouses.id"),
    fk("product_id", "products.id"),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("on_hand_after", sa.Integer(), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("reference", sa.String(255), nullable=True),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Index(None, "stock_id", "id"),
    sa.Index(None, "occurred_at"),
    sa.CheckConstraint("on_hand_after >= 0", name="on_hand_after_not_negative"),
)
