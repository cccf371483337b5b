"""Shipping tariffs and routing rules: every version kept, each with who made it and when."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata
from potok.db.types import ScaledDecimal, UtcDateTime, json_type

tariff_versions = sa.Table(
    "tariff_versions",
    metadata,
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("tariffs", sa.Integer(), nullable=False),
    sa.Column("source", sa.String(255), nullable=False, server_default=""),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

shipping_tariffs = sa.Table(
    "shipping_tariffs",
    metadata,
    id_column(),
    sa.Column(
        "version",
        sa.Integer(),
        sa.ForeignKey("tariff_versions.version", ondelete="CASCADE"),
        nullable=False,
    ),
    fk("warehouse_id", "warehouses.id", nullable=True),  # NULL: every warehouse
    sa.Column("region", sa.String(120), nullable=True),  # NULL: a distance band
    sa.Column("min_km", sa.Float(), nullable=False, server_default="0"),
    sa.Column("max_km", sa.Float(), nullable=True),  # NULL: no end
    sa.Column("fixed", ScaledDecimal(14, 2), nullable=False),
    sa.Column("per_kg", ScaledDecimal(14, 4), nullable=False),
    sa.Column("per_km", ScaledDecimal(14, 4), nullable=False),
    sa.Column("days", sa.Integer(), nullable=False),
    sa.CheckConstraint("days >= 0", name="days_not_negative"),
    sa.CheckConstraint("max_km IS NULL OR min_km < max_km", name="band_ordered"),
    sa.Index(None, "version"),
)

routing_rules = sa.Table(
    "routing_rules",
    metadata,
    id_column(),
    fk("channel_id", "channels.id", nullable=True),  # NULL: the network default
    sa.Column("order_type", sa.String(20), nullable=False, server_default="*"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("rules", json_type(), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("channel_id", "order_type", "version"),
)

sourcing_decisions = sa.Table(
    "sourcing_decisions",
    metadata,
    id_column(),
    fk("order_id", "orders.id", ondelete="CASCADE"),
    sa.Column("decided_at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # reserved, backordered
    sa.Column("trigger", sa.String(255), nullable=False, server_default=""),
    sa.Column("warehouses", sa.String(500), nullable=False, server_default=""),
    sa.Column("total_cost", ScaledDecimal(14, 2), nullable=True),
    sa.Column("rules_version", sa.String(120), nullable=False),
    sa.Column("tariffs_version", sa.String(40), nullable=False),
    sa.Column("record", json_type(), nullable=False),
    sa.Index(None, "order_id", "id"),
)

replan_runs = sa.Table(
    "replan_runs",
    metadata,
    id_column(),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("scope", json_type(), nullable=False),  # channel, warehouse, limit, time limit
    sa.Column("method", sa.String(40), nullable=False),  # mip-optimal, mip-time-limit, greedy
    sa.Column("orders_considered", sa.Integer(), nullable=False),
    sa.Column("orders_changed", sa.Integer(), nullable=False),
    sa.Column("orders_skipped", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("backorders_reserved", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("cost_before", ScaledDecimal(14, 2), nullable=False),
    sa.Column("cost_after", ScaledDecimal(14, 2), nullable=False),
    sa.Column("applied", sa.Boolean(), nullable=False),
    sa.Column("seconds", sa.Float(), nullable=False, server_default="0"),
    sa.Column("notes", json_type(), nullable=False),  # list of sentences
    sa.Column("changes", json_type(), nullable=False),  # each order moved or reserved
    sa.CheckConstraint(
        "orders_changed >= 0 AND orders_considered >= orders_changed", name="counts_sane"
    ),
    sa.Index(None, "started_at"),
)

stock_pricing_runs = sa.Table(
    "stock_pricing_runs",
    metadata,
    id_column(),
    sa.Column("computed_at", UtcDateTime(), nullable=False),
    sa.Column("history_days", sa.Integer(), nullable=False),
    sa.Column("horizon_days", sa.Integer(), nullable=False),
    sa.Column("products", sa.Integer(), nullable=False),  # products with demand in the history
    sa.Column("priced", sa.Integer(), nullable=False),  # positions with a price above zero
    sa.Column("seconds", sa.Float(), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Index(None, "computed_at"),
)

# what one unit of a product at a warehouse is worth to the orders still to come (roubles),
# from the latest pricing run; no row: nothing (see potok.domain.sourcing.stock_value)
stock_prices = sa.Table(
    "stock_prices",
    metadata,
    fk("warehouse_id", "warehouses.id", ondelete="CASCADE"),
    fk("product_id", "products.id", ondelete="CASCADE"),
    sa.Column("price", ScaledDecimal(14, 2), nullable=False),
    sa.PrimaryKeyConstraint("warehouse_id", "product_id"),
    sa.CheckConstraint("price > 0", name="price_positive"),
)
