"""Payments through a gateway: each channel's account, each order's gateway payment and the
refunds given back through it."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata, timestamps
from potok.db.types import Amount, UtcDateTime

payment_accounts = sa.Table(
    "payment_accounts",
    metadata,
    id_column(),
    fk("channel_id", "channels.id"),
    sa.Column("gateway", sa.String(32), nullable=False),
    sa.Column("shop_id", sa.String(20), nullable=False),
    sa.Column("credentials", sa.Text(), nullable=False),  # the secret key, sealed (pd1:...)
    sa.Column("return_url", sa.String(2000), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    *timestamps(),
    sa.UniqueConstraint("channel_id"),
)

gateway_payments = sa.Table(
    "gateway_payments",
    metadata,
    id_column(),
    fk("order_id", "orders.id"),
    sa.Column("gateway", sa.String(32), nullable=False),
    sa.Column("gateway_id", sa.String(64), nullable=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", Amount(), nullable=False),
    sa.Column("captured_amount", Amount(), nullable=False),
    sa.Column("confirmation_url", sa.String(2000), nullable=True),
    sa.Column("authorized_at", UtcDateTime(), nullable=True),
    sa.Column("captured_at", UtcDateTime(), nullable=True),
    sa.Column("canceled_at", UtcDateTime(), nullable=True),
    sa.Column("cancel_reason", sa.String(200), nullable=True),
    sa.Column("last_error", sa.String(1000), nullable=True),
    sa.Column("checked_at", UtcDateTime(), nullable=True),  # last read back from the gateway
    *timestamps(),
    sa.UniqueConstraint("order_id"),  # one gateway payment per order
    sa.UniqueConstraint("gateway", "gateway_id"),
    sa.Index(None, "status", "updated_at"),
    sa.CheckConstraint(
        "status IN ('pending', 'waiting_for_capture', 'succeeded', 'canceled')",
        name="status_known",
    ),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.CheckConstraint(
        "captured_amount >= 0 AND captured_amount <= amount", name="captured_within_amount"
    ),
)

gateway_refunds = sa.Table(
    "gateway_refunds",
    metadata,
    id_column(),
    fk("payment_id", "gateway_payments.id", ondelete="CASCADE"),
    sa.Column("return_number", sa.String(32), nullable=False),
    sa.Column("gateway_id", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("amount", Amount(), nullable=False),
    sa.Column("last_error", sa.String(1000), nullable=True),
    *timestamps(),
    sa.UniqueConstraint("return_number"),  # a return is refunded once
    sa.Index(None, "payment_id"),
    sa.CheckConstraint("status IN ('pending', 'succeeded', 'canceled')", name="status_known"),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
)
