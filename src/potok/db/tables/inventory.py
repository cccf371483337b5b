"""Stock positions, lots, serial numbers, storage locations and the append-only stock ledger.

A position is one (warehouse, product, lot) - ``lot_id`` is NULL for products that are not
kept by lot. Its buckets: ``on_hand`` (physically there), ``reserved`` (promised to
orders), ``unavailable`` (there but not sellable: damaged, in quality check, expired);
``available = on_hand - reserved - unavailable``. Incoming stock lives on the documents
that bring it (transfers, purchase orders) and safety stock on the stock rules.
"""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata, timestamps
from potok.db.types import UtcDateTime, id_type

lots = sa.Table(
    "lots",
    metadata,
    id_column(),
    fk("product_id", "products.id"),
    sa.Column("number", sa.String(64), nullable=False),
    sa.Column("produced_on", sa.Date(), nullable=True),
    sa.Column("expires_on", sa.Date(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("product_id", "number"),
    sa.Index(None, "expires_on"),
    sa.CheckConstraint(
        "produced_on IS NULL OR expires_on IS NULL OR produced_on <= expires_on",
        name="produced_before_expiry",
    ),
)

storage_locations = sa.Table(
    "storage_locations",
    metadata,
    id_column(),
    fk("warehouse_id", "warehouses.id"),
    sa.Column("code", sa.String(64), nullable=False),  # bin address, e.g. A-01-03-2
    sa.Column("zone", sa.String(64), nullable=False, server_default=""),
    sa.Column("pick_sequence", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    *timestamps(),
    sa.UniqueConstraint("warehouse_id", "code"),
)

stock = sa.Table(
    "stock",
    metadata,
    id_column(),
    fk("warehouse_id", "warehouses.id"),
    fk("product_id", "products.id"),
    fk("lot_id", "lots.id", nullable=True),
    fk("location_id", "storage_locations.id", nullable=True),
    sa.Column("on_hand", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("reserved", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("unavailable", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("received_at", UtcDateTime(), nullable=True),  # first receipt, for FIFO
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("warehouse_id", "product_id", "lot_id"),
    sa.Index(
        "uq_stock_warehouse_id_product_id_no_lot",
        "warehouse_id",
        "product_id",
        unique=True,
        postgresql_where=sa.text("lot_id IS NULL"),
        sqlite_where=sa.text("lot_id IS NULL"),
    ),
    sa.Index(None, "product_id"),
    sa.Index(None, "lot_id"),
    # the stock levels' page order: one warehouse's positions from a cursor on, a page at a
    # time; unique (id alone is) so that a ledger row can name its position by all three
    sa.Index(
        "uq_stock_warehouse_id_product_id_id", "warehouse_id", "product_id", "id", unique=True
    ),
    sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    sa.CheckConstraint("unavailable >= 0", name="unavailable_not_negative"),
    sa.CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    sa.CheckConstraint("reserved + unavailable <= on_hand", name="committed_within_on_hand"),
    # room on every page, so that reserving updates rows in place (HOT) without index churn
    postgresql_with={"fillfactor": 70},
)

stock_movements = sa.Table(
    "stock_movements",
    metadata,
    id_column(),
    sa.Column("stock_id", id_type(), nullable=False),
    sa.Column("warehouse_id", id_type(), nullable=False),
    sa.Column("product_id", id_type(), nullable=False),
    fk("lot_id", "lots.id", nullable=True),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("quantity", sa.Integer(), nullable=False),  # change of on_hand
    sa.Column("on_hand_after", sa.Integer(), nullable=False),
    # change of the unavailable bucket (damage, quality check, expiry, release back)
    sa.Column("unavailable_change", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("reference", sa.String(255), nullable=True),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Index(None, "stock_id", "id"),
    sa.Index(None, "occurred_at"),
    sa.CheckConstraint("on_hand_after >= 0", name="on_hand_after_not_negative"),
    # one key for the movement's position, warehouse and product: one check per movement,
    # and a movement's warehouse and product are always its position's (they have keys)
    sa.ForeignKeyConstraint(
        ["warehouse_id", "product_id", "stock_id"],
        ["stock.warehouse_id", "stock.product_id", "stock.id"],
    ),
)

serials = sa.Table(
    "serials",
    metadata,
    id_column(),
    fk("product_id", "products.id"),
    sa.Column("serial", sa.String(100), nullable=False),
    # in_stock, reserved, in_transit, shipped, written_off
    sa.Column("status", sa.String(20), nullable=False),
    fk("stock_id", "stock.id", nullable=True),  # the position it lies in, when it lies anywhere
    fk("warehouse_id", "warehouses.id", nullable=True),
    fk("lot_id", "lots.id", nullable=True),
    # the order line that took it; checked at commit, since intake writes its order last
    sa.Column(
        "order_id",
        id_type(),
        sa.ForeignKey("orders.id", deferrable=True, initially="DEFERRED"),
        nullable=True,
    ),
    sa.Column("line_no", sa.Integer(), nullable=True),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("product_id", "serial"),
    sa.Index(None, "stock_id", "status"),
    sa.Index(None, "order_id"),
)

stock_rules = sa.Table(
    "stock_rules",
    metadata,
    id_column(),
    fk("warehouse_id", "warehouses.id"),
    fk("product_id", "products.id"),
    sa.Column("min_level", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("max_level", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("safety_stock", sa.Integer(), nullable=False, server_default="0"),
    # the last state seen, so that crossing the minimum raises its event once
    sa.Column("below_minimum", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    *timestamps(),
    sa.UniqueConstraint("warehouse_id", "product_id"),
    sa.CheckConstraint("min_level >= 0", name="min_not_negative"),
    sa.CheckConstraint("max_level >= min_level", name="max_at_least_min"),
    sa.CheckConstraint("safety_stock >= 0", name="safety_not_negative"),
)

transfers = sa.Table(
    "transfers",
    metadata,
    id_column(),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    fk("from_warehouse_id", "warehouses.id"),
    fk("to_warehouse_id", "warehouses.id"),
    sa.Column("status", sa.String(20), nullable=False),  # requested, shipped, received, cancelled
    sa.Column("expected_on", sa.Date(), nullable=True),
    sa.Column("comment", sa.String(500), nullable=False, server_default=""),
    sa.Column("created_by", sa.String(255), nullable=False),
    *timestamps(),
    sa.Column("shipped_at", UtcDateTime(), nullable=True),
    sa.Column("received_at", UtcDateTime(), nullable=True),
    # the customer order whose units it brings to the warehouse that ships it (consolidation);
    # checked at commit: intake on PostgreSQL writes the order's own row with the commit
    sa.Column(
        "order_id",
        id_type(),
        sa.ForeignKey("orders.id", ondelete="SET NULL", deferrable=True, initially="DEFERRED"),
        nullable=True,
    ),
    sa.Index(None, "status"),
    sa.Index(None, "order_id"),
    sa.CheckConstraint("from_warehouse_id <> to_warehouse_id", name="two_warehouses"),
)

transfer_lines = sa.Table(
    "transfer_lines",
    metadata,
    id_column(),
    fk("transfer_id", "transfers.id", ondelete="CASCADE"),
    sa.Column("line_no", sa.Integer(), nullable=False),
    fk("product_id", "products.id"),
    fk("lot_id", "lots.id", nullable=True),
    sa.Column("quantity", sa.Integer(), nullable=False),  # requested
    sa.Column("shipped_quantity", sa.Integer(), nullable=True),
    sa.Column("received_quantity", sa.Integer(), nullable=True),
    sa.Column("discrepancy_reason", sa.String(500), nullable=True),
    sa.UniqueConstraint("transfer_id", "line_no"),
    sa.Index(None, "product_id"),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

purchase_orders = sa.Table(
    "purchase_orders",
    metadata,
    id_column(),
    sa.Column("number", sa.String(64), nullable=False, unique=True),
    sa.Column("supplier", sa.String(255), nullable=False),
    fk("warehouse_id", "warehouses.id"),
    sa.Column("status", sa.String(20), nullable=False),  # open, received, cancelled
    sa.Column("expected_on", sa.Date(), nullable=True),
    sa.Column("created_by", sa.String(255), nullable=False),
    *timestamps(),
    sa.Index(None, "status"),
)

purchase_order_lines = sa.Table(
    "purchase_order_lines",
    metadata,
    id_column(),
    fk("purchase_order_id", "purchase_orders.id", ondelete="CASCADE"),
    sa.Column("line_no", sa.Integer(), nullable=False),
    fk("product_id", "products.id"),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("received_quantity", sa.Integer(), nullable=False, server_default="0"),
    sa.UniqueConstraint("purchase_order_id", "line_no"),
    sa.Index(None, "product_id"),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.CheckConstraint("received_quantity >= 0", name="received_not_negative"),
)

stock_counts = sa.Table(
    "stock_counts",
    metadata,
    id_column(),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    fk("warehouse_id", "warehouses.id"),
    sa.Column("zone", sa.String(64), nullable=True),  # NULL: the whole warehouse
    sa.Column("status", sa.String(20), nullable=False),  # open, submitted, approved, cancelled
    sa.Column("created_by", sa.String(255), nullable=False),
    *timestamps(),
    sa.Column("approved_by", sa.String(255), nullable=True),
    sa.Column("approved_at", UtcDateTime(), nullable=True),
    sa.Index(None, "warehouse_id", "status"),
)

stock_count_lines = sa.Table(
    "stock_count_lines",
    metadata,
    id_column(),
    fk("count_id", "stock_counts.id", ondelete="CASCADE"),
    fk("stock_id", "stock.id"),
    fk("product_id", "products.id"),
    fk("lot_id", "lots.id", nullable=True),
    fk("location_id", "storage_locations.id", nullable=True),
    sa.Column("expected", sa.Integer(), nullable=False),  # on hand when the sheet was made
    sa.Column("counted", sa.Integer(), nullable=True),
    sa.Column("counted_by", sa.String(255), nullable=True),
    sa.Column("counted_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("count_id", "stock_id"),
    sa.CheckConstraint("counted IS NULL OR counted >= 0", name="counted_not_negative"),
)
