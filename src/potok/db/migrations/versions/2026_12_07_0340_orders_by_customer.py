"""orders by customer: an index on orders.customer_id (automation rules count a
customer's orders and returns for every order event)

Revision ID: c5a1e0d20001
Revises: c4a9d2e70310
Create Date: 2026-12-07 03:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c5a1e0d20001"
down_revision: str | None = "c4a9d2e70310"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_customer_id", table_name="orders")
