"""task queues: operators' work - queues with their members, policy, time (SLA) and
supervisor, and the tasks given out from them

Revision ID: 6ae70909b23e
Revises: 6ddc41ce7302
Create Date: 2026-12-07 00:15:43
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types

revision: str = "6ae70909b23e"
down_revision: str | None = "6ddc41ce7302"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_queues",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("policy", sa.String(length=32), nullable=False),
        sa.Column(
            "members",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("sla_minutes", sa.Integer(), nullable=False),
        sa.Column("supervisor", sa.String(length=64), nullable=True),
        sa.Column("last_assigned", sa.String(length=64), nullable=True),
        sa.Column("created_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sla_minutes > 0", name=op.f("ck_task_queues_sla_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_queues")),
        sa.UniqueConstraint("code", name=op.f("uq_task_queues_code")),
    )
    op.create_table(
        "tasks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("queue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("created_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("due_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("done_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("escalated_to", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "state != 'claimed' OR assignee IS NOT NULL", name=op.f("ck_tasks_claimed_has_assignee")
        ),
        sa.CheckConstraint(
            "state IN ('open', 'claimed', 'done', 'cancelled')", name=op.f("ck_tasks_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_tasks_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["task_queues.id"], name=op.f("fk_tasks_queue_id_task_queues")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tasks_assignee_state"), ["assignee", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tasks_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tasks_queue_id_state_due_at"),
            ["queue_id", "state", "due_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tasks_state_due_at"), ["state", "due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_state_due_at"))
        batch_op.drop_index(batch_op.f("ix_tasks_queue_id_state_due_at"))
        batch_op.drop_index(batch_op.f("ix_tasks_order_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_assignee_state"))

    op.drop_table("tasks")
    op.drop_table("task_queues")
