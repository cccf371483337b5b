"""Order edits under If-Match: lines, quantities and the delivery before picking starts;
units of lines cancelled while no shipment holds them; a shipment cancelled before it
leaves. What may change in which status is a table (``domain/orders/edits.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from potok.api.deps import ExpectedVersion, Uow
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.routers.shipments import ShipmentIdPath
from potok.api.schemas.order_edits import LineCancellationIn, OrderEditIn, ShipmentCancellationIn
from potok.api.schemas.orders import OrderOut, render_order
from potok.api.scope import Reach, ensure_shipment, ensure_visible, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.errors import InvalidInput, StaleVersion, TransientConflict, VersionRequired
from potok.domain.fulfilment import ShipmentNotFound
from potok.domain.fulfilment.errors import ShipmentsLeftTheWarehouse
from potok.domain.orders import OrderNotFound
from potok.domain.orders.edits import LineInFulfilment, OrderNotEditable
from potok.domain.orders.errors import NetworkCannotCover, OrderClosed
from potok.services import order_edits
from potok.services.orders import OrderView

router = APIRouter(prefix="/api/v1", tags=["orders"])

OrderIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="Potok's order number.")]


def _answer(view: OrderView, principal: Principal) -> Response:
    order = view.order
    return json_response(
        render_order(order, view.history, mask=not principal.sees_personal_data),
        200,
        {"ETag": f'"{order.version}"'},
    )


@router.patch(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="Edit an order: lines, quantities, the delivery before picking starts; the "
    "customer's contact until it is delivered",
    description="Needs `If-Match` with the order's ETag (without one `428`, a stale one "
    "`412`). Lines: "
    "`{line_no, quantity}` changes a quantity (`0` removes the line), `{sku, quantity}` "
    "adds one. Only the difference moves: fewer units give back what they held, more are "
    "reserved where the order already is when possible, else anywhere, else the edit is "
    "refused (`insufficient-stock`) and nothing changes. A new address or pickup point "
    "keeps the reservations. Refused once picking has started (`order-not-editable`); "
    "`customer` may change until the order is delivered.",
    responses=responses(
        OrderNotFound,
        StaleVersion,
        VersionRequired,
        OrderNotEditable,
        OrderClosed,
        NetworkCannotCover,
        InvalidInput,
        TransientConflict,
    ),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.ORDER)],
)
def edit_order(
    order_id: OrderIdPath, body: OrderEditIn, uow: Uow, caller: Caller, version: ExpectedVersion
) -> Response:
    ensure_visible(uow, caller, order_id)
    view = order_edits.edit_order(
        uow,
        order_edits.EditOrder(
            order_id,
            version,
            tuple(line.change() for line in body.lines),
            body.delivery_request(),
            body.reason,
            contact=body.contact(),
        ),
        caller.actor,
    )
    return _answer(view, caller)


@router.post(
    "/orders/{order_id}/line-cancellations",
    response_model=OrderOut,
    summary="Cancel units of lines that no shipment has started",
    description="Units waiting for stock go first, then reserved ones (given back to stock); "
    "units being picked, packed or shipped cannot (`line-in-fulfilment`): cancel their "
    "shipment before it leaves instead. An order with nothing left is cancelled.",
    responses=responses(
        OrderNotFound,
        StaleVersion,
        OrderNotEditable,
        LineInFulfilment,
        InvalidInput,
        TransientConflict,
    ),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.ORDER)],
)
def cancel_lines(
    order_id: OrderIdPath,
    body: LineCancellationIn,
    uow: Uow,
    caller: Caller,
    version: ExpectedVersion,
) -> Response:
    ensure_visible(uow, caller, order_id)
    quantities: dict[int, int] = {}
    for line in body.lines:
        quantities[line.line_no] = quantities.get(line.line_no, 0) + line.quantity
    view = order_edits.cancel_lines(
        uow,
        order_edits.CancelLines(order_id, quantities, body.reason, version),
        caller.actor,
    )
    return _answer(view, caller)


@router.post(
    "/shipments/{shipment_id}/cancellation",
    response_model=OrderOut,
    tags=["fulfilment"],
    summary="Cancel a shipment before it leaves; its units leave the order",
    description="Its units go back on the shelf (reservations released, codes free) and the "
    "order's lines shrink by them; the rest of the order goes on. Answers with the order.",
    responses=responses(
        ShipmentNotFound,
        ShipmentsLeftTheWarehouse,
        OrderNotEditable,
        InvalidInput,
        TransientConflict,
    ),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.SHIPMENT)],
)
def cancel_shipment(
    shipment_id: ShipmentIdPath, body: ShipmentCancellationIn, uow: Uow, caller: Caller
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    view = order_edits.cancel_shipment(uow, shipment_id, body.reason, caller.actor)
    return _answer(view, caller)
