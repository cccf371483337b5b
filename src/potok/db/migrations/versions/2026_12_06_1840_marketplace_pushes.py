"""what Potok told the marketplace about each imported order: the marketplace's items of
its lines, the last step pushed (packed, shipped, cancelled) and the WB supply it joined

Revision ID: b7a1c0de6002
Revises: e7c1a2b3d401
Create Date: 2026-12-06 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b7a1c0de6002"
down_revision: str | None = "e7c1a2b3d401"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("marketplace_orders") as table:
        table.add_column(sa.Column("items", JSON, server_default=sa.text("'[]'"), nullable=False))
        table.add_column(sa.Column("pushed", sa.String(length=20), nullable=True))
        table.add_column(sa.Column("supply", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("marketplace_orders") as table:
        table.drop_column("supply")
        table.drop_column("pushed")
        table.drop_column("items")
