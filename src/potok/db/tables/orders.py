"""Orders, their lines, reservations, holds and history."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata
from potok.db.types import Amount, Percent, UtcDateTime, id_type, json_type
from potok.domain.orders.status import NEEDS_ACTION

WAITING = f"status IN ({', '.join(repr(s.value) for s in NEEDS_ACTION)})"
"""The orders waiting for an operator, whose count the dashboard shows (kept by a partial
index: a few among millions; the migration that made it spells the same statuses)."""

orders = sa.Table(
    "orders",
    metadata,
    id_column(),
    fk("channel_id", "channels.id"),
    sa.Column("external_id", sa.String(128), nullable=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("allocation", sa.String(20), nullable=False),
    sa.Column("payment_status", sa.String(24), nullable=False),
    sa.Column("payment_method", sa.String(24), nullable=True),  # None: the channel did not say
    sa.Column("status", sa.String(24), nullable=False),  # derived; kept for filtering
    # rolled up from the order's shipments: none, in_fulfilment, ..., delivered
    sa.Column("fulfilment", sa.String(24), nullable=False, server_default="none"),
    # rolled up from the order's returns: none, partial, all
    sa.Column("returned", sa.String(16), nullable=False, server_default="none"),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("subtotal", Amount(), nullable=False),
    sa.Column("delivery_price", Amount(), nullable=False),
    sa.Column("delivery_vat_rate", Percent(), nullable=False),
    sa.Column("vat_total", Amount(), nullable=False),
    sa.Column("total", Amount(), nullable=False),
    fk("customer_id", "customers.id", nullable=True),
    # personal data, encrypted; searched through the keyed hashes
    sa.Column("customer_name", sa.Text(), nullable=False, server_default=""),
    sa.Column("customer_phone", sa.Text(), nullable=True),
    sa.Column("customer_email", sa.Text(), nullable=True),
    sa.Column("customer_name_hash", sa.String(64), nullable=True),
    sa.Column("customer_phone_hash", sa.String(64), nullable=True),
    sa.Column("customer_email_hash", sa.String(64), nullable=True),
    sa.Column("delivery_method", sa.String(20), nullable=False),
    sa.Column("address_country", sa.String(2), nullable=True),
    sa.Column("address_region", sa.String(120), nullable=True),
    sa.Column("address_city", sa.String(120), nullable=True),
    sa.Column("address_postal_code", sa.Text(), nullable=True),  # encrypted
    sa.Column("address_line1", sa.Text(), nullable=True),  # encrypted
    sa.Column("address_line2", sa.Text(), nullable=True),  # encrypted
    fk("pickup_point_id", "warehouses.id", nullable=True),
    # the one location allowed to fulfil it (a marketplace's FBS order), when not any
    fk("ship_from_id", "warehouses.id", nullable=True),
    # a carrier's point from the directory (carrier_points.code), when no location of Potok's
    sa.Column("carrier_point", sa.String(64), nullable=True),
    sa.Column("destination_latitude", sa.Float(), nullable=True),
    sa.Column("destination_longitude", sa.Float(), nullable=True),
    sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("promised_at", UtcDateTime(), nullable=True),
    sa.Column("payment_due_at", UtcDateTime(), nullable=True),
    sa.Column("comment", sa.Text(), nullable=False, server_default=""),
    sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("confirmed_at", UtcDateTime(), nullable=True),
    sa.Column("cancelled_at", UtcDateTime(), nullable=True),
    sa.Column("cancel_reason", sa.String(500), nullable=True),
    sa.UniqueConstraint("channel_id", "external_id"),
    sa.Index(None, "created_at"),
    sa.Index(None, "status", "created_at"),
    # orders without a phone or an e-mail (marketplaces', most web orders') cost no entry
    sa.Index(
        None,
        "customer_phone_hash",
        postgresql_where=sa.text("customer_phone_hash IS NOT NULL"),
        sqlite_where=sa.text("customer_phone_hash IS NOT NULL"),
    ),
    sa.Index(
        None,
        "customer_email_hash",
        postgresql_where=sa.text("customer_email_hash IS NOT NULL"),
        sqlite_where=sa.text("customer_email_hash IS NOT NULL"),
    ),
    sa.Index(None, "customer_name_hash"),
    sa.Index(None, "customer_id"),  # the customer's orders, which rules count
    sa.Index(
        "ix_orders_backordered",
        "priority",
        "created_at",
        postgresql_where=sa.text("allocation = 'backordered' AND state <> 'cancelled'"),
        sqlite_where=sa.text("allocation = 'backordered' AND state <> 'cancelled'"),
    ),
    sa.Index(
        "ix_orders_waiting",
        "status",
        "channel_id",
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    ),
    sa.Index(
        "ix_orders_payment_due",
        "payment_due_at",
        postgresql_where=sa.text("payment_due_at IS NOT NULL"),
        sqlite_where=sa.text("payment_due_at IS NOT NULL"),
    ),
    sa.CheckConstraint("priority BETWEEN 0 AND 9", name="priority_range"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column(
        "order_id",
        id_type(),
        sa.ForeignKey("orders.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("line_no", sa.Integer(), primary_key=True),
    fk("product_id", "products.id"),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("unit_price", Amount(), nullable=False),
    sa.Column("vat_rate", Percent(), nullable=False),
    sa.Column("total", Amount(), nullable=False),
    sa.Index(None, "product_id"),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

reservations = sa.Table(
    "reservations",
    metadata,
    id_column(),
    fk("order_id", "orders.id", ondelete="CASCADE"),
    sa.Column("line_no", sa.Integer(), nullable=False),
    fk("stock_id", "stock.id"),
    fk("warehouse_id", "warehouses.id"),
    fk("product_id", "products.id"),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    # the started shipment that picks these units (and, consumed, shipped them)
    fk("shipment_id", "shipments.id", nullable=True),
    sa.Index(None, "order_id"),
    # a shipment's reservations; none has one at intake, so the index leaves them out
    sa.Index(
        "ix_reservations_shipment_id",
        "shipment_id",
        postgresql_where=sa.text("shipment_id IS NOT NULL"),
        sqlite_where=sa.text("shipment_id IS NOT NULL"),
    ),
    sa.Index(
        "ix_reservations_open_stock",
        "stock_id",
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    ),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

order_holds = sa.Table(
    "order_holds",
    metadata,
    sa.Column(
        "order_id",
        id_type(),
        sa.ForeignKey("orders.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("hold_no", sa.Integer(), primary_key=True),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("placed_at", UtcDateTime(), nullable=False),
    sa.Column("placed_by", sa.String(255), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Column("ended_by", sa.String(255), nullable=True),
    sa.Column("end_reason", sa.String(500), nullable=True),
    sa.Index(
        "ix_order_holds_expiring",
        "expires_at",
        postgresql_where=sa.text("state = 'active' AND expires_at IS NOT NULL"),
        sqlite_where=sa.text("state = 'active' AND expires_at IS NOT NULL"),
    ),
)

order_history = sa.Table(
    "order_history",
    metadata,
    id_column(),
    fk("order_id", "orders.id", ondelete="CASCADE"),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("reason", sa.String(1000), nullable=True),
    sa.Column("from_status", sa.String(24), nullable=True),
    sa.Column("to_status", sa.String(24), nullable=False),
    sa.Column("details", json_type(), nullable=False),
    sa.Index(None, "order_id", "id"),
)
