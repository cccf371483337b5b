"""Legal entities, the buyer of a B2B order, numbering series, issued documents and files.

``documents`` and ``document_files`` only ever grow: the database itself refuses to
change or delete their rows (``db/document_guard.py``). A document of a private buyer
holds personal data; its subject and files are then kept sealed (``personal``).
"""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata
from potok.db.types import Amount, UtcDateTime, id_type, json_type

legal_entities = sa.Table(
    "legal_entities",
    metadata,
    id_column(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("name", sa.String(1000), nullable=False),
    sa.Column("short_name", sa.String(510), nullable=False, server_default=""),
    sa.Column("inn", sa.String(12), nullable=True),
    sa.Column("kpp", sa.String(9), nullable=True),
    sa.Column("ogrn", sa.String(15), nullable=True),
    sa.Column("okpo", sa.String(10), nullable=True),
    sa.Column("address", sa.String(1000), nullable=False, server_default=""),
    sa.Column("postal_address", sa.String(1000), nullable=False, server_default=""),
    sa.Column("phone", sa.String(255), nullable=False, server_default=""),
    sa.Column("email", sa.String(255), nullable=False, server_default=""),
    sa.Column("bank_accounts", json_type(), nullable=False),
    sa.Column("signatories", json_type(), nullable=False),
    sa.Column("vat_payer", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    sa.Column("edo_id", sa.String(46), nullable=True),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default="Europe/Moscow"),
    sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index(None, "inn"),
    sa.Index(
        "uq_legal_entities_one_default",
        "is_default",
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    ),
    sa.CheckConstraint("role IN ('seller', 'buyer')", name="role_known"),
    sa.CheckConstraint("NOT is_default OR role = 'seller'", name="default_is_seller"),
)

legal_entity_channels = sa.Table(
    "legal_entity_channels",
    metadata,
    sa.Column(
        "channel_id",
        id_type(),
        sa.ForeignKey("channels.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    fk("legal_entity_id", "legal_entities.id", ondelete="CASCADE"),
    sa.Index(None, "legal_entity_id"),
)

order_buyers = sa.Table(
    "order_buyers",
    metadata,
    sa.Column(
        "order_id", id_type(), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    ),
    fk("legal_entity_id", "legal_entities.id"),
    sa.Index(None, "legal_entity_id"),
)

document_counters = sa.Table(
    "document_counters",
    metadata,
    sa.Column("legal_entity_id", id_type(), sa.ForeignKey("legal_entities.id"), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("year", sa.Integer(), primary_key=True),
    sa.Column("last_number", sa.Integer(), nullable=False),
    sa.CheckConstraint("last_number >= 1", name="last_number_positive"),
)

documents = sa.Table(
    "documents",
    metadata,
    id_column(),
    sa.Column("kind", sa.String(16), nullable=False),
    fk("seller_id", "legal_entities.id"),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("number", sa.Integer(), nullable=False),
    sa.Column("correction_no", sa.Integer(), nullable=False, server_default="0"),
    fk("corrects_id", "documents.id", nullable=True),
    fk("order_id", "orders.id", nullable=True),
    fk("shipment_id", "shipments.id", nullable=True),  # a document of one shipment
    sa.Column("upd_status", sa.Integer(), nullable=True),
    sa.Column("issued_on", sa.Date(), nullable=False),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
    sa.Column("issued_by", sa.String(255), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total", Amount(), nullable=False),
    sa.Column("vat_total", Amount(), nullable=False),
    sa.Column("file_guid", sa.String(36), nullable=False),
    sa.Column("personal", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    sa.Column("subject", json_type(), nullable=False),
    sa.UniqueConstraint("seller_id", "kind", "year", "number", "correction_no"),
    sa.UniqueConstraint("corrects_id"),
    sa.Index(
        "uq_documents_one_original_per_order",
        "order_id",
        "kind",
        unique=True,
        postgresql_where=sa.text("corrects_id IS NULL AND shipment_id IS NULL"),
        sqlite_where=sa.text("corrects_id IS NULL AND shipment_id IS NULL"),
    ),
    sa.Index(
        "uq_documents_one_original_per_shipment",
        "shipment_id",
        "kind",
        unique=True,
        postgresql_where=sa.text("corrects_id IS NULL AND shipment_id IS NOT NULL"),
        sqlite_where=sa.text("corrects_id IS NULL AND shipment_id IS NOT NULL"),
    ),
    sa.Index(None, "issued_at"),
    sa.CheckConstraint("number >= 1", name="number_positive"),
    sa.CheckConstraint(
        "(corrects_id IS NULL) = (correction_no = 0)", name="correction_names_original"
    ),
)

document_files = sa.Table(
    "document_files",
    metadata,
    sa.Column("document_id", id_type(), sa.ForeignKey("documents.id"), primary_key=True),
    sa.Column("format", sa.String(8), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)
