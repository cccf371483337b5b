"""Warehouse papers of many orders in one PDF, to print in one go: the pick lists, packing
slips or labels of every shipment of the chosen orders, in the order they were chosen.

A shipment whose paper cannot be drawn yet (not packed, not booked) or an order without
a shipment is left out and said why; the rest is printed. Shipments the reader may not
see are left out as if they were not there (the caller says which it may see).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pypdf import PdfWriter

from potok.domain.documents.errors import NoShipmentYet, NothingToPrint
from potok.domain.documents.papers import LabelSize
from potok.domain.errors import PotokError
from potok.domain.fulfilment import Shipment, ShipmentStatus
from potok.domain.orders import OrderNotFound
from potok.services import warehouse_papers
from potok.services.fulfilment import reads
from potok.services.unit_of_work import UnitOfWork
from potok.services.warehouse_papers import Paper

MAX_ORDERS = 200


class PaperKind(StrEnum):
    PICK_LIST = "pick_list"
    PACKING_SLIP = "packing_slip"
    LABELS = "labels"


@dataclass(frozen=True, slots=True)
class LeftOut:
    """An order (or one of its shipments) whose paper is not in the bundle, and why."""

    order_id: int
    shipment: str | None
    error: PotokError


@dataclass(frozen=True, slots=True)
class Bundle:
    paper: Paper
    printed: list[str]  # shipment numbers, in print order
    left_out: list[LeftOut]


def _draw(kind: PaperKind, size: LabelSize) -> Callable[[UnitOfWork, int], Paper]:
    if kind is PaperKind.PICK_LIST:
        return warehouse_papers.pick_list_pdf
    if kind is PaperKind.PACKING_SLIP:
        return warehouse_papers.packing_slip_pdf
    return lambda uow, shipment_id: warehouse_papers.labels_pdf(uow, shipment_id, size)


def bundle(
    uow: UnitOfWork,
    order_ids: Sequence[int],
    kind: PaperKind,
    *,
    sees: Callable[[Shipment], bool],
    size: LabelSize = LabelSize.LARGE,
) -> Bundle:
    """One PDF of ``kind`` for every visible, live shipment of these orders."""
    draw = _draw(kind, size)
    writer = PdfWriter()
    printed: list[str] = []
    left_out: list[LeftOut] = []
    for order_id in dict.fromkeys(order_ids):
        try:
            shipments = [
                s
                for s in reads.order_shipments(uow, order_id)
                if s.status is not ShipmentStatus.CANCELLED and sees(s)
            ]
        except OrderNotFound as error:
            left_out.append(LeftOut(order_id, None, error))
            continue
        if not shipments:
            left_out.append(LeftOut(order_id, None, NoShipmentYet(order_id=order_id)))
            continue
        for shipment in shipments:
            assert shipment.id is not None
            try:
                paper = draw(uow, shipment.id)
            except PotokError as error:
                left_out.append(LeftOut(order_id, shipment.number, error))
                continue
            writer.append(io.BytesIO(paper.content))
            printed.append(shipment.number)
    if not printed:
        raise NothingToPrint(orders=len(dict.fromkeys(order_ids)), kind=kind.value, left=left_out)
    out = io.BytesIO()
    writer.write(out)
    return Bundle(Paper(f"{kind.value}-{len(printed)}.pdf", out.getvalue()), printed, left_out)
