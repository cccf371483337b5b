"""documents of shipments: a document may describe one shipment of its order; one
original per shipment and kind, and the order's own documents stay one per kind

Revision ID: a4d1c0de5003
Revises: e7e17a5e0001
Create Date: 2026-12-06 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a4d1c0de5003"
down_revision: str | None = "e7e17a5e0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORIGINAL = "corrects_id IS NULL"
OF_ORDER = "corrects_id IS NULL AND shipment_id IS NULL"
OF_SHIPMENT = "corrects_id IS NULL AND shipment_id IS NOT NULL"


def _per_order(where: str) -> None:
    op.create_index(
        "uq_documents_one_original_per_order",
        "documents",
        ["order_id", "kind"],
        unique=True,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def _drop_per_order(where: str) -> None:
    op.drop_index(
        "uq_documents_one_original_per_order",
        table_name="documents",
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    # The rows are immutable (triggers refuse UPDATE and DELETE): the column is added in
    # place, never by copying the table. SQLite takes the reference inline.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE documents ADD COLUMN shipment_id INTEGER REFERENCES shipments (id)")
    else:
        op.add_column("documents", sa.Column("shipment_id", sa.BigInteger(), nullable=True))
        op.create_foreign_key(
            op.f("fk_documents_shipment_id_shipments"),
            "documents",
            "shipments",
            ["shipment_id"],
            ["id"],
        )
    _drop_per_order(ORIGINAL)
    _per_order(OF_ORDER)
    op.create_index(
        "uq_documents_one_original_per_shipment",
        "documents",
        ["shipment_id", "kind"],
        unique=True,
        postgresql_where=sa.text(OF_SHIPMENT),
        sqlite_where=sa.text(OF_SHIPMENT),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_documents_one_original_per_shipment",
        table_name="documents",
        postgresql_where=sa.text(OF_SHIPMENT),
        sqlite_where=sa.text(OF_SHIPMENT),
    )
    _drop_per_order(OF_ORDER)
    _per_order(ORIGINAL)
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            op.f("fk_documents_shipment_id_shipments"), "documents", type_="foreignkey"
        )
        op.drop_column("documents", "shipment_id")
    # SQLite cannot drop a column that references another table, nor may the immutable
    # table be copied without it: the column stays, unused, until the table goes.
