"""Fiscal receipts (54-ФЗ) of orders: what each printed, where it stands with the
cash-register provider, and the fiscal attributes the provider reported."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata, timestamps
from potok.db.types import Amount, UtcDateTime, json_type

fiscal_receipts = sa.Table(
    "fiscal_receipts",
    metadata,
    id_column(),
    fk("order_id", "orders.id"),
    sa.Column("kind", sa.String(16), nullable=False),  # sale, settlement, refund, correction
    sa.Column("operation", sa.String(32), nullable=False),  # sell, sell_refund, …
    # what it is printed for, once: "payment:order:12", "handover:shipment:7", …
    sa.Column("basis", sa.String(120), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("payment_type", sa.String(16), nullable=False),  # cash, electronic, prepaid
    sa.Column("total", Amount(), nullable=False),
    sa.Column("vat_total", Amount(), nullable=False),
    sa.Column("lines", json_type(), nullable=False),
    # the seller's fiscal settings the receipt went with (none for a skipped one)
    sa.Column("legal_entity", sa.String(64), nullable=True),
    sa.Column("account", sa.String(64), nullable=True),
    sa.Column("company_inn", sa.String(12), nullable=True),
    sa.Column("taxation", sa.String(24), nullable=True),
    sa.Column("payment_address", sa.String(256), nullable=True),
    sa.Column("company_email", sa.String(64), nullable=True),
    sa.Column("reason", sa.String(500), nullable=True),  # skipped: why; failed: the provider's
    sa.Column("error_code", sa.Integer(), nullable=True),
    # the worker's progress with the provider
    sa.Column("provider_uuid", sa.String(128), nullable=True),
    sa.Column("resends", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    # the fiscal attributes: ФН, ФД, ФПД, time, the register's number
    sa.Column("fn_number", sa.String(32), nullable=True),
    sa.Column("fiscal_document_number", sa.BigInteger(), nullable=True),
    sa.Column("fiscal_document_attribute", sa.BigInteger(), nullable=True),
    sa.Column("fiscal_receipt_number", sa.BigInteger(), nullable=True),
    sa.Column("shift_number", sa.Integer(), nullable=True),
    sa.Column("registered_at", UtcDateTime(), nullable=True),
    sa.Column("register_number", sa.String(32), nullable=True),
    sa.Column("ofd_receipt_url", sa.String(500), nullable=True),
    # a correction: the receipt it corrects and the basis (the seller's own, or an order)
    fk("corrects_id", "fiscal_receipts.id", nullable=True),
    sa.Column("correction_type", sa.String(16), nullable=True),
    sa.Column("correction_basis_on", sa.String(10), nullable=True),
    sa.Column("correction_basis_number", sa.String(32), nullable=True),
    fk("shipment_id", "shipments.id", nullable=True),  # a settlement: the parcel handed over
    sa.Column("return_number", sa.String(32), nullable=True),  # a refund: its return
    *timestamps(),
    sa.Index(None, "order_id", "id"),
    sa.Index(None, "state", "next_attempt_at"),
    sa.Index(None, "created_at"),
    sa.CheckConstraint("total >= 0", name="total_not_negative"),
    sa.CheckConstraint("vat_total >= 0 AND vat_total <= total", name="vat_within_total"),
    sa.CheckConstraint("attempts >= 0 AND resends >= 0", name="counts_not_negative"),
    sa.CheckConstraint(
        "state IN ('queued', 'sent', 'wait', 'done', 'failed', 'skipped')", name="state_known"
    ),
    sa.CheckConstraint(
        "state <> 'done' OR (fn_number IS NOT NULL AND fiscal_document_number IS NOT NULL "
        "AND fiscal_document_attribute IS NOT NULL AND registered_at IS NOT NULL)",
        name="done_has_attributes",
    ),
)

__all__ = ["fiscal_receipts"]
