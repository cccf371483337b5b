"""crm sync state: a CRM connection's back-fill of Potok's orders, and Potok's orders the
CRM knows with how far the CRM's history of each has been applied

Revision ID: a7c3e9d21400
Revises: c0d4e1a21130
Create Date: 2026-12-07 14:00:00

Both tables are the state of one concern, keeping Potok and a CRM (RetailCRM) in step:
``crm_backfills`` is where the telling of old orders stands (resumable from
``after_order_id``); ``crm_orders`` names the orders the CRM has from Potok and the last
history record applied to each, read under the order's lock so that a history record is
applied once however many pollers read it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import UtcDateTime, id_type

revision: str = "a7c3e9d21400"
down_revision: str | None = "c0d4e1a21130"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_backfills",
        sa.Column("connection_id", id_type(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("through_order_id", id_type(), nullable=False),
        sa.Column("after_order_id", id_type(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refused", sa.Integer(), server_default="0", nullable=False),
        sa.Column("customers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("requests", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "after_order_id <= through_order_id",
            name=op.f("ck_crm_backfills_after_within_through"),
        ),
        sa.CheckConstraint(
            "state IN ('running', 'done')", name=op.f("ck_crm_backfills_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_crm_backfills_connection_id_marketplace_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_crm_backfills")),
    )
    op.create_table(
        "crm_orders",
        sa.Column("connection_id", id_type(), nullable=False),
        sa.Column("order_id", id_type(), nullable=False),
        sa.Column("history_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("told_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_crm_orders_connection_id_marketplace_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_crm_orders_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "order_id", name=op.f("pk_crm_orders")),
    )
    op.create_index(op.f("ix_crm_orders_order_id"), "crm_orders", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_crm_orders_order_id"), table_name="crm_orders")
    op.drop_table("crm_orders")
    op.drop_table("crm_backfills")
