"""Fulfilment: shipments, picking, packing with unit identifiers, hand-over and tracking."""

from potok.domain.fulfilment.errors import ShipmentNotFound, WaveNotFound
from potok.domain.fulfilment.identifiers import UnitCode, UnitIdentifier
from potok.domain.fulfilment.model import (
    Parcel,
    ParcelDraft,
    ParcelLine,
    Shipment,
    ShipmentItem,
    ShipmentStep,
)
from potok.domain.fulfilment.states import (
    FulfilmentProgress,
    ShipmentStatus,
    WaveStatus,
    roll_up,
)

__all__ = [
    "FulfilmentProgress",
    "Parcel",
    "ParcelDraft",
    "ParcelLine",
    "Shipment",
    "ShipmentItem",
    "ShipmentNotFound",
    "ShipmentStatus",
    "ShipmentStep",
    "UnitCode",
    "UnitIdentifier",
    "WaveNotFound",
    "WaveStatus",
    "roll_up",
]
