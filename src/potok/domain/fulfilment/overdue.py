"""How long a shipment may sit in one stage before the dashboard calls it overdue: one
threshold per stage, changed by administrators, every change kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from potok.domain.fulfilment.states import ShipmentStatus

OVERDUE_STAGES = (
    ShipmentStatus.PENDING,
    ShipmentStatus.PICKING,
    ShipmentStatus.PACKED,
)
"""The stages the warehouse moves a shipment through (waiting for picking, being picked,
packed and waiting for the carrier)."""

DEFAULT_MINUTES = 24 * 60
"""A stage nobody has changed: a day, the rule the dashboard always had."""
MIN_MINUTES = 5
MAX_MINUTES = 30 * 24 * 60  # thirty days


@dataclass(frozen=True, slots=True)
class ThresholdChange:
    """One administrator's setting of one stage's threshold (the newest is in force)."""

    stage: ShipmentStatus
    version: int
    minutes: int
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class Threshold:
    """The threshold in force for one stage."""

    stage: ShipmentStatus
    minutes: int
    stored: ThresholdChange | None  # None: never changed, the default

    @property
    def after(self) -> timedelta:
        return timedelta(minutes=self.minutes)
