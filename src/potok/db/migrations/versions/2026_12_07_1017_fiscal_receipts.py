"""fiscal receipts: the 54-ФЗ receipts of orders (sale, settlement, refund, correction),
where each stands with the cash-register provider and its fiscal attributes; the cursor of
the reaction that queues them starts at the end of the history (receipts are queued for
payments, hand-overs and refunds from now on, not for every past event)

Revision ID: b362dc2fbb0d
Revises: d7e2a4c10810
Create Date: 2026-12-07 10:17:38
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types

revision: str = "b362dc2fbb0d"
down_revision: str | None = "d7e2a4c10810"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REACTIONS = ("reaction:queue_fiscal_receipts",)


def upgrade() -> None:
    op.create_table(
        "fiscal_receipts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("basis", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_type", sa.String(length=16), nullable=False),
        sa.Column("total", potok.db.types.ScaledDecimal(precision=14, scale=2), nullable=False),
        sa.Column("vat_total", potok.db.types.ScaledDecimal(precision=14, scale=2), nullable=False),
        sa.Column(
            "lines",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("legal_entity", sa.String(length=64), nullable=True),
        sa.Column("account", sa.String(length=64), nullable=True),
        sa.Column("company_inn", sa.String(length=12), nullable=True),
        sa.Column("taxation", sa.String(length=24), nullable=True),
        sa.Column("payment_address", sa.String(length=256), nullable=True),
        sa.Column("company_email", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("provider_uuid", sa.String(length=128), nullable=True),
        sa.Column("resends", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("fn_number", sa.String(length=32), nullable=True),
        sa.Column("fiscal_document_number", sa.BigInteger(), nullable=True),
        sa.Column("fiscal_document_attribute", sa.BigInteger(), nullable=True),
        sa.Column("fiscal_receipt_number", sa.BigInteger(), nullable=True),
        sa.Column("shift_number", sa.Integer(), nullable=True),
        sa.Column("registered_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("register_number", sa.String(length=32), nullable=True),
        sa.Column("ofd_receipt_url", sa.String(length=500), nullable=True),
        sa.Column(
            "corrects_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("correction_type", sa.String(length=16), nullable=True),
        sa.Column("correction_basis_on", sa.String(length=10), nullable=True),
        sa.Column("correction_basis_number", sa.String(length=32), nullable=True),
        sa.Column(
            "shipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("return_number", sa.String(length=32), nullable=True),
        sa.Column("created_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state <> 'done' OR (fn_number IS NOT NULL AND fiscal_document_number IS NOT NULL "
            "AND fiscal_document_attribute IS NOT NULL AND registered_at IS NOT NULL)",
            name=op.f("ck_fiscal_receipts_done_has_attributes"),
        ),
        sa.CheckConstraint(
            "state IN ('queued', 'sent', 'wait', 'done', 'failed', 'skipped')",
            name=op.f("ck_fiscal_receipts_state_known"),
        ),
        sa.CheckConstraint(
            "attempts >= 0 AND resends >= 0", name=op.f("ck_fiscal_receipts_counts_not_negative")
        ),
        sa.CheckConstraint("total >= 0", name=op.f("ck_fiscal_receipts_total_not_negative")),
        sa.CheckConstraint(
            "vat_total >= 0 AND vat_total <= total",
            name=op.f("ck_fiscal_receipts_vat_within_total"),
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["fiscal_receipts.id"],
            name=op.f("fk_fiscal_receipts_corrects_id_fiscal_receipts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fiscal_receipts_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_fiscal_receipts_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fiscal_receipts")),
        sa.UniqueConstraint("basis", name=op.f("uq_fiscal_receipts_basis")),
    )
    with op.batch_alter_table("fiscal_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fiscal_receipts_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fiscal_receipts_order_id_id"), ["order_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fiscal_receipts_state_next_attempt_at"),
            ["state", "next_attempt_at"],
            unique=False,
        )

    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT MAX(position) FROM outbox_events")).scalar() or 0
    consumers = sa.table(
        "event_consumers",
        sa.column("name", sa.String),
        sa.column("position", sa.BigInteger),
        sa.column("attempts", sa.Integer),
        sa.column("updated_at", potok.db.types.UtcDateTime(timezone=True)),
    )
    present = set(bind.execute(sa.text("SELECT name FROM event_consumers")).scalars())
    rows = [
        {"name": name, "position": last, "attempts": 0, "updated_at": datetime.now(UTC)}
        for name in REACTIONS
        if name not in present
    ]
    if rows:
        op.bulk_insert(consumers, rows)


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM event_consumers WHERE name IN :names").bindparams(
            sa.bindparam("names", REACTIONS, expanding=True)
        )
    )
    with op.batch_alter_table("fiscal_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fiscal_receipts_state_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_fiscal_receipts_order_id_id"))
        batch_op.drop_index(batch_op.f("ix_fiscal_receipts_created_at"))

    op.drop_table("fiscal_receipts")
