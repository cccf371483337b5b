"""reference versions: a token per kind of reference data, changed with it (for caches)

Revision ID: be96740502f1
Revises: 5b1f0c2d7a91
Create Date: 2026-11-25 18:47:10.824723
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "be96740502f1"
down_revision: str | None = "5b1f0c2d7a91"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reference_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reference_versions")),
    )


def downgrade() -> None:
    op.drop_table("reference_versions")
