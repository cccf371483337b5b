"""marketplace connection cursor: where the next poll reads a marketplace's changes from
(RetailCRM's order history record id)

Revision ID: c4a1e2d70330
Revises: c4a1be1a0001
Create Date: 2026-12-07 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4a1e2d70330"
down_revision: str | None = "c4a1be1a0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("marketplace_connections") as batch:
        batch.add_column(sa.Column("cursor", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("marketplace_connections") as batch:
        batch.drop_column("cursor")
