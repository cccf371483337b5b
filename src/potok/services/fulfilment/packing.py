"""Packing: picked units into parcels with weight and dimensions, each unit with the
identifiers its product requires (marking code, IMEI, UIN); a parcel can be opened again."""

from __future__ import annotations

from collections.abc import Sequence

from potok.domain.catalogue.model import unpacked_box
from potok.domain.errors import InvalidInput
from potok.domain.fulfilment import Parcel, ParcelDraft, Shipment
from potok.domain.fulfilment.identifiers import UnitIdentifier, read_code
from potok.domain.kernel import Actor, Clock, utc_now
from potok.services.fulfilment.common import shipment_of
from potok.services.idempotency import Once, atomically_once
from potok.services.unit_of_work import UnitOfWork, atomically, reading


def _keys(draft: ParcelDraft) -> set[tuple[UnitIdentifier, str]]:
    """The keys of the codes a parcel brings (malformed ones are refused later, by field)."""
    keys = set()
    for line in draft.lines:
        for kind, text in line.codes:
            try:
                keys.add((kind, read_code(kind, text).key))
            except InvalidInput:
                continue
    return keys


def pack_parcel(
    uow: UnitOfWork,
    shipment_id: int,
    draft: ParcelDraft,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[tuple[Shipment, Parcel]] | None = None,
) -> tuple[Shipment, Parcel]:
    """A parcel of picked units; when every unit is packed the shipment is ``packed``. A
    code another shipment holds (packed or shipped) is refused; two packers racing for
    one code are kept apart by the database's unique index, and the loser is told."""

    def work(uow: UnitOfWork) -> tuple[Shipment, Parcel]:
        shipment = shipment_of(uow, shipment_id, lock=True)
        taken = uow.shipments.codes_taken(_keys(draft), besides=shipment_id)
        parcel = shipment.pack(draft, clock(), str(actor), taken=taken)
        uow.shipments.save(shipment)
        return shipment, parcel

    return atomically_once(uow, once, work)


def open_parcel(
    uow: UnitOfWork, shipment_id: int, parcel_no: int, actor: Actor, *, clock: Clock = utc_now
) -> Shipment:
    """Take a parcel apart before hand-over: its units are unpacked, its codes free."""

    def work(uow: UnitOfWork) -> Shipment:
        shipment = shipment_of(uow, shipment_id, lock=True)
        shipment.unpack(parcel_no, clock(), str(actor))
        uow.shipments.save(shipment)
        return shipment

    return atomically(uow, work)


def box_for(uow: UnitOfWork, units: Sequence[tuple[str, int]]) -> tuple[int, int, int] | None:
    """Inside the caller's read: the box these units (SKU, how many) would be packed in, by
    the catalogue's dimensions (as long and wide as the largest, the units stacked); None
    while a product's dimensions are not known."""
    wanted = [(sku, count) for sku, count in units if count > 0]
    products = uow.products.get_many({sku for sku, _ in wanted})
    sized = []
    for sku, count in wanted:
        found = products.get(sku)
        sides = found.sides_mm if found is not None else None
        if sides is None:
            return None
        sized.append((sides, count))
    return unpacked_box(sized) if sized else None


def suggested_box(uow: UnitOfWork, shipment: Shipment) -> tuple[int, int, int] | None:
    """The box the units still to pack need, by the catalogue's dimensions (None: not known)."""
    units = [(i.sku, i.picked - i.packed) for i in shipment.items]
    return reading(uow, lambda uow: box_for(uow, units))
