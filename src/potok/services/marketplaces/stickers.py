"""The marketplace's sticker of a shipment, as kept after the order was packed there."""

from __future__ import annotations

from potok.connectors.marketplaces.interface import Sticker
from potok.domain.marketplaces import StickerNotKept
from potok.services.fulfilment import reads
from potok.services.unit_of_work import UnitOfWork, reading


def sticker_of_shipment(uow: UnitOfWork, shipment_id: int) -> Sticker:
    """The sticker of the shipment's marketplace order (WB: its assembly task's), the file
    as the marketplace sent it; raises when none is kept (yet)."""
    shipment = reads.get_shipment(uow, shipment_id).shipment
    found = reading(uow, lambda uow: uow.marketplaces.sticker_of_order(shipment.order_id))
    if found is None:
        raise StickerNotKept(shipment_id=shipment_id)
    return found


def sticker_kept(uow: UnitOfWork, order_id: int) -> bool:
    """Whether the order has a marketplace sticker to print."""
    return reading(uow, lambda uow: uow.marketplaces.sticker_of_order(order_id)) is not None
