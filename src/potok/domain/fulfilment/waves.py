"""Waves: many orders of one warehouse picked in one walk, then sorted into their slots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from potok.domain.events import DomainEvent
from potok.domain.fulfilment import events as ev
from potok.domain.fulfilment.states import WAVE, WaveStatus
from potok.domain.kernel import WarehouseId

MAX_WAVE_ORDERS = 200


@dataclass(slots=True, eq=False)
class Wave:
    """A batch of shipments picked together; a shipment's slot is its place in the list."""

    id: int | None
    number: str
    warehouse_id: WarehouseId
    warehouse_code: str
    status: WaveStatus
    created_at: datetime
    updated_at: datetime
    created_by: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    shipment_ids: list[int] = field(default_factory=list)  # in slot order
    events: list[DomainEvent] = field(default_factory=list)

    def slot_of(self, shipment_id: int) -> int:
        return self.shipment_ids.index(shipment_id) + 1

    def start(self, at: datetime) -> None:
        self.status = WAVE.check(self.status, WaveStatus.PICKING)
        self.started_at = self.updated_at = at
        self.events.append(
            ev.WaveStarted(occurred_at=at, wave=self.number, warehouse=self.warehouse_code)
        )

    def finish(self, at: datetime) -> None:
        self.status = WAVE.check(self.status, WaveStatus.DONE)
        self.finished_at = self.updated_at = at
        self.events.append(
            ev.WaveDone(occurred_at=at, wave=self.number, warehouse=self.warehouse_code)
        )

    def cancel(self, at: datetime, reason: str) -> None:
        self.status = WAVE.check(self.status, WaveStatus.CANCELLED)
        self.finished_at = self.updated_at = at
        self.events.append(
            ev.WaveCancelled(
                occurred_at=at, wave=self.number, warehouse=self.warehouse_code, reason=reason
            )
        )
