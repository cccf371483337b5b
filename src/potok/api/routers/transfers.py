"""Transfers between warehouses, purchase orders, and the stock on its way (incoming).

Warehouse staff see the transfers from or to their warehouses and the purchase orders for
them (others are not found); they ship from and receive into their own warehouses only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.transfers import (
    CancelIn,
    IncomingListOut,
    IncomingOut,
    PurchaseOrderIn,
    PurchaseOrderOut,
    PurchaseOrderPageOut,
    PurchaseReceiptIn,
    PurchaseReceiptOut,
    ReceiveIn,
    ShipIn,
    TransferArrivalOut,
    TransferIn,
    TransferOut,
    TransferPageOut,
    render_arrival,
    render_purchase_order,
    render_transfer,
)
from potok.api.scope import NOTHING, Reach, ensure_warehouses, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.access.model import OutOfScope
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory.lots import LotDatesDiffer, LotInput, SerialNotInStock, SerialTaken
from potok.domain.inventory.purchasing import (
    CreatePurchaseOrder,
    PurchaseLineRequest,
    PurchaseOrderNotFound,
    PurchaseOrderNumberTaken,
)
from potok.domain.inventory.transfers import (
    Receipt,
    RequestTransfer,
    SerialNotInTransit,
    TransferLineRequest,
    TransferNotFound,
    TransferShort,
)
from potok.domain.machine import IllegalTransition
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import incoming as incoming_service
from potok.services import purchasing
from potok.services import transfers as transfer_service
from potok.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["transfers"])

NumberPath = Annotated[str, Path(max_length=64, description="The transfer's number, TR-000001.")]
PoNumberPath = Annotated[str, Path(max_length=64, description="The purchase order's number.")]
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _narrowed(principal: Principal, warehouse: str | None) -> list[str] | None:
    """The warehouses a list may show: the one asked for, within the caller's own."""
    if principal.warehouses is None:
        return [warehouse] if warehouse else None
    own = list(principal.warehouse_codes)
    if warehouse:
        return [warehouse] if warehouse in own else [NOTHING]
    return own or [NOTHING]


def _sees(principal: Principal, *codes: str) -> bool:
    return principal.warehouses is None or bool(set(codes) & set(principal.warehouse_codes))


# ---------------------------------------------------------------------- transfers


