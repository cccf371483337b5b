"""tracking links: each order's unguessable token for its public tracking page

Revision ID: c3e7a1b2d903
Revises: c3e7a1b2d902
Create Date: 2026-12-06 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import UtcDateTime

revision: str = "c3e7a1b2d903"
down_revision: str | None = "c3e7a1b2d902"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tracking_links",
        sa.Column("order_id", ID, nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_tracking_links_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_tracking_links")),
        sa.UniqueConstraint("token", name=op.f("uq_tracking_links_token")),
    )


def downgrade() -> None:
    op.drop_table("tracking_links")
