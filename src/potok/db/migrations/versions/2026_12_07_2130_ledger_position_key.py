"""the stock ledger's three foreign keys (position, warehouse, product) become one: a
movement's (warehouse, product, position) must be a position's own, which keeps every row
the three kept and also that a movement's warehouse and product are its position's - one
check per movement instead of three (a 100,000-row stock upload writes 100,000 movements);
the positions' page index (warehouse, product, id) becomes unique for it (id alone is)

Revision ID: 9c4e2f7b2130
Revises: 5b1e9d3a1815
Create Date: 2026-12-07 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "9c4e2f7b2130"
down_revision: str | None = "5b1e9d3a1815"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE_INDEX = "ix_stock_warehouse_id_product_id_id"
POSITION_KEY = "uq_stock_warehouse_id_product_id_id"
LEDGER_KEY = "fk_stock_movements_warehouse_id_stock"
COLUMNS = ["warehouse_id", "product_id"]
SINGLE_KEYS = [
    ("fk_stock_movements_stock_id_stock", "stock_id", "stock"),
    ("fk_stock_movements_warehouse_id_warehouses", "warehouse_id", "warehouses"),
    ("fk_stock_movements_product_id_products", "product_id", "products"),
]


def upgrade() -> None:
    op.create_index(POSITION_KEY, "stock", [*COLUMNS, "id"], unique=True)
    op.drop_index(PAGE_INDEX, table_name="stock")
    with op.batch_alter_table("stock_movements") as batch_op:
        for name, _, _ in SINGLE_KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")
        batch_op.create_foreign_key(LEDGER_KEY, "stock", [*COLUMNS, "stock_id"], [*COLUMNS, "id"])


def downgrade() -> None:
    with op.batch_alter_table("stock_movements") as batch_op:
        batch_op.drop_constraint(LEDGER_KEY, type_="foreignkey")
        for name, column, table in SINGLE_KEYS:
            batch_op.create_foreign_key(name, table, [column], ["id"])
    op.create_index(PAGE_INDEX, "stock", [*COLUMNS, "id"])
    op.drop_index(POSITION_KEY, table_name="stock")
