"""Receipts of stores' tills: each recorded once per store, with its lines."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata
from potok.db.types import Amount, UtcDateTime, json_type

store_receipts = sa.Table(
    "store_receipts",
    metadata,
    id_column(),
    fk("warehouse_id", "warehouses.id"),
    sa.Column("receipt_id", sa.String(64), nullable=False),  # the till's own id
    sa.Column("kind", sa.String(10), nullable=False),  # sale or return
    sa.Column("till", sa.String(64), nullable=False, server_default=""),
    sa.Column("sold_at", UtcDateTime(), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("units", sa.Integer(), nullable=False),
    sa.Column("total", Amount(), nullable=False),
    # [{"sku", "quantity", "price", "marking_codes"}]
    sa.Column("lines", json_type(), nullable=False),
    sa.UniqueConstraint("warehouse_id", "receipt_id"),
    sa.Index(None, "warehouse_id", "sold_at"),
    sa.CheckConstraint("kind IN ('sale', 'return')", name="kind_known"),
)
