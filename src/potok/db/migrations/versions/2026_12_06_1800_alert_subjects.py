"""alerts about a subject other than an order (a location shipping without a tariff): one
alert per kind and subject

Revision ID: e7c1a2b3d401
Revises: b7a1c0de6001
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7c1a2b3d401"
down_revision: str | None = "b7a1c0de6001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operator_alerts") as batch:
        batch.add_column(sa.Column("subject", sa.String(length=255), nullable=True))
    op.create_index(
        "ix_operator_alerts_kind_subject", "operator_alerts", ["kind", "subject"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_operator_alerts_kind_subject", table_name="operator_alerts")
    with op.batch_alter_table("operator_alerts") as batch:
        batch.drop_column("subject")
