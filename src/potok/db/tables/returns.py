"""Returns (RMA), their lines and the steps each went through."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata, timestamps
from potok.db.types import Amount, Percent, UtcDateTime, id_type, json_type

returns = sa.Table(
    "returns",
    metadata,
    id_column(),
    sa.Column("number", sa.String(32), nullable=False, unique=True),  # RT-000001
    fk("order_id", "orders.id"),
    sa.Column("source", sa.String(16), nullable=False),  # customer or unclaimed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    # the parcel that came back undelivered: one return per such shipment
    fk("shipment_id", "shipments.id", nullable=True),
    fk("warehouse_id", "warehouses.id", nullable=True),  # where it was received
    sa.Column("refund_amount", Amount(), nullable=False),  # kept for lists and sums
    sa.Column("refund_shipping", Amount(), nullable=False),
    sa.Column("refund_status", sa.String(16), nullable=False),
    sa.Column("refund_paid_at", UtcDateTime(), nullable=True),
    sa.Column("comment", sa.String(500), nullable=False, server_default=""),
    fk("exchange_order_id", "orders.id", nullable=True),  # the replacement, for an exchange
    sa.Column("exchange_value", Amount(), nullable=False, server_default="0"),
    sa.Column("exchange_vat", Amount(), nullable=False, server_default="0"),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=True),
    sa.Column("inspected_at", UtcDateTime(), nullable=True),
    sa.Column("closed_at", UtcDateTime(), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    *timestamps(),
    sa.UniqueConstraint("shipment_id"),
    sa.Index(None, "order_id"),
    sa.Index(None, "status", "created_at"),
    sa.CheckConstraint("refund_amount >= 0", name="refund_not_negative"),
    sa.CheckConstraint("refund_shipping >= 0", name="refund_shipping_not_negative"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
)

return_lines = sa.Table(
    "return_lines",
    metadata,
    sa.Column(
        "return_id",
        id_type(),
        sa.ForeignKey("returns.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("line_no", sa.Integer(), primary_key=True),
    sa.Column("order_line_no", sa.Integer(), nullable=False),
    fk("product_id", "products.id"),
    fk("lot_id", "lots.id", nullable=True),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("unit_price", Amount(), nullable=False),
    sa.Column("vat_rate", Percent(), nullable=False),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("note", sa.String(500), nullable=False, server_default=""),
    sa.Column("units", json_type(), nullable=False),  # serials or marking codes named
    sa.Column("received", sa.Integer(), nullable=True),
    sa.Column("restocked", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("kept_unavailable", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("written_off", sa.Integer(), nullable=False, server_default="0"),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.CheckConstraint(
        "received IS NULL OR (received >= 0 AND received <= quantity)", name="received_in_range"
    ),
    sa.CheckConstraint(
        "restocked >= 0 AND kept_unavailable >= 0 AND written_off >= 0", name="outcomes_positive"
    ),
    sa.CheckConstraint(
        "restocked + kept_unavailable + written_off <= COALESCE(received, 0)",
        name="outcomes_within_received",
    ),
)

return_steps = sa.Table(
    "return_steps",
    metadata,
    id_column(),
    fk("return_id", "returns.id", ondelete="CASCADE"),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=True),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(1000), nullable=True),
    sa.Column("details", json_type(), nullable=False),
    sa.Index(None, "return_id", "id"),
)

__all__ = ["return_lines", "return_steps", "returns"]
