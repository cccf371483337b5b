"""the delivery log looked up by position: a dispatcher round reads which events after its
cursor were already delivered (past one that failed) and how often each failed

Revision ID: e11e7a0d0001
Revises: c3e7a1b2d903
Create Date: 2026-12-06 21:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "e11e7a0d0001"
down_revision: str | None = "c3e7a1b2d903"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_webhook_deliveries_subscription_id_position",
        "webhook_deliveries",
        ["subscription_id", "position"],
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_subscription_id_position", table_name="webhook_deliveries")
