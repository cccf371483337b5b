"""Carriers' pickup points (СДЭК's offices and parcel lockers, ...), synced from each
carrier into Potok so that checkouts find them near an address without asking the carrier."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import id_column, metadata
from potok.db.types import UtcDateTime

carrier_points = sa.Table(
    "carrier_points",
    metadata,
    id_column(),
    sa.Column("carrier", sa.String(32), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # PVZ, POSTAMAT, ...
    sa.Column("city", sa.String(120), nullable=False),
    sa.Column("address", sa.String(500), nullable=False),
    sa.Column("latitude", sa.Float(), nullable=False),
    sa.Column("longitude", sa.Float(), nullable=False),
    sa.Column("hours", sa.String(200), nullable=False, server_default=""),
    sa.Column("storage_days", sa.Integer(), nullable=False),
    sa.Column("cash_on_delivery", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    sa.Column("cards", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    sa.Column("weight_max_g", sa.Integer(), nullable=True),
    # a locker's cells, "LxWxH" in mm each, ";" between them; "" when sizes are not limited
    sa.Column("cells", sa.String(500), nullable=False, server_default=""),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    sa.Column("synced_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("carrier", "code"),
    sa.Index(None, "city"),
    sa.Index(None, "latitude", "longitude"),
    sa.CheckConstraint("storage_days > 0", name="storage_days_positive"),
)
