"""Operators' work: task queues and their tasks."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata, timestamps
from potok.db.types import UtcDateTime, json_type

task_queues = sa.Table(
    "task_queues",
    metadata,
    id_column(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("policy", sa.String(32), nullable=False),  # round_robin, least_loaded, claim
    sa.Column("members", json_type(), nullable=False),  # usernames, in turn order
    sa.Column("sla_minutes", sa.Integer(), nullable=False),
    sa.Column("supervisor", sa.String(64), nullable=True),  # told when a task is overdue
    sa.Column("last_assigned", sa.String(64), nullable=True),  # round robin's place
    # the skills every task of the queue needs
    sa.Column("skills", json_type(), nullable=False, server_default=sa.text("'[]'")),
    # a task about an order needs the skill channel:<the order's channel> too
    sa.Column("by_channel", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    *timestamps(),
    sa.CheckConstraint("sla_minutes > 0", name="sla_positive"),
)

tasks = sa.Table(
    "tasks",
    metadata,
    id_column(),
    fk("queue_id", "task_queues.id"),
    fk("order_id", "orders.id", nullable=True, ondelete="CASCADE"),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("assignee", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("claimed_at", UtcDateTime(), nullable=True),
    sa.Column("done_at", UtcDateTime(), nullable=True),
    sa.Column("escalated_at", UtcDateTime(), nullable=True),
    sa.Column("escalated_to", sa.String(64), nullable=True),
    sa.Column("note", sa.String(500), nullable=True),
    # what whoever takes it must be able to do
    sa.Column("skills", json_type(), nullable=False, server_default=sa.text("'[]'")),
    sa.CheckConstraint("state IN ('open', 'claimed', 'done', 'cancelled')", name="state_known"),
    sa.CheckConstraint("state != 'claimed' OR assignee IS NOT NULL", name="claimed_has_assignee"),
    sa.Index(None, "queue_id", "state", "due_at"),
    sa.Index(None, "assignee", "state"),
    sa.Index(None, "state", "due_at"),
    sa.Index(None, "order_id"),
)

operator_skills = sa.Table(
    "operator_skills",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("skills", json_type(), nullable=False),  # codes: fraud, en, channel:ozon
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)
