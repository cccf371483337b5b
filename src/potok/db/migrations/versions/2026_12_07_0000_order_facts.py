"""order facts: the reports' read model, one row per order, and the cursor of the reaction
that keeps it current (it starts at the end of the history: `potok reports rebuild` writes
the facts of the orders taken before)

Revision ID: a7e1f0c7a001
Revises: d1e2a7b0c001
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import potok.db.types
from potok.db.types import Amount, UtcDateTime

revision: str = "a7e1f0c7a001"
down_revision: str | None = "d1e2a7b0c001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REACTIONS = ("reaction:refresh_order_facts",)


def upgrade() -> None:
    op.create_table(
        "order_facts",
        sa.Column("order_id", ID, nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("warehouse", sa.String(64), server_default="", nullable=False),
        sa.Column("carrier", sa.String(32), server_default="", nullable=False),
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
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_facts_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_facts")),
    )
    op.create_index(
        op.f("ix_order_facts_created_on_channel"), "order_facts", ["created_on", "channel"]
    )
    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT MAX(position) FROM outbox_events")).scalar() or 0
    consumers = sa.table(
        "event_consumers",
        sa.column("name", sa.String),
        sa.column("position", sa.BigInteger),
        sa.column("attempts", sa.Integer),
        sa.column("updated_at", potok.db.types.UtcDateTime(timezone=True)),
    )
    present = set(bind.execute(sa.text("SELECT name FROM event_consumers")).scalars())
    rows = [
        {"name": name, "position": last, "attempts": 0, "updated_at": datetime.now(UTC)}
        for name in REACTIONS
        if name not in present
    ]
    if rows:
        op.bulk_insert(consumers, rows)


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM event_consumers WHERE name IN :names").bindparams(
            sa.bindparam("names", REACTIONS, expanding=True)
        )
    )
    op.drop_index(op.f("ix_order_facts_created_on_channel"), table_name="order_facts")
    op.drop_table("order_facts")
