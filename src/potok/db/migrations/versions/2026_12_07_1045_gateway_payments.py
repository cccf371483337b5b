"""gateway payments: each own-shop channel's gateway account (ЮKassa; its secret key
sealed), each order's gateway payment and the refunds given back through it; the cursor of
the reaction that drives them starts at the end of the history (orders placed before it
existed are not sent to a gateway)

Revision ID: 9a7e3c1f1030
Revises: e3c5a7b90211
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "9a7e3c1f1030"
down_revision: str | None = "e3c5a7b90211"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AT = potok.db.types.UtcDateTime()
AMOUNT = potok.db.types.Amount()
REACTIONS = ("reaction:gateway_payments",)


def upgrade() -> None:
    op.create_table(
        "payment_accounts",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("shop_id", sa.String(length=20), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("return_url", sa.String(length=2000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_payment_accounts_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_accounts")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_payment_accounts_channel_id")),
    )
    op.create_table(
        "gateway_payments",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("gateway_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("captured_amount", AMOUNT, nullable=False),
        sa.Column("confirmation_url", sa.String(length=2000), nullable=True),
        sa.Column("authorized_at", AT, nullable=True),
        sa.Column("captured_at", AT, nullable=True),
        sa.Column("canceled_at", AT, nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("checked_at", AT, nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'waiting_for_capture', 'succeeded', 'canceled')",
            name=op.f("ck_gateway_payments_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_gateway_payments_amount_positive")),
        sa.CheckConstraint(
            "captured_amount >= 0 AND captured_amount <= amount",
            name=op.f("ck_gateway_payments_captured_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_gateway_payments_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_payments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_gateway_payments_order_id")),
        sa.UniqueConstraint(
            "gateway", "gateway_id", name=op.f("uq_gateway_payments_gateway_gateway_id")
        ),
    )
    op.create_index(
        op.f("ix_gateway_payments_status_updated_at"),
        "gateway_payments",
        ["status", "updated_at"],
    )
    op.create_table(
        "gateway_refunds",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("payment_id", ID, nullable=False),
        sa.Column("return_number", sa.String(length=32), nullable=False),
        sa.Column("gateway_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'canceled')",
            name=op.f("ck_gateway_refunds_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_gateway_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["gateway_payments.id"],
            name=op.f("fk_gateway_refunds_payment_id_gateway_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_refunds")),
        sa.UniqueConstraint("return_number", name=op.f("uq_gateway_refunds_return_number")),
    )
    op.create_index(op.f("ix_gateway_refunds_payment_id"), "gateway_refunds", ["payment_id"])
    _start_cursors()


def _start_cursors() -> None:
    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT MAX(position) FROM outbox_events")).scalar() or 0
    consumers = sa.table(
        "event_consumers",
        sa.column("name", sa.String),
        sa.column("position", sa.BigInteger),
        sa.column("attempts", sa.Integer),
        sa.column("updated_at", AT),
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
    op.drop_index(op.f("ix_gateway_refunds_payment_id"), table_name="gateway_refunds")
    op.drop_table("gateway_refunds")
    op.drop_index(op.f("ix_gateway_payments_status_updated_at"), table_name="gateway_payments")
    op.drop_table("gateway_payments")
    op.drop_table("payment_accounts")