@router.post(
    "/transfers",
    status_code=201,
    response_model=TransferOut,
    summary="Ask for stock to move between warehouses",
    description="The transfer starts `requested`; nothing moves until it is shipped. Lines of "
    "products kept by lot name the lot.",
    responses=responses(InvalidInput, OutOfScope, IdempotencyKeyReused),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def request_transfer(
    body: TransferIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    if not _sees(caller, body.from_warehouse, body.to_warehouse):
        ensure_warehouses(caller, {body.from_warehouse, body.to_warehouse})
    return answer(
        request,
        "transfer",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: transfer_service.request_transfer(
            uow,
            RequestTransfer(
                from_warehouse=body.from_warehouse,
                to_warehouse=body.to_warehouse,
                lines=[
                    TransferLineRequest(line.sku, line.quantity, line.lot) for line in body.lines
                ],
                expected_on=body.expected_on,
                comment=body.comment,
            ),
            caller.actor,
            once=once,
        ),
        lambda transfer: (201, render_transfer(transfer).model_dump(mode="json")),
    )


@router.get(
    "/transfers",
    response_model=TransferPageOut,
    summary="Transfers, newest first",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def list_transfers(
    uow: Uow,
    caller: Caller,
    status: Annotated[
        str | None, Query(max_length=32, description="requested, shipped, received or cancelled")
    ] = None,
    warehouse: Annotated[
        str | None, Query(max_length=64, description="From or to this warehouse.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TransferPageOut:
    page = transfer_service.list_transfers(
        uow,
        status=status,
        warehouses=_narrowed(caller, warehouse),
        cursor=cursor,
        limit=limit,
    )
    return TransferPageOut(
        items=[render_transfer(t) for t in page.items], next_cursor=page.next_cursor
    )


def _visible_transfer(uow: UnitOfWork, caller: Principal, number: str) -> tuple[str, str]:
    transfer = transfer_service.get_transfer(uow, number)
    if not _sees(caller, transfer.from_warehouse, transfer.to_warehouse):
        raise TransferNotFound(number=number)
    return transfer.from_warehouse, transfer.to_warehouse


@router.get(
    "/transfers/{number}",
    response_model=TransferOut,
    summary="One transfer with its lines",
    responses=responses(TransferNotFound),
    dependencies=[
        needs(Permission.STOCK_READ),
        reach(Reach.RECORD, "number", finder=_visible_transfer),
    ],
)
def get_transfer(number: NumberPath, uow: Uow, caller: Caller) -> TransferOut:
    transfer = transfer_service.get_transfer(uow, number)
    if not _sees(caller, transfer.from_warehouse, transfer.to_warehouse):
        raise TransferNotFound(number=number)
    return render_transfer(transfer)


@router.post(
    "/transfers/{number}/ship",
    response_model=TransferOut,
    summary="The goods left the source warehouse",
    description="Takes the units out of the source's available stock (never what is reserved "
    "or unavailable) with a `transfer_out` ledger movement per line; lines may ship fewer "
    "units than requested. A line short of available stock refuses the whole shipment "
    "(`transfer-short`, naming the lines). A transfer for an order (`order_id`) also takes "
    "the units reserved for that order at the source: those reservations are consumed.",
    responses=responses(
        TransferNotFound,
        TransferShort,
        IllegalTransition,
        InvalidInput,
        OutOfScope,
        SerialNotInStock,
        IdempotencyKeyReused,
    ),
    dependencies=[
        needs(Permission.STOCK_WRITE),
        reach(Reach.RECORD, "number", finder=_visible_transfer),
    ],
)
def ship_transfer(
    number: NumberPath,
    uow: Uow,
    caller: Caller,
    request: Request,
    body: Annotated[ShipIn | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    source, _ = _visible_transfer(uow, caller, number)
    ensure_warehouses(caller, {source})
    quantities = {line.line_no: line.quantity for line in (body.lines if body else [])}
    if body is not None and len(quantities) != len(body.lines):
        raise _repeated_lines()
    serials = {line.line_no: line.serials for line in (body.lines if body else []) if line.serials}
    return answer(
        request,
        "transfer-shipment",
        caller,
        idempotency_key,
        body.model_dump_json() if body else "",
        lambda once: transfer_service.ship_transfer(
            uow, number, caller.actor, quantities=quantities, serials=serials, once=once
        ),
        lambda transfer: (200, render_transfer(transfer).model_dump(mode="json")),
    )


@router.post(
    "/transfers/{number}/receive",
    response_model=TransferArrivalOut,
    summary="The goods arrived at the destination",
    description="Books what arrived into the destination's stock with `transfer_in` movements. "
    "A line that arrived other than shipped needs a reason; the difference is recorded on the "
    "line, listed in `discrepancies` and in the `transfer.received` event. A transfer for an "
    "order (`order_id`) reserves what that order still lacks first; backordered orders of the "
    "products received then get another try (`backorders_reserved`).",
    responses=responses(
        TransferNotFound,
        IllegalTransition,
        InvalidInput,
        OutOfScope,
        SerialNotInTransit,
        IdempotencyKeyReused,
    ),
    dependencies=[
        needs(Permission.STOCK_WRITE),
        reach(Reach.RECORD, "number", finder=_visible_transfer),
    ],
)
def receive_transfer(
    number: NumberPath,
    uow: Uow,
    caller: Caller,
    request: Request,
    body: Annotated[ReceiveIn | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    _, destination = _visible_transfer(uow, caller, number)
    ensure_warehouses(caller, {destination})
    lines = body.lines if body else []
    receipts = {line.line_no: Receipt(line.quantity, line.reason) for line in lines}
    if len(receipts) != len(lines):
        raise _repeated_lines()
    serials = {line.line_no: line.serials for line in lines if line.serials}
    return answer(
        request,
        "transfer-receipt",
        caller,
        idempotency_key,
        body.model_dump_json() if body else "",
        lambda once: transfer_service.receive_transfer(
            uow, number, caller.actor, receipts=receipts, serials=serials, once=once
        ),
        lambda arrival: (
            200,
            render_arrival(
                arrival.transfer, arrival.discrepancies, arrival.backorders_reserved
            ).model_dump(mode="json"),
        ),
    )


@router.post(
    "/transfers/{number}/cancel",
    response_model=TransferOut,
    summary="Call off a transfer that has not been shipped",
    responses=responses(TransferNotFound, IllegalTransition, InvalidInput),
    dependencies=[
        needs(Permission.STOCK_WRITE),
        reach(Reach.RECORD, "number", finder=_visible_transfer),
    ],
)
def cancel_transfer(
    number: NumberPath,
    uow: Uow,
    caller: Caller,
    body: Annotated[CancelIn | None, Body()] = None,
) -> TransferOut:
    _visible_transfer(uow, caller, number)
    return render_transfer(
        transfer_service.cancel_transfer(
            uow, number, caller.actor, reason=body.reason if body else ""
        )
    )


def _repeated_lines() -> InvalidInput:
    return InvalidInput([FieldError("lines", "name each line once", "duplicate")])


# ---------------------------------------------------------------------- purchase orders


@router.post(
    "/purchase-orders",
    status_code=201,
    response_model=PurchaseOrderOut,
    tags=["purchase orders"],
    summary="Record stock ordered from a supplier",
    description="What is ordered and not yet received counts as incoming at the warehouse.",
    responses=responses(InvalidInput, PurchaseOrderNumberTaken, OutOfScope, IdempotencyKeyReused),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def create_purchase_order(
    body: PurchaseOrderIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_warehouses(caller, {body.warehouse})
    return answer(
        request,
        "purchase-order",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: purchasing.create_purchase_order(
            uow,
            CreatePurchaseOrder(
                supplier=body.supplier,
                warehouse=body.warehouse,
                lines=[PurchaseLineRequest(line.sku, line.quantity) for line in body.lines],
                number=body.number,
                expected_on=body.expected_on,
            ),
            caller.actor,
            once=once,
        ),
        lambda order: (201, render_purchase_order(order).model_dump(mode="json")),
    )


@router.get(
    "/purchase-orders",
    response_model=PurchaseOrderPageOut,
    tags=["purchase orders"],
    summary="Purchase orders, newest first",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def list_purchase_orders(
    uow: Uow,
    caller: Caller,
    status: Annotated[
        str | None,
        Query(max_length=32, description="open, partially_received, received or cancelled"),
    ] = None,
    warehouse: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PurchaseOrderPageOut:
    page = purchasing.list_purchase_orders(
        uow,
        status=status,
        warehouses=_narrowed(caller, warehouse),
        cursor=cursor,
        limit=limit,
    )
    return PurchaseOrderPageOut(
        items=[render_purchase_order(o) for o in page.items], next_cursor=page.next_cursor
    )


def _visible_order(uow: UnitOfWork, caller: Principal, number: str) -> str:
    order = purchasing.get_purchase_order(uow, number)
    if not _sees(caller, order.warehouse):
        raise PurchaseOrderNotFound(number=number)
    return order.warehouse


@router.get(
    "/purchase-orders/{number}",
    response_model=PurchaseOrderOut,
    tags=["purchase orders"],
    summary="One purchase order with its lines",
    responses=responses(PurchaseOrderNotFound),
    dependencies=[
        needs(Permission.STOCK_READ),
        reach(Reach.RECORD, "number", finder=_visible_order),
    ],
)
def get_purchase_order(number: PoNumberPath, uow: Uow, caller: Caller) -> PurchaseOrderOut:
    order = purchasing.get_purchase_order(uow, number)
    if not _sees(caller, order.warehouse):
        raise PurchaseOrderNotFound(number=number)
    return render_purchase_order(order)


@router.post(
    "/purchase-orders/{number}/receive",
    response_model=PurchaseReceiptOut,
    tags=["purchase orders"],
    summary="A delivery against a purchase order arrived",
    description="Each line's units are a stock receipt at the order's warehouse (reference: the "
    "order's number). More than is outstanding is refused (`over-receipt`) unless "
    "`allow_over_receipt` is set. Backordered orders of the products get another try.",
    responses=responses(
        PurchaseOrderNotFound,
        IllegalTransition,
        InvalidInput,
        LotDatesDiffer,
        SerialTaken,
        IdempotencyKeyReused,
    ),
    dependencies=[
        needs(Permission.STOCK_WRITE),
        reach(Reach.RECORD, "number", finder=_visible_order),
    ],
)
def receive_purchase_order(
    number: PoNumberPath,
    body: PurchaseReceiptIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    _visible_order(uow, caller, number)
    quantities = {line.line_no: line.quantity for line in body.lines}
    if len(quantities) != len(body.lines):
        raise _repeated_lines()
    lots = {
        line.line_no: LotInput(line.lot.number, line.lot.produced_on, line.lot.expires_on)
        for line in body.lines
        if line.lot is not None
    }
    serials = {line.line_no: tuple(line.serials) for line in body.lines if line.serials is not None}
    return answer(
        request,
        "purchase-receipt",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: purchasing.receive_purchase_order(
            uow,
            number,
            quantities,
            caller.actor,
            allow_over_receipt=body.allow_over_receipt,
            lots=lots,
            serials=serials,
            once=once,
        ),
        lambda receipt: (
            200,
            PurchaseReceiptOut(
                **render_purchase_order(receipt.order).model_dump(),
                received={str(n): q for n, q in receipt.received.items()},
                backorders_reserved=receipt.backorders_reserved,
            ).model_dump(mode="json"),
        ),
    )


@router.post(
    "/purchase-orders/{number}/cancel",
    response_model=PurchaseOrderOut,
    tags=["purchase orders"],
    summary="Nothing more will come on this purchase order",
    responses=responses(PurchaseOrderNotFound, IllegalTransition, InvalidInput),
    dependencies=[
        needs(Permission.STOCK_WRITE),
        reach(Reach.RECORD, "number", finder=_visible_order),
    ],
)
def cancel_purchase_order(
    number: PoNumberPath,
    uow: Uow,
    caller: Caller,
    body: Annotated[CancelIn | None, Body()] = None,
) -> PurchaseOrderOut:
    _visible_order(uow, caller, number)
    return render_purchase_order(
        purchasing.cancel_purchase_order(
            uow, number, caller.actor, reason=body.reason if body else ""
        )
    )


# ---------------------------------------------------------------------- incoming


@router.get(
    "/stock/incoming",
    response_model=IncomingListOut,
    tags=["stock"],
    summary="Stock on its way, per warehouse and SKU",
    description="Shipped transfers not yet received and what open purchase orders still "
    "bring, with the earliest expected date and each document.",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def list_incoming(
    uow: Uow,
    caller: Caller,
    warehouse: Annotated[str | None, Query(max_length=64)] = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
) -> IncomingListOut:
    rows = incoming_service.list_incoming(uow, warehouses=_narrowed(caller, warehouse), sku=sku)
    return IncomingListOut(items=[IncomingOut.model_validate(r) for r in rows])
