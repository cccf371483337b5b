"""product categories: a tree of categories (code, name, parent, path) and each product's
category (one at most)

Revision ID: c4a7e1b21030
Revises: b362dc2fbb0d
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "c4a7e1b21030"
down_revision: str | None = "b362dc2fbb0d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "product_categories",
        sa.Column("id", ID, sa.Identity(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("path", sa.String(600), nullable=False),
        sa.Column("created_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["product_categories.id"],
            name=op.f("fk_product_categories_parent_id_product_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_product_categories_code")),
    )
    op.create_index(op.f("ix_product_categories_parent_id"), "product_categories", ["parent_id"])
    op.create_table(
        "product_category_links",
        sa.Column("product_id", ID, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_category_links_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category"],
            ["product_categories.code"],
            name=op.f("fk_product_category_links_category_product_categories"),
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_category_links")),
    )
    op.create_index(
        op.f("ix_product_category_links_category"), "product_category_links", ["category"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_product_category_links_category"), "product_category_links")
    op.drop_table("product_category_links")
    op.drop_index(op.f("ix_product_categories_parent_id"), "product_categories")
    op.drop_table("product_categories")
