"""stock fillfactor: leave room on each page so that reservations update rows in place

Revision ID: 5b1f0c2d7a91
Revises: 3e146d93a4ac
Create Date: 2026-11-25 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "5b1f0c2d7a91"
down_revision: str | None = "3e146d93a4ac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE stock SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE stock RESET (fillfactor)")
