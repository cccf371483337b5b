"""Shipments: releasing an order to a warehouse, its pick list and picks, short picks,
parcels, hand-over; and reading shipments. Warehouse staff reach their warehouses'
shipments only, a channel's key its channel's; anything else is not found."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.schemas.common import Code as LocationCode
from potok.api.schemas.fulfilment import (
    HandOverIn,
    ParcelIn,
    PickListOut,
    PickOut,
    ReleaseIn,
    ScanIn,
    ShipmentOut,
    ShipmentPageOut,
    ShortageIn,
    ShortageOut,
    render_lines,
    render_shipment,
    render_takes,
)
from potok.api.scope import Reach, ensure_visible, ensure_warehouses, reach, sees_shipment
from potok.api.scope import ensure_shipment as ensure_shipment
from potok.api.security import Caller, needs, security_of
from potok.connectors.carriers import CarrierRefused, CarrierUnavailable
from potok.domain.access import Permission
from potok.domain.errors import InvalidInput, TransientConflict
from potok.domain.fulfilment import ShipmentNotFound, ShipmentStatus
from potok.domain.fulfilment import errors as fe
from potok.domain.machine import IllegalTransition
from potok.domain.network import WarehouseNotFound
from potok.domain.orders import OrderNotFound
from potok.domain.orders.errors import IdempotencyKeyReused, OrderClosed
from potok.services.fulfilment import packing, picking, reads, release, tracking

# still imported from here by the console pages
visible = sees_shipment

router = APIRouter(prefix="/api/v1", tags=["fulfilment"])

ShipmentIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="The shipment's id.")]
OrderIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="Potok's order number.")]
ParcelNoPath = Annotated[int, Path(ge=1, le=10_000)]

_PICKING_ERRORS = (
    ShipmentNotFound,
    InvalidInput,
    fe.WrongProduct,
    fe.WrongBin,
    fe.WrongLot,
    fe.WrongSerial,
    fe.SerialRequired,
    fe.AlreadyPicked,
    fe.ShipmentNotStarted,
    fe.NothingToPick,
    fe.OrderNotReleasable,
    IdempotencyKeyReused,
    TransientConflict,
)


@router.get(
    "/shipments",
    response_model=ShipmentPageOut,
    summary="Shipments, newest first",
    description="Filter by warehouse, status, order or wave. Warehouse staff see their "
    "warehouses' shipments; a channel's key its channel's.",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)],
)
def list_shipments(
    uow: Uow,
    caller: Caller,
    warehouse: Annotated[list[LocationCode] | None, Query(max_length=50)] = None,
    status: Annotated[list[ShipmentStatus] | None, Query(max_length=20)] = None,
    order_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    wave: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    wanted = list(warehouse) if warehouse else None
    if caller.warehouses is not None:
        allowed = set(caller.warehouse_codes)
        wanted = [w for w in (wanted or sorted(allowed)) if w in allowed]
    page = reads.list_shipments(
        uow,
        warehouses=wanted,
        statuses=[s.value for s in status or []],
        order_id=order_id,
        channel=caller.channel,
        wave=wave,
        cursor=cursor,
        limit=limit,
    )
    return json_response(
        {"items": [render_shipment(s) for s in page.items], "next_cursor": page.next_cursor}
    )


@router.get(
    "/shipments/{shipment_id}",
    response_model=ShipmentOut,
    summary="A shipment with its items, parcels, codes and every step",
    responses=responses(ShipmentNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.SHIPMENT)],
)
def get_shipment(shipment_id: ShipmentIdPath, uow: Uow, caller: Caller) -> Response:
    view = reads.get_shipment(uow, shipment_id)
    if not visible(uow, caller, view.shipment):
        raise ShipmentNotFound(shipment_id=shipment_id)
    return json_response(render_shipment(view.shipment, view.steps, view.carrier_label))


@router.get(
    "/orders/{order_id}/shipments",
    response_model=list[ShipmentOut],
    tags=["orders"],
    summary="An order's shipments",
    responses=responses(OrderNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.ORDER)],
)
def order_shipments(order_id: OrderIdPath, uow: Uow, caller: Caller) -> Response:
    ensure_visible(uow, caller, order_id)
    found = reads.order_shipments(uow, order_id)
    return json_response([render_shipment(s) for s in found if visible(uow, caller, s)])


@router.post(
    "/orders/{order_id}/shipments",
    status_code=201,
    response_model=list[ShipmentOut],
    tags=["orders"],
    summary="Send an order to a warehouse for picking",
    description="Makes the order's pending shipment at the warehouse (one per parcel group) "
    "from what it holds there; its pick list follows, and the first scan starts picking. "
    "Refused while the order is on hold, unconfirmed, waiting for a prepayment or for a "
    "transfer. Waves (`POST /api/v1/waves`) do the same for many orders at once.",
    responses=responses(
        OrderNotFound,
        WarehouseNotFound,
        fe.OrderNotReleasable,
        fe.NothingToPick,
        InvalidInput,
        IdempotencyKeyReused,
        TransientConflict,
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.ORDER)],
)
def release_order(
    order_id: OrderIdPath,
    body: ReleaseIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_warehouses(caller, {body.warehouse})
    ensure_visible(uow, caller, order_id)
    return answer(
        request,
        "release-order",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: release.release_order(uow, order_id, body.warehouse, caller.actor, once=once),
        lambda made: (201, [render_shipment(s) for s in made]),
    )


@router.get(
    "/shipments/{shipment_id}/pick-list",
    response_model=PickListOut,
    summary="What to pick for a shipment, in the order a picker walks the bins",
    responses=responses(ShipmentNotFound),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.SHIPMENT)],
)
def pick_list(shipment_id: ShipmentIdPath, uow: Uow, caller: Caller) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    shipment, lines = reads.pick_list(uow, shipment_id)
    return json_response(
        {"shipment_id": shipment_id, "status": shipment.status.value, "lines": render_lines(lines)}
    )


@router.post(
    "/shipments/{shipment_id}/picking",
    response_model=ShipmentOut,
    summary="Start picking a pending shipment",
    description="The first scan does this by itself. The items are frozen from what the "
    "order holds at the warehouse; edits of the order stop here.",
    responses=responses(*_PICKING_ERRORS),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.SHIPMENT)],
)
def start_picking(shipment_id: ShipmentIdPath, uow: Uow, caller: Caller) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    shipment = picking.start_picking(uow, shipment_id, caller.actor)
    return json_response(render_shipment(shipment))


@router.post(
    "/shipments/{shipment_id}/picks",
    status_code=201,
    response_model=PickOut,
    summary="Confirm a scan: units of a product picked (from a bin, of a lot, by serial)",
    description="A scan of the wrong product, bin, lot or serial is refused with what was "
    "expected; more than is left to pick is a 409 (`already-picked`).",
    responses=responses(*_PICKING_ERRORS),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.SHIPMENT)],
)
def pick(
    shipment_id: ShipmentIdPath,
    body: ScanIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    return answer(
        request,
        "shipment-pick",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: picking.pick(uow, shipment_id, body.scan(), caller.actor, once=once),
        lambda outcome: (
            201,
            {
                "takes": render_takes(outcome.takes),
                "left": outcome.left,
                "shipments": [render_shipment(s) for s in outcome.shipments],
            },
        ),
    )


@router.post(
    "/shipments/{shipment_id}/shortages",
    status_code=201,
    response_model=ShortageOut,
    summary="Units not on the shelf: pick short and source the rest again",
    description="The shipment carries fewer units, the position's on-hand is written down "
    "(ledger reason `picking shortage`), and the rest of the order - whatever no started "
    "shipment holds - is sourced again without that shelf: units found at this warehouse "
    "join the shipment at once, others wait for their own shipment; with nothing anywhere "
    "the rest is backordered and the operators alerted. One transaction.",
    responses=responses(*_PICKING_ERRORS),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.SHIPMENT)],
)
def short_pick(
    shipment_id: ShipmentIdPath,
    body: ShortageIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_shipment(uow, caller, shipment_id)

    def render(outcome: picking.ShortOutcome) -> tuple[int, Any]:
        return 201, {
            "shipment": render_shipment(outcome.shipment),
            "order_status": outcome.order.status.value,
            "movement_id": outcome.movement_id,
            "resourced": outcome.resourced,
            "added_here": [i.item_no for i in outcome.added_here],
            "orders_resourced": outcome.displaced,
            "alerts": outcome.alerts,
        }

    return answer(
        request,
        "shipment-shortage",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: picking.short_pick(uow, shipment_id, body.short(), caller.actor, once=once),
        render,
    )


@router.post(
    "/shipments/{shipment_id}/parcels",
    status_code=201,
    response_model=ShipmentOut,
    summary="Pack picked units into a parcel, with the identifiers every unit needs",
    description="Weight and dimensions, the items and units, and per unit the codes its "
    "product requires: Честный ЗНАК marking codes (structure and GTIN check digit checked, "
    "the GTIN must be one of the product's), IMEI (Luhn), UIN (16 digits). A code packed "
    "or shipped elsewhere is refused (`code-already-used`): one unit never ships twice. "
    "When every picked unit is packed the shipment is `packed`.",
    responses=responses(
        ShipmentNotFound,
        InvalidInput,
        fe.PackExceedsPicked,
        fe.IdentifierNotRequired,
        fe.IdentifierMismatch,
        fe.CodeAlreadyUsed,
        fe.ShipmentNotStarted,
        IdempotencyKeyReused,
        TransientConflict,
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.SHIPMENT)],
)
def pack_parcel(
    shipment_id: ShipmentIdPath,
    body: ParcelIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    return answer(
        request,
        "shipment-parcel",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: packing.pack_parcel(uow, shipment_id, body.draft(), caller.actor, once=once),
        lambda packed: (201, render_shipment(packed[0])),
    )


@router.delete(
    "/shipments/{shipment_id}/parcels/{parcel_no}",
    response_model=ShipmentOut,
    summary="Open a parcel again before hand-over",
    description="Its units are unpacked and their codes free; a packed shipment goes back "
    "to picking until they are packed again.",
    responses=responses(ShipmentNotFound, InvalidInput, fe.ShipmentNotStarted, IllegalTransition),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.SHIPMENT)],
)
def open_parcel(
    shipment_id: ShipmentIdPath, parcel_no: ParcelNoPath, uow: Uow, caller: Caller
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    return json_response(
        render_shipment(packing.open_parcel(uow, shipment_id, parcel_no, caller.actor))
    )


@router.post(
    "/shipments/{shipment_id}/handover",
    response_model=ShipmentOut,
    summary="Hand a packed shipment over to the carrier (or the customer)",
    description="The order's reservations for it are consumed, each position (lot) loses the "
    "units from on-hand with a ledger entry (`shipment`), serial numbers become `shipped`. "
    "Refused unless packed, and while a unit lacks an identifier its product requires. A "
    "`carrier` Potok knows (`GET /api/v1/carriers`) books it first (tracking number, label); "
    "another name is recorded as given. The expected delivery date is the hand-over day "
    "plus the tariff's days.",
    responses=responses(
        ShipmentNotFound,
        CarrierRefused,
        CarrierUnavailable,
        InvalidInput,
        IllegalTransition,
        fe.IdentifiersMissing,
        OrderClosed,
        IdempotencyKeyReused,
        TransientConflict,
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.SHIPMENT)],
)
def hand_over(
    shipment_id: ShipmentIdPath,
    request: Request,
    uow: Uow,
    caller: Caller,
    body: HandOverIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    form = body or HandOverIn()
    return answer(
        request,
        "shipment-handover",
        caller,
        idempotency_key,
        form.model_dump_json(),
        lambda once: tracking.hand_over_to(
            uow,
            security_of(request).potok.carriers,
            shipment_id,
            caller.actor,
            carrier=form.carrier,
            tracking_number=form.tracking_number,
            once=once,
        ),
        lambda shipment: (200, render_shipment(shipment)),
    )
