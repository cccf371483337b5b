"""Carriers' labels the worker fetches after a booking (and bookings it retries while the
carrier is down): one row per shipment, with its state, attempts and the PDF once ready."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import metadata
from potok.db.types import UtcDateTime, id_type

carrier_labels = sa.Table(
    "carrier_labels",
    metadata,
    sa.Column(
        "shipment_id",
        id_type(),
        sa.ForeignKey("shipments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("carrier", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # waiting, ready, failed
    sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("pdf", sa.LargeBinary(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index(None, "state", "next_attempt_at"),
    sa.CheckConstraint("state IN ('waiting', 'ready', 'failed')", name="state_known"),
    sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
)
