"""How long a shipment may sit in one stage before the dashboard calls it overdue: one
threshold per stage, changed by administrators, every change kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from potok.domain.fulfilment.states import ShipmentStatus

WAREHOUSE_STAGES = (
    ShipmentStatus.PENDING,
    ShipmentStatus.PICKING,
    ShipmentStatus.PACKED,
)
"""The stages the warehouse moves a shipment through (waiting for picking, being picked,
packed and waiting for the carrier)."""

CARRIER_STAGES = (
    ShipmentStatus.HANDED_OVER,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.READY_FOR_PICKUP,
    ShipmentStatus.FAILED_DELIVERY,
    ShipmentStatus.RETURNING,
)
"""The stages after hand-over until the parcel is settled: no news from the carrier since
hand-over, on the way, waiting at the pickup point, not delivered and not yet sent again or
back, on its way back to the warehouse."""

OVERDUE_STAGES = WAREHOUSE_STAGES + CARRIER_STAGES
"""Every stage the dashboard watches, in the order a shipment goes through them."""

DAY = 24 * 60
DEFAULTS = {
    ShipmentStatus.PENDING: DAY,
    ShipmentStatus.PICKING: DAY,
    ShipmentStatus.PACKED: DAY,
    ShipmentStatus.HANDED_OVER: 2 * DAY,  # the carrier's first scan comes within a day or two
    ShipmentStatus.IN_TRANSIT: 7 * DAY,
    ShipmentStatus.READY_FOR_PICKUP: 7 * DAY,  # a point keeps a parcel about a week
    ShipmentStatus.FAILED_DELIVERY: 2 * DAY,  # someone has to try again or send it back
    ShipmentStatus.RETURNING: 14 * DAY,
}
"""A stage nobody has changed: a day in the warehouse (the rule the dashboard always had),
and what a carrier usually takes for the later ones."""

DEFAULT_MINUTES = DAY
"""The warehouse stages' default (kept for the callers that name it)."""
MIN_MINUTES = 5
MAX_MINUTES = 30 * 24 * 60  # thirty days


def default_minutes(stage: ShipmentStatus) -> int:
    """The threshold of a stage nobody has changed."""
    return DEFAULTS[stage]


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

    @property
    def default(self) -> int:
        """The stage's threshold had nobody changed it."""
        return default_minutes(self.stage)
