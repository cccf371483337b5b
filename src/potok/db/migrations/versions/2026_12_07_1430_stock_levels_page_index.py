"""stock positions indexed in the stock levels' page order (warehouse, product, position), so
that a page of one warehouse's levels is read from its cursor on, whatever the catalogue's
size and the page's depth

Revision ID: c0d4e1a21430
Revises: a7c3e9d21400
Create Date: 2026-12-07 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c0d4e1a21430"
down_revision: str | None = "a7c3e9d21400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_stock_warehouse_id_product_id_id"


def upgrade() -> None:
    op.create_index(NAME, "stock", ["warehouse_id", "product_id", "id"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="stock")
