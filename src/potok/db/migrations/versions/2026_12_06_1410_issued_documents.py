"""issued documents: numbering series per seller, kind and year; documents and their
files, immutable (triggers refuse updates and deletes)

Revision ID: a4d1c0de5002
Revises: a4d1c0de5001
Create Date: 2026-12-06 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types
from potok.db import document_guard

revision: str = "a4d1c0de5002"
down_revision: str | None = "a4d1c0de5001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
AMOUNT = potok.db.types.ScaledDecimal(precision=14, scale=2)


def upgrade() -> None:
    op.create_table(
        "document_counters",
        sa.Column("legal_entity_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "last_number >= 1", name=op.f("ck_document_counters_last_number_positive")
        ),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"],
            ["legal_entities.id"],
            name=op.f("fk_document_counters_legal_entity_id_legal_entities"),
        ),
        sa.PrimaryKeyConstraint(
            "legal_entity_id", "kind", "year", name=op.f("pk_document_counters")
        ),
    )
    op.create_table(
        "documents",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("seller_id", ID, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("correction_no", sa.Integer(), server_default="0", nullable=False),
        sa.Column("corrects_id", ID, nullable=True),
        sa.Column("order_id", ID, nullable=True),
        sa.Column("upd_status", sa.Integer(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=255), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", AMOUNT, nullable=False),
        sa.Column("vat_total", AMOUNT, nullable=False),
        sa.Column("file_guid", sa.String(length=36), nullable=False),
        sa.Column("personal", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("subject", JSON, nullable=False),
        sa.CheckConstraint(
            "(corrects_id IS NULL) = (correction_no = 0)",
            name=op.f("ck_documents_correction_names_original"),
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_documents_number_positive")),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["documents.id"], name=op.f("fk_documents_corrects_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_documents_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["legal_entities.id"],
            name=op.f("fk_documents_seller_id_legal_entities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("corrects_id", name=op.f("uq_documents_corrects_id")),
        sa.UniqueConstraint(
            "seller_id",
            "kind",
            "year",
            "number",
            "correction_no",
            name=op.f("uq_documents_seller_id_kind_year_number_correction_no"),
        ),
    )
    op.create_index(op.f("ix_documents_issued_at"), "documents", ["issued_at"], unique=False)
    op.create_index(
        "uq_documents_one_original_per_order",
        "documents",
        ["order_id", "kind"],
        unique=True,
        postgresql_where=sa.text("corrects_id IS NULL"),
        sqlite_where=sa.text("corrects_id IS NULL"),
    )
    op.create_table(
        "document_files",
        sa.Column("document_id", ID, nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_files_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("document_id", "format", name=op.f("pk_document_files")),
    )
    document_guard.install(op.get_bind())


def downgrade() -> None:
    document_guard.uninstall(op.get_bind())
    op.drop_table("document_files")
    op.drop_index(
        "uq_documents_one_original_per_order",
        table_name="documents",
        postgresql_where=sa.text("corrects_id IS NULL"),
        sqlite_where=sa.text("corrects_id IS NULL"),
    )
    op.drop_index(op.f("ix_documents_issued_at"), table_name="documents")
    op.drop_table("documents")
    op.drop_table("document_counters")
