"""webhook replays (a subscription's past events delivered again) and automatic pausing
after prolonged failure (consecutive failed attempts counted per subscription)

Revision ID: d1e2a7b0c001
Revises: c3e7a1b2d904
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "d1e2a7b0c001"
down_revision: str | None = "c3e7a1b2d904"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as table:
        table.add_column(sa.Column("failures", sa.Integer(), server_default="0", nullable=False))
        table.add_column(
            sa.Column("failing_since", potok.db.types.UtcDateTime(timezone=True), nullable=True)
        )
        table.add_column(sa.Column("paused_reason", sa.String(length=300), nullable=True))
    with op.batch_alter_table("webhook_deliveries") as table:
        table.add_column(sa.Column("replay_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "webhook_replays",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("subscription_id", ID, nullable=False),
        sa.Column("after_position", sa.BigInteger(), nullable=False),
        sa.Column("until_position", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("finished_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_replays_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_replays")),
    )
    op.create_index(
        op.f("ix_webhook_replays_subscription_id"), "webhook_replays", ["subscription_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_replays_subscription_id"), table_name="webhook_replays")
    op.drop_table("webhook_replays")
    with op.batch_alter_table("webhook_deliveries") as table:
        table.drop_column("replay_id")
    with op.batch_alter_table("webhook_subscriptions") as table:
        table.drop_column("paused_reason")
        table.drop_column("failing_since")
        table.drop_column("failures")
