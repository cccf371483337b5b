"""Returns (RMA): asked back for an order, decided by support, received at any warehouse,
inspected unit by unit, refunded.

A channel-bound key sees the returns of its channel's orders; warehouse staff those of
orders their warehouses shipped and those received at their warehouses, and they receive
any return at their own warehouses (the parcel is at their door).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.returns import (
    DeclineIn,
    ExchangeIn,
    InspectionIn,
    NoteIn,
    ReceiptIn,
    RefundIn,
    ReturnIn,
    ReturnOut,
    ReturnPageOut,
    ReturnReasonsOut,
    render_return,
)
from potok.api.scope import Reach, limited, reach, visible
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.errors import InvalidInput
from potok.domain.inventory.errors import UnavailableExceeded
from potok.domain.machine import IllegalTransition
from potok.domain.network import WarehouseNotFound
from potok.domain.orders import OrderNotFound
from potok.domain.orders.errors import IdempotencyKeyReused, NetworkCannotCover
from potok.domain.returns import (
    Decision,
    ExchangeNotPossible,
    InspectionIncomplete,
    OrderNotReturnable,
    Outcome,
    RefundAbovePaid,
    RefundNotDue,
    RefundStatus,
    Return,
    ReturnExceedsShipped,
    ReturnNotFound,
    UnitNotInOrder,
    UnknownReturnReason,
)
from potok.services import orders as order_service
from potok.services.returns import exchanges, handling, requests
from potok.services.returns.policy import ReturnPolicy
from potok.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["returns"])

NumberPath = Annotated[str, Path(max_length=32, description="The return's number, RT-000001.")]
OrderPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=500)]


def policy(request: Request) -> ReturnPolicy:
    """The shop's returns policy, from the settings."""
    settings = request.app.state.potok.settings.returns
    return ReturnPolicy.of(
        settings.reasons, settings.shipping_refund, settings.shipping_refund_by_channel
    )


def sees(uow: UnitOfWork, principal: Principal, ret: Return) -> bool:
    """A limited caller sees the returns of orders it sees, and warehouse staff also
    those received at their warehouses."""
    if not limited(principal):
        return True
    if principal.warehouses is not None and ret.warehouse_id in principal.warehouses:
        return principal.channel is None or ret.channel == principal.channel
    try:
        return visible(principal, order_service.get_order(uow, ret.order_id).order)
    except OrderNotFound:
        return False


def _visible_return(uow: UnitOfWork, principal: Principal, number: str) -> Return:
    ret = requests.get_return(uow, number)
    if not sees(uow, principal, ret):
        raise ReturnNotFound(number=number)
    return ret


_RECORD = reach(Reach.RECORD, "number", finder=_visible_return)


@router.get(
    "/return-reasons",
    response_model=ReturnReasonsOut,
    summary="The reasons a return line may give",
    description="Set by `POTOK_RETURNS__REASONS`; `unclaimed` is kept for parcels that came "
    "back undelivered.",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def return_reasons(request: Request) -> ReturnReasonsOut:
    return ReturnReasonsOut(reasons=list(policy(request).reasons))


@router.post(
    "/orders/{order_id}/returns",
    status_code=201,
    response_model=ReturnOut,
    summary="Ask units of a shipped order back",
    description="Each line names an order line, how many units (at most those handed over "
    "and not already on another return), a reason from the shop's list and optionally "
    "which units (serials, marking codes). The return starts `requested` (or `approved` "
    "with `approve`); the refund it would owe is shown at once.",
    responses=responses(
        OrderNotFound,
        OrderNotReturnable,
        ReturnExceedsShipped,
        UnitNotInOrder,
        UnknownReturnReason,
        InvalidInput,
        IdempotencyKeyReused,
    ),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.ORDER)],
)
def request_return(
    order_id: OrderPath,
    body: ReturnIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    command = requests.RequestReturn(
        order_id=order_id,
        lines=[
            requests.ReturnLineRequest(
                line.line_no, line.quantity, line.reason, tuple(line.units), line.note
            )
            for line in body.lines
        ],
        comment=body.comment,
        approve=body.approve,
    )
    return answer(
        request,
        "return",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: requests.request_return(
            uow, command, caller.actor, policy=policy(request), once=once
        ),
        lambda ret: (201, render_return(ret).model_dump(mode="json")),
    )


@router.get(
    "/orders/{order_id}/returns",
    response_model=list[ReturnOut],
    summary="The order's returns, oldest first",
    responses=responses(OrderNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.ORDER)],
)
def order_returns(order_id: OrderPath, uow: Uow) -> list[ReturnOut]:
    return [render_return(r) for r in requests.returns_of_order(uow, order_id)]


