"""products: several barcodes each, the identifiers every unit needs, parcel groups

Revision ID: a1f0c0de0001
Revises: e7b2f3c4a002
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a1f0c0de0001"
down_revision: str | None = "e7b2f3c4a002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("products") as batch_op:
        batch_op.add_column(
            sa.Column("barcodes", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("unit_identifiers", sa.String(40), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("parcel_group", sa.String(32), nullable=False, server_default="")
        )
    op.create_table(
        "product_barcodes",
        sa.Column("barcode", sa.String(64), nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_barcodes_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("barcode", name=op.f("pk_product_barcodes")),
    )
    op.create_index(
        op.f("ix_product_barcodes_product_id"), "product_barcodes", ["product_id"], unique=False
    )
    op.execute(
        "INSERT INTO product_barcodes (barcode, product_id) "
        "SELECT barcode, id FROM products WHERE barcode IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_product_barcodes_product_id"), table_name="product_barcodes")
    op.drop_table("product_barcodes")
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_column("parcel_group")
        batch_op.drop_column("unit_identifiers")
        batch_op.drop_column("barcodes")
