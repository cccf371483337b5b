"""Shipments with their items, parcels, unit codes and steps, and picking waves.

A shipment is one warehouse's part (one parcel group) of an order. Its items are frozen
from the order's reservations when picking starts; ``reservations.shipment_id`` marks the
reservations a started shipment holds. ``shipment_codes`` keeps every marking code, IMEI
and UIN packed; an active code is unique, so one unit never ships twice, even when two
packers race.
"""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata, timestamps
from potok.db.types import UtcDateTime, id_type, json_type

waves = sa.Table(
    "waves",
    metadata,
    id_column(),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    fk("warehouse_id", "warehouses.id"),
    sa.Column("status", sa.String(20), nullable=False),  # open, picking, done, cancelled
    sa.Column("created_by", sa.String(255), nullable=False),
    *timestamps(),
    sa.Column("started_at", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Index(None, "warehouse_id", "status"),
)

shipments = sa.Table(
    "shipments",
    metadata,
    id_column(),
    fk("order_id", "orders.id"),
    sa.Column("seq", sa.Integer(), nullable=False),  # 1.. within the order
    fk("warehouse_id", "warehouses.id"),
    sa.Column("parcel_group", sa.String(32), nullable=False, server_default=""),
    sa.Column("status", sa.String(24), nullable=False),
    fk("wave_id", "waves.id", nullable=True),
    sa.Column("carrier", sa.String(32), nullable=True),
    # the carrier to book it with: sourcing's choice, or the operator's since
    sa.Column("planned_carrier", sa.String(32), nullable=True),
    sa.Column("carrier_ref", sa.String(64), nullable=True),
    sa.Column("tracking_number", sa.String(64), nullable=True),
    sa.Column("label", sa.String(500), nullable=True),
    sa.Column("tariff", sa.String(64), nullable=True),
    sa.Column("promised_on", sa.Date(), nullable=True),
    sa.Column("eta_on", sa.Date(), nullable=True),
    sa.Column("storage_until", UtcDateTime(), nullable=True),
    sa.Column("handed_over_at", UtcDateTime(), nullable=True),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    *timestamps(),
    sa.UniqueConstraint("order_id", "seq"),
    sa.Index(None, "warehouse_id", "status"),
    sa.Index(None, "wave_id"),
    sa.Index(None, "status", "updated_at"),
    sa.Index(None, "carrier", "tracking_number"),
    sa.Index(
        "uq_shipments_pending",  # one pending shipment per order, warehouse and parcel group
        "order_id",
        "warehouse_id",
        "parcel_group",
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    ),
    sa.CheckConstraint("seq >= 1", name="seq_positive"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
)

shipment_items = sa.Table(
    "shipment_items",
    metadata,
    sa.Column(
        "shipment_id",
        id_type(),
        sa.ForeignKey("shipments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("item_no", sa.Integer(), primary_key=True),
    sa.Column("line_no", sa.Integer(), nullable=False),
    fk("product_id", "products.id"),
    fk("stock_id", "stock.id"),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("picked", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("packed", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("serials", json_type(), nullable=False),  # set aside for it (serialised goods)
    sa.Column("picked_serials", json_type(), nullable=False),
    sa.Index(None, "product_id"),
    sa.CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    sa.CheckConstraint("picked >= 0 AND picked <= quantity", name="picked_within_quantity"),
    sa.CheckConstraint("packed >= 0 AND packed <= picked", name="packed_within_picked"),
)

shipment_steps = sa.Table(
    "shipment_steps",
    metadata,
    id_column(),
    fk("shipment_id", "shipments.id", ondelete="CASCADE"),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("from_status", sa.String(24), nullable=True),
    sa.Column("to_status", sa.String(24), nullable=False),
    sa.Column("reason", sa.String(1000), nullable=True),
    sa.Column("details", json_type(), nullable=False),
    sa.Index(None, "shipment_id", "id"),
    sa.Index(None, "occurred_at"),
)

parcels = sa.Table(
    "parcels",
    metadata,
    sa.Column(
        "shipment_id",
        id_type(),
        sa.ForeignKey("shipments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("parcel_no", sa.Integer(), primary_key=True),
    sa.Column("weight_g", sa.Integer(), nullable=False),
    sa.Column("length_mm", sa.Integer(), nullable=False),
    sa.Column("width_mm", sa.Integer(), nullable=False),
    sa.Column("height_mm", sa.Integer(), nullable=False),
    sa.Column("contents", json_type(), nullable=False),  # item number to units
    sa.Column("packed_at", UtcDateTime(), nullable=False),
    sa.Column("packed_by", sa.String(255), nullable=False),
    sa.CheckConstraint("weight_g > 0", name="weight_positive"),
    sa.CheckConstraint(
        "length_mm > 0 AND width_mm > 0 AND height_mm > 0", name="dimensions_positive"
    ),
)

shipment_codes = sa.Table(
    "shipment_codes",
    metadata,
    id_column(),
    fk("shipment_id", "shipments.id", ondelete="CASCADE"),
    sa.Column("parcel_no", sa.Integer(), nullable=False),
    sa.Column("item_no", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # marking, imei, uin
    sa.Column("code_key", sa.String(64), nullable=False),  # GTIN + serial, or the number
    sa.Column("value", sa.String(255), nullable=False),  # the full code as it will be reported
    sa.Column("gtin", sa.String(14), nullable=True),
    # packed or shipped; a cancelled shipment or one returned to sender frees its codes
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    sa.Index(None, "shipment_id"),
    sa.Index(
        "uq_shipment_codes_active",
        "kind",
        "code_key",
        unique=True,
        postgresql_where=sa.text("active"),
        sqlite_where=sa.text("active"),
    ),
)

__all__ = ["parcels", "shipment_codes", "shipment_items", "shipment_steps", "shipments", "waves"]
overdue_thresholds = sa.Table(
    "overdue_thresholds",
    metadata,
    id_column(),
    sa.Column("stage", sa.String(32), nullable=False),  # a shipment status
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("minutes", sa.Integer(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.UniqueConstraint("stage", "version"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
    sa.CheckConstraint("minutes > 0", name="minutes_positive"),
)
