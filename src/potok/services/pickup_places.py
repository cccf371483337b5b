"""The pickup point an order names, as the customer should find it: the name and address
(Potok's own location of that code, else the carrier's point) and the opening hours from
the carriers' pickup-point directory."""

from __future__ import annotations

from dataclasses import dataclass

from potok.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class PickupPlace:
    name: str
    city: str
    address: str
    hours: str  # as the carrier writes them ("пн-вс 10:00-21:00"); empty when unknown

    @property
    def where(self) -> str:
        return ", ".join(p for p in (self.city, self.address) if p)


def pickup_place(uow: UnitOfWork, code: str, carrier: str | None = None) -> PickupPlace | None:
    """The point ``code`` (inside the caller's transaction): the parcel's carrier's point
    first, else any carrier's point of that code; None when nothing has that code."""
    point = uow.carrier_points.get(carrier, code) if carrier else None
    if point is None:
        for other in uow.carrier_points.carriers_of(code):
            point = uow.carrier_points.get(other, code)
            if point is not None:
                break
    own = uow.warehouses.get_by_code(code)
    hours = point.hours.strip() if point is not None else ""
    if own is not None:
        return PickupPlace(own.name, own.city, own.address, hours)
    if point is not None:
        return PickupPlace(point.name, point.city, point.address, hours)
    return None
