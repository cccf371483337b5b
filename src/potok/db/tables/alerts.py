"""Alerts for operators: exceptions a person has to look at, until someone acknowledges them."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata
from potok.db.types import UtcDateTime

operator_alerts = sa.Table(
    "operator_alerts",
    metadata,
    id_column(),
    sa.Column("raised_at", UtcDateTime(), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),  # order_backordered_after_rerouting, ...
    fk("order_id", "orders.id", nullable=True, ondelete="CASCADE"),
    sa.Column("message", sa.String(2000), nullable=False),
    sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
    sa.Column("acknowledged_by", sa.String(255), nullable=True),
    # what the alert is about when that is not an order: one alert per kind and subject
    sa.Column("subject", sa.String(255), nullable=True),
    # the location an alert of no order is about: its warehouse staff see it, others' not
    fk("warehouse_id", "warehouses.id", nullable=True, ondelete="CASCADE"),
    sa.Index(None, "order_id"),
    sa.Index(None, "warehouse_id"),
    sa.Index("ix_operator_alerts_kind_subject", "kind", "subject", unique=True),
    sa.Index(
        "ix_operator_alerts_open",
        "id",
        postgresql_where=sa.text("acknowledged_at IS NULL"),
        sqlite_where=sa.text("acknowledged_at IS NULL"),
    ),
)
