"""scheduled rules: automation rules that run every so many minutes over the open orders
(how often, and when next - the column the processes of a fleet compare-and-set to run
each schedule once)

Revision ID: d7e2a4c10800
Revises: f2b3d4e50800
Create Date: 2026-12-07 08:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.migration_ops import drop_plain_columns
from potok.db.types import UtcDateTime

revision: str = "d7e2a4c10800"
down_revision: str | None = "f2b3d4e50800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("automation_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("every_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("next_run_at", UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    drop_plain_columns("automation_rules", "next_run_at", "every_minutes")
