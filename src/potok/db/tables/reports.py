"""Read models for reports: one fact row per order, kept current by an after-commit
reaction to order, shipment and return events and rebuilt from history on demand."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import metadata
from potok.db.types import Amount, ScaledDecimal, UtcDateTime, id_type, json_type

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
    # [[category, worth of its lines], ...]: every category of its products and above them
    sa.Column("categories", json_type(), nullable=False, server_default=sa.text("'[]'")),
    sa.Index(None, "created_on", "channel"),
)


def _counts() -> list[sa.Column[object]]:
    return [
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("revenue", ScaledDecimal(18, 2), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("delivered_promised", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("backordered", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("units_ordered", sa.Integer(), nullable=False),
        sa.Column("units_shipped", sa.Integer(), nullable=False),
        sa.Column("shipped_orders", sa.Integer(), nullable=False),
        sa.Column("shipping_cost", ScaledDecimal(18, 2), nullable=False),
        sa.Column("shipping_estimate", ScaledDecimal(18, 2), nullable=False),
        sa.Column("costed_orders", sa.Integer(), nullable=False),
    ]


order_days = sa.Table(
    "order_days",
    metadata,
    sa.Column("created_on", sa.Date(), primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("carrier", sa.String(32), primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    *_counts(),
)
"""The order facts summed per day of acceptance, channel, warehouse, carrier and
currency: the counters of the KPIs (kept by the same refresh that writes the facts)."""

order_category_days = sa.Table(
    "order_category_days",
    metadata,
    sa.Column("created_on", sa.Date(), primary_key=True),
    sa.Column("category", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    *_counts(),
)
"""The order facts summed per day, category (each order under every category of its
products and those above them), channel, warehouse and currency: revenue is the worth of
the category's lines, the other counters the orders' own."""

order_stage_days = sa.Table(
    "order_stage_days",
    metadata,
    sa.Column("grouping", sa.String(3), nullable=False),
    sa.Column("span", sa.String(1), nullable=False),
    sa.Column("created_on", sa.Date(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("warehouse", sa.String(64), nullable=False),
    sa.Column("carrier", sa.String(32), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("bin", sa.Integer(), nullable=False),
    sa.Column("orders", sa.Integer(), nullable=False),
    sa.Column("ms", sa.BigInteger(), nullable=False),
    # the counts ride in the key's index: a report reads the index alone (PostgreSQL)
    sa.PrimaryKeyConstraint(
        "grouping",
        "span",
        "created_on",
        "currency",
        "channel",
        "warehouse",
        "carrier",
        "stage",
        "bin",
        postgresql_include=["orders", "ms"],
    ),
)
"""Stage times as histograms (bin: two significant figures of the seconds; how many
orders and their milliseconds) per span - day (d), ISO week (w) or month (m), dated its
first day - and per grouping: per channel (c), warehouse (w) and carrier (k), or summed
over them ('-', the column holds '*'), so that a report reads only the rows of the one
grouping it asks, and whole weeks or months where its period has them."""


forecast_runs = sa.Table(
    "forecast_runs",
    metadata,
    sa.Column("id", id_type(), sa.Identity(), primary_key=True),
    sa.Column("ran_at", UtcDateTime(), nullable=False),
    sa.Column("until_on", sa.Date(), nullable=False),
    sa.Column("days", sa.Integer(), nullable=False),
    sa.Column("horizon", sa.Integer(), nullable=False),
    sa.Column("by_channel", sa.Boolean(), nullable=False),
    sa.Column("series", sa.Integer(), nullable=False),
    sa.Column("mase", sa.Float(), nullable=True),
    sa.Column("mase_seasonal_naive", sa.Float(), nullable=True),
    sa.Column("wape", sa.Float(), nullable=True),
    sa.Column("bias", sa.Float(), nullable=True),
    sa.Column("notes", json_type(), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Index(None, "ran_at"),
)
"""Each stored forecast run (``potok forecast run`` or the worker's schedule): when, over
what history, and how the chosen methods did against the seasonal naive."""

forecast_series = sa.Table(
    "forecast_series",
    metadata,
    sa.Column(
        "run_id",
        id_type(),
        sa.ForeignKey("forecast_runs.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),  # "" when all channels together
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("forecast", json_type(), nullable=False),  # units per day from until_on + 1
    sa.Column("sigma", sa.Float(), nullable=False),
    sa.Column("mase", sa.Float(), nullable=True),
    sa.Column("mase_seasonal_naive", sa.Float(), nullable=True),
    sa.Column("wape", sa.Float(), nullable=True),
    sa.Column("bias", sa.Float(), nullable=True),
    sa.Column("note", sa.String(500), nullable=False),
)
"""One series of a stored run: SKU x warehouse (x channel), its method and daily forecast."""

__all__ = [
    "forecast_runs",
    "forecast_series",
    "order_category_days",
    "order_days",
    "order_facts",
    "order_stage_days",
]
