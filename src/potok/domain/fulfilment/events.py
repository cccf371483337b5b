"""What happens to shipments and waves, as facts for the outbox (``shipment.*``, ``wave.*``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentEvent(DomainEvent):
    """Every shipment event names the shipment, its order and warehouse, and the step."""

    aggregate_type: ClassVar[str] = "shipment"
    shipment_id: int
    order_id: int
    warehouse: str
    from_status: str | None
    to_status: str

    def aggregate_id(self) -> str:
        return str(self.shipment_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentCreated(ShipmentEvent):
    """The order was released to the warehouse for picking."""

    wave: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentPickingStarted(ShipmentEvent):
    items: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentShortPicked(ShipmentEvent):
    """Units were not on the shelf; the shipment carries fewer of them."""

    sku: str
    lot: str | None
    missing: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentPacked(ShipmentEvent):
    parcels: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentReopened(ShipmentEvent):
    """A parcel was opened again; the shipment is back in picking."""

    parcel_no: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentHandedOver(ShipmentEvent):
    carrier: str | None
    tracking_number: str | None
    items: list[dict[str, Any]]
    codes: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentTracked(ShipmentEvent):
    """A carrier's tracking event moved the shipment (in transit, at the pickup point,
    delivered, failed, returning, returned); ``event`` is the carrier's own wording."""

    event: str
    carrier: str | None
    tracking_number: str | None
    eta_on: str | None
    storage_until: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentInTransit(ShipmentTracked):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentReadyForPickup(ShipmentTracked):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentDelivered(ShipmentTracked):
    on_time: bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentDeliveryFailed(ShipmentTracked):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentReturning(ShipmentTracked):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentReturnedToSender(ShipmentTracked):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentCancelled(ShipmentEvent):
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WaveEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "wave"
    wave: str
    warehouse: str

    def aggregate_id(self) -> str:
        return self.wave


@dataclass(frozen=True, slots=True, kw_only=True)
class WaveCreated(WaveEvent):
    shipments: list[int]
    orders: list[int]


@dataclass(frozen=True, slots=True, kw_only=True)
class WaveStarted(WaveEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class WaveDone(WaveEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class WaveCancelled(WaveEvent):
    reason: str
