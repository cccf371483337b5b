"""Administrators' overdue thresholds, every change kept."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from potok.db.tables import overdue_thresholds as t
from potok.domain.fulfilment import ShipmentStatus
from potok.domain.fulfilment.overdue import ThresholdChange


def _change(row: Any) -> ThresholdChange:
    return ThresholdChange(
        stage=ShipmentStatus(row.stage),
        version=row.version,
        minutes=row.minutes,
        created_at=row.created_at,
        created_by=row.created_by,
    )


class OverdueThresholdRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def all_current(self) -> list[ThresholdChange]:
        newest = (
            sa.select(t.c.stage, sa.func.max(t.c.version).label("v")).group_by(t.c.stage).subquery()
        )
        rows = self.connection.execute(
            sa.select(t).join(
                newest, sa.and_(t.c.stage == newest.c.stage, t.c.version == newest.c.v)
            )
        )
        return [_change(r) for r in rows]

    def history(self, stage: str) -> list[ThresholdChange]:
        rows = self.connection.execute(
            sa.select(t).where(t.c.stage == stage).order_by(t.c.version.desc())
        )
        return [_change(r) for r in rows]

    def add(self, change: ThresholdChange) -> None:
        """A version taken by another save meanwhile is a lost race (the unique key)."""
        self.connection.execute(
            sa.insert(t).values(
                stage=change.stage.value,
                version=change.version,
                minutes=change.minutes,
                created_at=change.created_at,
                created_by=change.created_by[:255],
            )
        )
