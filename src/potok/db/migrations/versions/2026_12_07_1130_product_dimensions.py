"""products' dimensions: one unit's length, width and height as it ships (0: not known),
used to price parcels before they are packed and to check a locker's cells at intake

Revision ID: c0d4e1a21130
Revises: c0d4e1a21100
Create Date: 2026-12-07 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.migration_ops import drop_plain_columns

revision: str = "c0d4e1a21130"
down_revision: str | None = "c0d4e1a21100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIDES = ("length_mm", "width_mm", "height_mm")


def upgrade() -> None:
    for side in SIDES:
        op.add_column("products", sa.Column(side, sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    drop_plain_columns("products", *SIDES)
