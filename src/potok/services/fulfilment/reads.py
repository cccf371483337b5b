"""What fulfilment shows: a shipment with its steps (a pending one with the units it will
pick), an order's shipments, lists, a wave with its lines merged per bin, pick lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.fulfilment import Shipment, ShipmentStatus, ShipmentStep, WaveNotFound
from potok.domain.fulfilment.picking import Slot, WaveLine, merge
from potok.domain.fulfilment.states import WaveStatus
from potok.domain.fulfilment.waves import Wave
from potok.services.carrier_label_ports import LabelJob
from potok.services.fulfilment.common import order_of, shipment_of
from potok.services.ports import ShipmentPage, WavePage
from potok.services.unit_of_work import UnitOfWork, reading


@dataclass(frozen=True, slots=True)
class ShipmentView:
    """A shipment, its steps, and - while pending - the units it will pick."""

    shipment: Shipment
    steps: list[ShipmentStep]
    carrier_label: LabelJob | None = None  # where the carrier's label stands (the worker)


def with_open_items(uow: UnitOfWork, shipment: Shipment) -> Shipment:
    """A pending shipment's items are the order's free reservations there, read now."""
    if shipment.status is ShipmentStatus.PENDING:
        shipment.items = uow.shipments.open_items(
            shipment.order_id, shipment.warehouse_id, shipment.parcel_group
        )
    return shipment


def get_shipment(uow: UnitOfWork, shipment_id: int) -> ShipmentView:
    def work(uow: UnitOfWork) -> ShipmentView:
        shipment = with_open_items(uow, shipment_of(uow, shipment_id))
        return ShipmentView(
            shipment, uow.shipments.steps(shipment_id), uow.carrier_labels.get(shipment_id)
        )

    return reading(uow, work)


def order_shipments(uow: UnitOfWork, order_id: int) -> list[Shipment]:
    def work(uow: UnitOfWork) -> list[Shipment]:
        order_of(uow, order_id, lock=False)
        return [with_open_items(uow, s) for s in uow.shipments.for_order(order_id)]

    return reading(uow, work)


def list_shipments(
    uow: UnitOfWork,
    *,
    warehouses: Sequence[str] | None = None,
    statuses: Sequence[str] = (),
    order_id: int | None = None,
    channel: str | None = None,
    wave: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> ShipmentPage:
    """Shipments newest first, filtered; unknown statuses are refused."""
    known = {s.value for s in ShipmentStatus}
    wrong = [s for s in statuses if s not in known]
    if wrong:
        raise InvalidInput(
            [
                FieldError(
                    "status", f"'{wrong[0]}' is not one of {', '.join(sorted(known))}", "unknown"
                )
            ]
        )

    def work(uow: UnitOfWork) -> ShipmentPage:
        page = uow.shipments.list_page(
            warehouses_in=warehouses,
            statuses=statuses,
            order_id=order_id,
            channel=channel,
            wave=wave,
            cursor=cursor,
            limit=limit,
        )
        for shipment in page.items:
            with_open_items(uow, shipment)
        return page

    return reading(uow, work)


@dataclass(frozen=True, slots=True)
class WaveView:
    """A wave, its shipments in slot order, and its lines in walking order."""

    wave: Wave
    shipments: list[Shipment]
    lines: list[WaveLine]

    @property
    def left(self) -> int:
        return sum(line.left for line in self.lines)


def wave_slots(wave: Wave, shipments: Sequence[Shipment]) -> list[Slot]:
    return [
        Slot(s.id, s.order_id, wave.slot_of(s.id), item)
        for s in shipments
        if s.id is not None and s.status in (ShipmentStatus.PENDING, ShipmentStatus.PICKING)
        for item in s.items
    ]


def get_wave(uow: UnitOfWork, number: str) -> WaveView:
    def work(uow: UnitOfWork) -> WaveView:
        wave = uow.waves.get(number)
        if wave is None:
            raise WaveNotFound(wave=number)
        shipments = [with_open_items(uow, s) for s in uow.shipments.get_many(wave.shipment_ids)]
        return WaveView(wave, shipments, merge(wave_slots(wave, shipments)))

    return reading(uow, work)


def list_waves(
    uow: UnitOfWork,
    *,
    warehouses: Sequence[str] | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> WavePage:
    if status is not None and status not in {s.value for s in WaveStatus}:
        raise InvalidInput(
            [
                FieldError(
                    "status",
                    f"must be one of {', '.join(s.value for s in WaveStatus)}",
                    "unknown",
                )
            ]
        )
    return reading(
        uow,
        lambda uow: uow.waves.list_page(
            warehouses_in=warehouses, status=status, cursor=cursor, limit=limit
        ),
    )


def pick_list(uow: UnitOfWork, shipment_id: int) -> tuple[Shipment, list[WaveLine]]:
    """One shipment's lines in walking order (a pending one: what it will pick)."""

    def work(uow: UnitOfWork) -> tuple[Shipment, list[WaveLine]]:
        shipment = with_open_items(uow, shipment_of(uow, shipment_id))
        slots = [Slot(shipment_id, shipment.order_id, 1, item) for item in shipment.items]
        return shipment, merge(slots)

    return reading(uow, work)
