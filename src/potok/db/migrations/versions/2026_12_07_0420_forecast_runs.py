"""forecast runs: stored demand forecasts (a run and its series per SKU x warehouse, and
per channel when asked), written by `potok forecast run` and the worker's schedule

Revision ID: d5b0e3f80420
Revises: c4a1e2d70330
Create Date: 2026-12-07 04:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from potok.db.types import UtcDateTime

revision: str = "d5b0e3f80420"
down_revision: str | None = "c4a1e2d70330"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "forecast_runs",
        sa.Column("id", ID, sa.Identity(), nullable=False),
        sa.Column("ran_at", UtcDateTime(), nullable=False),
        sa.Column("until_on", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("by_channel", sa.Boolean(), nullable=False),
        sa.Column("series", sa.Integer(), nullable=False),
        sa.Column("mase", sa.Float(), nullable=True),
        sa.Column("mase_seasonal_naive", sa.Float(), nullable=True),
        sa.Column("wape", sa.Float(), nullable=True),
        sa.Column("bias", sa.Float(), nullable=True),
        sa.Column("notes", JSON, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_runs")),
    )
    op.create_index(op.f("ix_forecast_runs_ran_at"), "forecast_runs", ["ran_at"])
    op.create_table(
        "forecast_series",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("warehouse", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("forecast", JSON, nullable=False),
        sa.Column("sigma", sa.Float(), nullable=False),
        sa.Column("mase", sa.Float(), nullable=True),
        sa.Column("mase_seasonal_naive", sa.Float(), nullable=True),
        sa.Column("wape", sa.Float(), nullable=True),
        sa.Column("bias", sa.Float(), nullable=True),
        sa.Column("note", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["forecast_runs.id"],
            name=op.f("fk_forecast_series_run_id_forecast_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "sku", "warehouse", "channel", name=op.f("pk_forecast_series")
        ),
    )


def downgrade() -> None:
    op.drop_table("forecast_series")
    op.drop_index(op.f("ix_forecast_runs_ran_at"), table_name="forecast_runs")
    op.drop_table("forecast_runs")
