"""the stock positions' page index unique, reservations without a shipment left out of the
index of their shipments; on PostgreSQL a reservation's key to its stock
row carries the row's warehouse and product (one check instead of three), and an order's
channel and an order line's product are checked once per statement by triggers instead
of row by row by foreign keys that locked the parent rows (``db/reference_guard.py``);
SQLite keeps its foreign keys

Revision ID: f162a3b030d7
Revises: 5b1e9d3a1815
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db import reference_guard

revision: str = "f162a3b030d7"
down_revision: str | None = "5b1e9d3a1815"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE_ORDER = "ix_stock_warehouse_id_product_id_id"
SHIPMENT = "ix_reservations_shipment_id"
WITH_SHIPMENT = "shipment_id IS NOT NULL"


def upgrade() -> None:
    op.drop_index(PAGE_ORDER, table_name="stock")
    op.create_index(PAGE_ORDER, "stock", ["warehouse_id", "product_id", "id"], unique=True)
    op.drop_index(SHIPMENT, table_name="reservations")
    op.create_index(
        SHIPMENT,
        "reservations",
        ["shipment_id"],
        postgresql_where=sa.text(WITH_SHIPMENT),
        sqlite_where=sa.text(WITH_SHIPMENT),
    )
    reference_guard.install(op.get_bind())


def downgrade() -> None:
    reference_guard.uninstall(op.get_bind())
    op.drop_index(SHIPMENT, table_name="reservations")
    op.create_index(SHIPMENT, "reservations", ["shipment_id"])
    op.drop_index(PAGE_ORDER, table_name="stock")
    op.create_index(PAGE_ORDER, "stock", ["warehouse_id", "product_id", "id"])
