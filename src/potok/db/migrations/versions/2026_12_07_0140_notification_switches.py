"""notification switches: administrators turn customer notifications on or off per topic
and per sales channel, every change kept

Revision ID: e3b7c1d90a15
Revises: d5f1a0c7e302
Create Date: 2026-12-07 01:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import UtcDateTime

revision: str = "e3b7c1d90a15"
down_revision: str | None = "d5f1a0c7e302"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notification_switches",
        sa.Column("id", ID, sa.Identity(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=255), nullable=False),
        sa.CheckConstraint(
            "kind IN ('topic', 'channel')", name=op.f("ck_notification_switches_kind_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_switches")),
    )
    op.create_index(
        op.f("ix_notification_switches_kind_code_id"),
        "notification_switches",
        ["kind", "code", "id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notification_switches_kind_code_id"), table_name="notification_switches")
    op.drop_table("notification_switches")
