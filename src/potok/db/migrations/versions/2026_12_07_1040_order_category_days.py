"""reports by category: each order fact keeps its categories (with the worth of their
lines), and the facts are summed per day and category in order_category_days (empty until
the next `potok reports rebuild`, or filled as orders change)

Revision ID: c4a7e1b21040
Revises: c4a7e1b21030
Create Date: 2026-12-07 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import potok.db.types
from potok.db.migration_ops import drop_plain_columns
from potok.db.types import ScaledDecimal

revision: str = "c4a7e1b21040"
down_revision: str | None = "c4a7e1b21030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    ("orders", sa.Integer()),
    ("cancelled", sa.Integer()),
    ("revenue", ScaledDecimal(18, 2)),
    ("delivered", sa.Integer()),
    ("delivered_promised", sa.Integer()),
    ("on_time", sa.Integer()),
    ("backordered", sa.Integer()),
    ("returned", sa.Integer()),
    ("units_ordered", sa.Integer()),
    ("units_shipped", sa.Integer()),
    ("shipped_orders", sa.Integer()),
    ("shipping_cost", ScaledDecimal(18, 2)),
    ("shipping_estimate", ScaledDecimal(18, 2)),
    ("costed_orders", sa.Integer()),
)


def upgrade() -> None:
    op.add_column(
        "order_facts",
        sa.Column(
            "categories",
            potok.db.types.json_type(),
            nullable=False,
            server_default=sa.text("'[]'"),
        ),
    )
    op.create_table(
        "order_category_days",
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("warehouse", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        *(sa.Column(name, kind, nullable=False) for name, kind in COUNTERS),
        sa.PrimaryKeyConstraint(
            "created_on",
            "category",
            "channel",
            "warehouse",
            "currency",
            name=op.f("pk_order_category_days"),
        ),
    )


def downgrade() -> None:
    op.drop_table("order_category_days")
    drop_plain_columns("order_facts", "categories")
