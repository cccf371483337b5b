"""customer notifications: every message attempt, and the addresses that opted out

Revision ID: c3e7a1b2d902
Revises: c4a1e5d10001
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import UtcDateTime

revision: str = "c3e7a1b2d902"
down_revision: str | None = "c4a1e5d10001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", ID, sa.Identity(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("medium", sa.String(length=16), nullable=False),
        sa.Column("order_id", ID, nullable=True),
        sa.Column("recipient", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), server_default="", nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("attempt >= 1", name=op.f("ck_notifications_attempt_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_event_id"), "notifications", ["event_id"])
    op.create_index(op.f("ix_notifications_order_id_id"), "notifications", ["order_id", "id"])
    op.create_table(
        "notification_opt_outs",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("address_hash", name=op.f("pk_notification_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("notification_opt_outs")
    op.drop_index(op.f("ix_notifications_order_id_id"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_event_id"), table_name="notifications")
    op.drop_table("notifications")
