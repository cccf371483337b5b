"""Warehouse papers as PDF: a shipment's pick list and packing slip.

They are drawn from the shipment as it stands on every request (not numbered, not
stored), for whoever may see the shipment: warehouse staff their warehouses', a channel's
key its channel's; anything else is not found. Papers that print the recipient's name,
phone and address need the right to read personal data as well.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Response

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.scope import Reach, ensure_shipment, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.documents import SellerMissing
from potok.domain.documents.errors import PaperNotReady
from potok.domain.fulfilment import ShipmentNotFound
from potok.services import warehouse_papers
from potok.services.warehouse_papers import Paper

router = APIRouter(prefix="/api/v1", tags=["fulfilment"])

ShipmentIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="The shipment's id.")]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PDF."}
}


def _pdf(paper: Paper) -> Response:
    return Response(
        paper.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(paper.name)}"},
    )


@router.get(
    "/shipments/{shipment_id}/pick-list/pdf",
    summary="The shipment's pick list to print: bins in walking order, what to take",
    description="Portrait A4, the shipment's number as a Code 128 barcode; what is picked "
    "so far is printed beside what to take.",
    response_class=Response,
    responses={**PDF, **responses(ShipmentNotFound)},
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.SHIPMENT)],
)
def pick_list_pdf(shipment_id: ShipmentIdPath, uow: Uow, caller: Caller) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    return _pdf(warehouse_papers.pick_list_pdf(uow, shipment_id))


@router.get(
    "/shipments/{shipment_id}/packing-slip/pdf",
    summary="The packing slip to put in the box: lines, parcels, marking codes",
    description="Sender (the seller, from the shipping warehouse) and recipient, every line "
    "with its units, price, sum and the parcels it lies in, each marked unit's code, totals "
    "and the sum in words. Once the shipment is packed (`paper-not-ready` before); the "
    "order's channel needs a seller (`seller-missing`).",
    response_class=Response,
    responses={**PDF, **responses(ShipmentNotFound, PaperNotReady, SellerMissing)},
    dependencies=[needs(Permission.STOCK_READ, Permission.PERSONAL_DATA), reach(Reach.SHIPMENT)],
)
def packing_slip_pdf(shipment_id: ShipmentIdPath, uow: Uow, caller: Caller) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    return _pdf(warehouse_papers.packing_slip_pdf(uow, shipment_id))