@router.get(
    "/returns",
    response_model=ReturnPageOut,
    summary="Returns, newest first",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)],
)
def list_returns(
    uow: Uow,
    caller: Caller,
    status: Annotated[
        str | None,
        Query(max_length=32, description="requested, approved, declined, received, ..."),
    ] = None,
    order_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    warehouse: Annotated[
        str | None, Query(max_length=64, description="Received at this warehouse (its code).")
    ] = None,
    reason: Annotated[
        str | None, Query(max_length=40, description="A line gives this reason.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ReturnPageOut:
    page = requests.list_returns(
        uow,
        status=status,
        order_id=order_id,
        channels=[caller.channel] if caller.channel is not None else None,
        warehouses=caller.warehouses,
        received_at=warehouse,
        reason=reason,
        cursor=cursor,
        limit=limit,
    )
    return ReturnPageOut(items=[render_return(r) for r in page.items], next_cursor=page.next_cursor)


@router.get(
    "/returns/{number}",
    response_model=ReturnOut,
    summary="One return with its lines, refund and steps",
    responses=responses(ReturnNotFound),
    dependencies=[needs(Permission.ORDERS_READ), _RECORD],
)
def get_return(number: NumberPath, uow: Uow) -> ReturnOut:
    return render_return(requests.get_return(uow, number))


@router.post(
    "/returns/{number}/approval",
    response_model=ReturnOut,
    summary="Let the customer send the units back",
    responses=responses(ReturnNotFound, IllegalTransition),
    dependencies=[needs(Permission.ORDERS_MANAGE), _RECORD],
)
def approve_return(number: NumberPath, body: NoteIn, uow: Uow, caller: Caller) -> ReturnOut:
    return render_return(requests.approve_return(uow, number, caller.actor, note=body.note))


@router.post(
    "/returns/{number}/refusal",
    response_model=ReturnOut,
    summary="Decline a requested return",
    responses=responses(ReturnNotFound, IllegalTransition, InvalidInput),
    dependencies=[needs(Permission.ORDERS_MANAGE), _RECORD],
)
def decline_return(number: NumberPath, body: DeclineIn, uow: Uow, caller: Caller) -> ReturnOut:
    return render_return(requests.decline_return(uow, number, caller.actor, reason=body.reason))


@router.post(
    "/warehouses/{warehouse}/return-receipts",
    response_model=ReturnOut,
    summary="A return's parcel arrived at this warehouse",
    description="Any warehouse may receive any approved return. What arrived per line "
    "(default: everything asked back) enters the warehouse's on-hand set aside as "
    "`unavailable` until inspected (a `customer_return` ledger movement on the position of "
    "the units' lot); the refund is owed from now on (`refund_status` pending). Two "
    "receipts of one return: the second is refused (`illegal-transition`).",
    responses=responses(
        ReturnNotFound, WarehouseNotFound, IllegalTransition, InvalidInput, IdempotencyKeyReused
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.WAREHOUSE, "warehouse")],
)
def receive_return(
    warehouse: Annotated[str, Path(max_length=64)],
    body: ReceiptIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    if caller.channel is not None:
        _visible_return(uow, caller, body.number)
    return answer(
        request,
        "return-receipt",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: handling.receive_return(
            uow,
            body.number,
            warehouse,
            caller.actor,
            received={line.line_no: line.quantity for line in body.lines},
            policy=policy(request),
            once=once,
        ),
        lambda ret: (200, render_return(ret).model_dump(mode="json")),
    )


@router.post(
    "/returns/{number}/inspection",
    response_model=ReturnOut,
    summary="Decide each received unit: sellable, unavailable or written off",
    description="Every received unit exactly once. `restock` releases it from the "
    "unavailable bucket (sellable again; backordered orders get another try), "
    "`write_off` takes it out of the books, `unavailable` keeps it aside. Lot and expiry "
    "stay with the units: each move is a ledger entry on their lot's position.",
    responses=responses(
        ReturnNotFound, IllegalTransition, InspectionIncomplete, UnavailableExceeded, InvalidInput
    ),
    dependencies=[needs(Permission.STOCK_WRITE), _RECORD],
)
def inspect_return(number: NumberPath, body: InspectionIn, uow: Uow, caller: Caller) -> ReturnOut:
    decisions = [
        Decision(d.line_no, Outcome(d.outcome), d.quantity, d.note) for d in body.decisions
    ]
    return render_return(handling.inspect_return(uow, number, decisions, caller.actor))


@router.post(
    "/returns/{number}/closure",
    response_model=ReturnOut,
    summary="Close an inspected return",
    responses=responses(ReturnNotFound, IllegalTransition),
    dependencies=[needs(Permission.ORDERS_MANAGE), _RECORD],
)
def close_return(number: NumberPath, body: NoteIn, uow: Uow, caller: Caller) -> ReturnOut:
    return render_return(requests.close_return(uow, number, caller.actor, note=body.note))


@router.post(
    "/returns/{number}/refund",
    response_model=ReturnOut,
    summary="The refund was paid, or failed, or is owed again",
    description="Set by the channel or an operator once the return is received. `paid` "
    "never exceeds what the order's payment has left (`refund-above-paid`) and moves the "
    "order's payment to `partially_refunded` or `refunded`; `failed` may be paid later, "
    "or made `pending` again - a refund the payment gateway refused is then asked of it "
    "once more.",
    responses=responses(ReturnNotFound, RefundNotDue, RefundAbovePaid, IllegalTransition),
    dependencies=[needs(Permission.ORDERS_MANAGE), _RECORD],
)
def settle_refund(number: NumberPath, body: RefundIn, uow: Uow, caller: Caller) -> ReturnOut:
    ret = requests.settle_refund(
        uow, number, RefundStatus(body.status), caller.actor, note=body.note
    )
    return render_return(ret)


@router.post(
    "/returns/{number}/exchange",
    status_code=201,
    response_model=ReturnOut,
    summary="Send a replacement order for the return",
    description="Once the return is approved (before the units arrive, if need be) a new "
    "order of the same channel, customer and delivery is placed - the same SKUs and "
    "quantities unless `lines` says otherwise, at the prices paid - and sourced and reserved "
    "like any other; it is linked as `exchange_order_id` and its worth is taken off the "
    "refund. The replacement's external id is `exchange-<number>`: asking again after a "
    "failure finds it rather than placing a second one.",
    responses=responses(
        ReturnNotFound, ExchangeNotPossible, NetworkCannotCover, InvalidInput, IdempotencyKeyReused
    ),
    dependencies=[needs(Permission.ORDERS_MANAGE), _RECORD],
)
def exchange_return(
    number: NumberPath,
    body: ExchangeIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return answer(
        request,
        "exchange-return",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: exchanges.exchange_return(
            uow,
            number,
            caller.actor,
            lines=[exchanges.ExchangeLine(line.sku, line.quantity) for line in body.lines],
            once=once,
        ),
        lambda done: (201, render_return(done.ret).model_dump(mode="json")),
    )
