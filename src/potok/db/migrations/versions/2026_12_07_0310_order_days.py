"""order days: the order facts summed per day (counters per channel, warehouse, carrier
and currency; stage-time histograms per grouping), filled from the facts already stored

Revision ID: c4a9d2e70310
Revises: b0e7d7e00001
Create Date: 2026-12-07 03:10:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

from potok.db.types import Amount, ScaledDecimal, UtcDateTime
from potok.domain.analytics import BIN_KEYS, DAY_KEYS, OrderFact, day_deltas

revision: str = "c4a9d2e70310"
down_revision: str | None = "b0e7d7e00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = (
    "orders",
    "cancelled",
    "delivered",
    "delivered_promised",
    "on_time",
    "backordered",
    "returned",
    "units_ordered",
    "units_shipped",
    "shipped_orders",
    "costed_orders",
)
MONEY = ("revenue", "shipping_cost", "shipping_estimate")
FACT_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "order_id": sa.BigInteger(),
    "channel": sa.String(),
    "warehouse": sa.String(),
    "carrier": sa.String(),
    "currency": sa.String(),
    "total": Amount(),
    "created_at": UtcDateTime(),
    "created_on": sa.Date(),
    "units_ordered": sa.Integer(),
    "units_shipped": sa.Integer(),
    "confirmed_at": UtcDateTime(),
    "picked_at": UtcDateTime(),
    "packed_at": UtcDateTime(),
    "handed_over_at": UtcDateTime(),
    "delivered_at": UtcDateTime(),
    "promised_at": UtcDateTime(),
    "cancelled": sa.Boolean(),
    "cancel_reason": sa.String(),
    "backordered": sa.Boolean(),
    "returned": sa.Boolean(),
    "return_reason": sa.String(),
    "shipping_cost": Amount(),
    "shipping_estimate": Amount(),
}


def upgrade() -> None:
    days = op.create_table(
        "order_days",
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("warehouse", sa.String(64), nullable=False),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        *(sa.Column(name, ScaledDecimal(18, 2), nullable=False) for name in MONEY),
        sa.PrimaryKeyConstraint(
            "created_on", "channel", "warehouse", "carrier", "currency", name=op.f("pk_order_days")
        ),
    )
    bins = op.create_table(
        "order_stage_days",
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
        sa.PrimaryKeyConstraint(
            *BIN_KEYS, name=op.f("pk_order_stage_days"), postgresql_include=["orders", "ms"]
        ),
    )
    assert days is not None
    assert bins is not None
    facts = sa.table("order_facts", *(sa.column(n, t) for n, t in FACT_COLUMNS.items()))
    bind = op.get_bind()
    on = list(
        bind.execute(sa.select(facts.c.created_on).distinct().order_by(facts.c.created_on))
        .scalars()
        .all()
    )
    months = sorted({(d.year, d.month) for d in on})
    for year, month in months:  # a month at a time: no key of one is another's ...
        first = date(year, month, 1)
        stored = [
            OrderFact(**{k: v for k, v in row._mapping.items() if k != "created_on"})
            for row in bind.execute(
                sa.select(facts).where(
                    facts.c.created_on >= first,
                    facts.c.created_on < (first + timedelta(days=31)).replace(day=1),
                )
            )
        ]
        counted, cells, _ = day_deltas([], stored)  # no categories before 2026-12-07 10:40
        rows = [dict(zip(DAY_KEYS, k, strict=True)) | v for k, v in counted]
        if rows:
            bind.execute(days.insert(), rows)
        rows = [dict(zip(BIN_KEYS, k, strict=True)) | v for k, v in cells]
        if rows:  # ... but weeks that cross months: added to what an earlier month wrote
            fresh = (postgresql if bind.dialect.name == "postgresql" else sqlite).insert(bins)
            written = fresh.on_conflict_do_update(
                index_elements=list(BIN_KEYS),
                set_={n: bins.c[n] + fresh.excluded[n] for n in ("orders", "ms")},
            )
            bind.execute(written, rows)


def downgrade() -> None:
    op.drop_table("order_stage_days")
    op.drop_table("order_days")
