"""Read models for reports: one fact row per order, kept current by an after-commit
reaction to order, shipment and return events and rebuilt from history on demand."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import metadata
from potok.db.types import Amount, UtcDateTime, id_type

order_facts = sa.Table(
    "order_facts",
    metadata,
    sa.Column(
        "order_id", id_type(), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("warehouse", sa.String(64), nullable=False, server_default=""),
    sa.Column("carrier", sa.String(32), nullable=False, server_default=""),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total", Amount(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_on", sa.Date(), nullable=False),
    sa.Column("units_ordered", sa.Integer(), nullable=False),
    sa.Column("units_shipped", sa.Integer(), nullable=False),
    sa.Column("confirmed_at", UtcDateTime(), nullable=True),
    sa.Column("picked_at", UtcDateTime(), nullable=True),
    sa.Column("packed_at", UtcDateTime(), nullable=True),
    sa.Column("handed_over_at", UtcDateTime(), nullable=True),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Column("promised_at", UtcDateTime(), nullable=True),
    sa.Column("cancelled", sa.Boolean(), nullable=False),
    sa.Column("cancel_reason", sa.String(500), nullable=True),
    sa.Column("backordered", sa.Boolean(), nullable=False),
    sa.Column("returned", sa.Boolean(), nullable=False),
    sa.Column("return_reason", sa.String(40), nullable=True),
    sa.Column("shipping_cost", Amount(), nullable=True),
    sa.Column("shipping_estimate", Amount(), nullable=True),
    sa.Column("refreshed_at", UtcDateTime(), nullable=False),
    sa.Index(None, "created_on", "channel"),
)

__all__ = ["order_facts"]
