"""Warehouse papers as PDF: a shipment's pick list, packing slip and labels; a wave's sheet.

They are drawn from the shipment as it stands on every request (not numbered, not
stored), for whoever may see the shipment (or wave): warehouse staff their warehouses', a
channel's key its channel's shipments (and no wave); anything else is not found. Papers
that print the recipient's name, phone and address need the right to read personal data.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.i18n import language_of, translate_problem
from potok.api.problems import responses
from potok.api.routers.shipments import ParcelNoPath
from potok.api.routers.waves import WavePath, may_see
from potok.api.schemas.papers import PaperBundleIn
from potok.api.scope import (
    Reach,
    ensure_shipment,
    ensure_wave,
    limited,
    reach,
    sees_order,
    sees_shipment,
)
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.documents import SellerMissing
from potok.domain.documents.errors import NothingToPrint, PaperNotReady, ParcelNotFound
from potok.domain.documents.papers import LabelSize
from potok.domain.errors import InvalidInput
from potok.domain.fulfilment import Shipment, ShipmentNotFound, WaveNotFound
from potok.domain.orders import OrderNotFound
from potok.services import paper_bundles, warehouse_papers
from potok.services.fulfilment import reads
from potok.services.paper_bundles import LeftOut, PaperKind
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


SizeQuery = Annotated[
    LabelSize,
    Query(description="100x150 for 100 mm label printers, 58x60 for 58 mm ones."),
]


@router.get(
    "/shipments/{shipment_id}/labels/pdf",
    summary="The shipment's shipping labels, one page per parcel",
    description="Carrier and tariff, the tracking number as a Code 128 barcode, «Место n из "
    "m» and the weight, recipient, sender, order and shipment. Sized for label printers: "
    "`size=100x150` (default) or `58x60`. Once booked with a carrier or handed over with a "
    "tracking number (`paper-not-ready` before); needs a seller (`seller-missing`).",
    response_class=Response,
    responses={**PDF, **responses(ShipmentNotFound, PaperNotReady, SellerMissing)},
    dependencies=[needs(Permission.STOCK_READ, Permission.PERSONAL_DATA), reach(Reach.SHIPMENT)],
)
def labels_pdf(
    shipment_id: ShipmentIdPath, uow: Uow, caller: Caller, size: SizeQuery = LabelSize.LARGE
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    return _pdf(warehouse_papers.labels_pdf(uow, shipment_id, size))


@router.get(
    "/shipments/{shipment_id}/parcels/{parcel_no}/label/pdf",
    summary="One parcel's shipping label",
    description="As `GET /api/v1/shipments/{shipment_id}/labels/pdf`, for one parcel.",
    response_class=Response,
    responses={**PDF, **responses(ShipmentNotFound, ParcelNotFound, PaperNotReady, SellerMissing)},
    dependencies=[needs(Permission.STOCK_READ, Permission.PERSONAL_DATA), reach(Reach.SHIPMENT)],
)
def parcel_label_pdf(
    shipment_id: ShipmentIdPath,
    parcel_no: ParcelNoPath,
    uow: Uow,
    caller: Caller,
    size: SizeQuery = LabelSize.LARGE,
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    return _pdf(warehouse_papers.labels_pdf(uow, shipment_id, size, parcel_no))


@router.get(
    "/waves/{number}/sheet/pdf",
    summary="The wave sheet to print: every bin once in walking order, units per slot",
    description="The slots with their orders and shipments, then the walk: per bin, product "
    "and lot the units to take and how many go into which slot («1×2, 3×1»).",
    response_class=Response,
    responses={**PDF, **responses(WaveNotFound)},
    dependencies=[
        needs(Permission.STOCK_READ),
        reach(Reach.RECORD, "number", finder=ensure_wave),
    ],
)
def wave_sheet_pdf(number: WavePath, uow: Uow, caller: Caller) -> Response:
    if not may_see(caller, reads.get_wave(uow, number).wave):
        raise WaveNotFound(wave=number)
    return _pdf(warehouse_papers.wave_sheet_pdf(uow, number))


# ---------------------------------------------------------------- many orders in one PDF

LEFT_OUT = "Potok-Left-Out"
PRINTED = "Potok-Printed"
BUNDLE_NOTE = (
    " Every live shipment of each order the caller may see, in the order given, in one PDF "
    f"(nothing is stored); `{PRINTED}` says how many shipments it holds. Orders and "
    "shipments whose paper cannot be printed now are left out and listed in the "
    f"`{LEFT_OUT}` header: percent-encoded JSON, a list of `order_id`, "
    "`shipment`, `code`, `title` and `detail` (in the request's language). When not one can "
    "be printed the answer is the problem `nothing-to-print`, the same list as `left_out`."
)


def _bundle(
    request: Request,
    uow: Uow,
    caller: Caller,
    order_ids: list[int],
    kind: PaperKind,
    size: LabelSize = LabelSize.LARGE,
) -> Response:
    limited_caller = limited(caller)
    language = language_of(request)

    def sees(shipment: Shipment) -> bool:
        return not limited_caller or sees_shipment(uow, caller, shipment)

    def reasons(left: list[LeftOut]) -> list[dict[str, Any]]:
        out = []
        for item in left:
            title, detail = translate_problem(item.error, language)
            out.append(
                {
                    "order_id": item.order_id,
                    "shipment": item.shipment,
                    "code": item.error.code,
                    "title": title,
                    "detail": detail,
                }
            )
        return out

    shown = [n for n in order_ids if not limited_caller or sees_order(uow, caller, n)]
    hidden = [LeftOut(n, None, OrderNotFound(order_id=n)) for n in order_ids if n not in shown]
    try:
        if not shown:
            raise NothingToPrint(orders=len(order_ids), kind=kind.value, left=[])
        made = paper_bundles.bundle(uow, shown, kind, sees=sees, size=size)
    except NothingToPrint as error:
        error.context["left_out"] = reasons(hidden + error.context.pop("left", []))
        raise
    response = _pdf(made.paper)
    response.headers[PRINTED] = str(len(made.printed))
    left = reasons(hidden + made.left_out)
    if left:
        response.headers[LEFT_OUT] = quote(json.dumps(left, ensure_ascii=False))
    return response


@router.post(
    "/papers/pick-lists",
    summary="Pick lists of many orders in one PDF",
    description="As `GET /api/v1/shipments/{shipment_id}/pick-list/pdf`, for every shipment "
    "of the orders given." + BUNDLE_NOTE,
    response_class=Response,
    responses={**PDF, **responses(NothingToPrint, InvalidInput)},
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def pick_lists_pdf(body: PaperBundleIn, request: Request, uow: Uow, caller: Caller) -> Response:
    return _bundle(request, uow, caller, body.order_ids, PaperKind.PICK_LIST)


@router.post(
    "/papers/packing-slips",
    summary="Packing slips of many orders in one PDF",
    description="As `GET /api/v1/shipments/{shipment_id}/packing-slip/pdf`, for every "
    "shipment of the orders given." + BUNDLE_NOTE,
    response_class=Response,
    responses={**PDF, **responses(NothingToPrint, InvalidInput)},
    dependencies=[needs(Permission.STOCK_READ, Permission.PERSONAL_DATA), reach(Reach.LISTED)],
)
def packing_slips_pdf(body: PaperBundleIn, request: Request, uow: Uow, caller: Caller) -> Response:
    return _bundle(request, uow, caller, body.order_ids, PaperKind.PACKING_SLIP)


@router.post(
    "/papers/labels",
    summary="Shipping labels of many orders in one PDF, one page per parcel",
    description="As `GET /api/v1/shipments/{shipment_id}/labels/pdf`, for every shipment of "
    "the orders given (`size` as there)." + BUNDLE_NOTE,
    response_class=Response,
    responses={**PDF, **responses(NothingToPrint, InvalidInput)},
    dependencies=[needs(Permission.STOCK_READ, Permission.PERSONAL_DATA), reach(Reach.LISTED)],
)
def labels_bundle_pdf(body: PaperBundleIn, request: Request, uow: Uow, caller: Caller) -> Response:
    return _bundle(request, uow, caller, body.order_ids, PaperKind.LABELS, body.size)
