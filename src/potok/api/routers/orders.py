"""Orders: intake, the operator's actions, the list and the detail."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from potok import timing
from potok.api.deps import ExpectedVersion, Uow
from potok.api.hot_routes import off_the_loop
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.responses import JSON, dumps, json_response
from potok.api.schemas.common import nul_free
from potok.api.schemas.order_filters import (
    ChannelQuery,
    CreatedFromQuery,
    CreatedToQuery,
    PaymentMethodQuery,
    PaymentStatusQuery,
    SearchQuery,
    StatusQuery,
    WarehouseQuery,
)
from potok.api.schemas.orders import (
    CancellationIn,
    HoldIn,
    HoldOut,
    OrderIn,
    OrderOut,
    OrderPageOut,
    PaymentIn,
    ReasonIn,
    render_order,
    render_summary,
)
from potok.api.scope import Reach, ensure_channel, ensure_visible, limited, narrow, reach, visible
from potok.api.security import Caller, authorise, needs, needs_inline, uow_for
from potok.domain.access import Permission, Principal
from potok.domain.channels import ChannelNotFound
from potok.domain.channels.model import ChannelInactive
from potok.domain.errors import FieldError, InvalidInput, StaleVersion, TransientConflict
from potok.domain.machine import IllegalTransition
from potok.domain.orders import Hold, OrderNotFound
from potok.domain.orders.commands import (
    CancelOrder,
    ConfirmOrder,
    PlaceHold,
    RecordPayment,
    ReleaseHold,
)
from potok.domain.orders.errors import (
    HoldAlreadyActive,
    HoldNotFound,
    IdempotencyKeyReused,
    NetworkCannotCover,
    OrderClosed,
    OrderOnHold,
)
from potok.services import intake
from potok.services import orders as order_service
from potok.services.orders import OrderView
from potok.services.read_models import OrderFilter

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

OrderIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="Potok's order number.")]
HoldNoPath = Annotated[int, Path(ge=1, le=10_000)]


def _order_response(view: OrderView, principal: Principal, status_code: int = 200) -> Response:
    order = view.order
    return json_response(
        render_order(order, view.history, mask=not principal.sees_personal_data),
        status_code,
        {"ETag": f'"{order.version}"'},
    )


@router.post(
    "",
    status_code=201,
    response_model=OrderOut,
    summary="Take an order",
    description=(
        "Validates the order, takes it once per (channel, external_id), reserves stock at the "
        "nearest warehouse that can ship it whole (else the fewest nearest that together can) "
        "and confirms it if the channel says so - all in one transaction. An order the network "
        "cannot cover is `backordered`, or refused with `insufficient-stock` if the channel "
        "rejects backorders. Send an `Idempotency-Key` to make retries safe: a replay returns "
        "the first answer; the same key with another body is a 409. A duplicate external id "
        "answers 200 with the existing order."
    ),
    responses={
        200: {"description": "The order already existed (same channel and external id)."},
        **responses(
            InvalidInput,
            IdempotencyKeyReused,
            NetworkCannotCover,
            ChannelInactive,
            TransientConflict,
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/OrderIn"}}},
        },
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Makes retries of this request safe (at most 255 characters).",
                "schema": {"type": "string", "maxLength": 255},
            },
        ],
    },
    dependencies=[needs_inline(Permission.ORDERS_WRITE), reach(Reach.NAMED)],
)
async def place_order(request: Request) -> Response:
    """The hottest route: it reads its headers and authorises in its own worker thread,
    without FastAPI's dependency machinery."""
    idempotency_key = request.headers.get("idempotency-key")
    body = await request.body()
    rendered: list[tuple[intake.Placement, bytes]] = []  # answers kept under the key

    def work() -> tuple[Principal, intake.Placement | intake.Replay]:
        principal = authorise(request, (Permission.ORDERS_WRITE,))  # before reading the body
        timing.mark("authorised")
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            raise InvalidInput(
                [FieldError("Idempotency-Key", "must be 1-255 characters", "bad-idempotency-key")]
            )
        try:
            payload = OrderIn.model_validate_json(body, context=nul_free(body))
        except ValidationError as error:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
            ) from None
        request_hash = None
        if idempotency_key is not None:
            request_hash = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()
        ensure_channel(principal, payload.channel)
        mask = not principal.sees_personal_data
        key = f"{principal.actor}:{idempotency_key}" if idempotency_key is not None else None
        command = payload.to_command(key, request_hash)
        timing.mark("validated")

        def respond(placement: intake.Placement) -> tuple[int, Any]:
            # encoded once: these bytes are kept under the key and sent as the answer
            encoded = dumps(render_order(placement.order, placement.history, mask=mask))
            rendered.append((placement, encoded))
            return (201 if placement.created else 200), encoded

        uow = uow_for(request, principal)
        prices = request.app.state.potok.prices
        return principal, intake.place_order(
            uow, command, principal.actor, respond=respond, prices=prices
        )

    principal, result = await off_the_loop(request, work)
    if isinstance(result, intake.Replay):
        return json_response(
            result.body,
            result.status_code,
            {
                "Idempotent-Replayed": "true",
                "Location": f"{router.prefix}/{result.body['id']}",
                "ETag": f'"{result.body["version"]}"',
            },
        )
    order = result.order
    kept = rendered[-1] if rendered else None
    return Response(  # the answer kept under the key is sent as it was kept
        kept[1]
        if kept is not None and kept[0] is result
        else dumps(render_order(order, result.history, mask=not principal.sees_personal_data)),
        201 if result.created else 200,
        {"Location": f"{router.prefix}/{order.id}", "ETag": f'"{order.version}"'},
        media_type=JSON,
    )


@router.get(
    "",
    response_model=OrderPageOut,
    summary="List and search orders",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)],
)
def list_orders(
    uow: Uow,
    caller: Caller,
    status: StatusQuery = None,
    channel: ChannelQuery = None,
    warehouse: WarehouseQuery = None,
    payment_status: PaymentStatusQuery = None,
    payment_method: PaymentMethodQuery = None,
    created_from: CreatedFromQuery = None,
    created_to: CreatedToQuery = None,
    q: SearchQuery = None,
    sort: Annotated[
        str,
        Query(
            max_length=32,
            description="created_at, updated_at, total, priority or id; '-' for descending.",
        ),
    ] = "-created_at",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OrderPageOut:
    page = order_service.list_orders(
        uow,
        narrow(
            caller,
            OrderFilter(
                statuses=[s.value for s in status or []],
                channels=channel or [],
                warehouses=warehouse or [],
                payment_statuses=[s.value for s in payment_status or []],
                payment_methods=[m.value for m in payment_method or []],
                created_from=created_from,
                created_to=created_to,
                text=q,
            ),
        ),
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    mask = not caller.sees_personal_data
    return OrderPageOut(
        items=[render_summary(s, mask=mask) for s in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{order_id}",
    response_model=OrderOut,
    summary="An order with its lines, reservations, holds and full history",
    responses=responses(OrderNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.ORDER)],
)
def get_order(order_id: OrderIdPath, uow: Uow, caller: Caller) -> Response:
    view = order_service.get_order(uow, order_id)
    if limited(caller) and not visible(caller, view.order):
        raise OrderNotFound(order_id=order_id)
    return _order_response(view, caller)


_ACTION_ERRORS = (OrderNotFound, StaleVersion, IllegalTransition, OrderClosed, InvalidInput)


@router.post(
    "/{order_id}/confirmation",
    response_model=OrderOut,
    summary="Confirm a new order",
    responses=responses(*_ACTION_ERRORS, OrderOnHold),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.ORDER)],
)
def confirm_order(
    order_id: OrderIdPath,
    uow: Uow,
    caller: Caller,
    version: ExpectedVersion,
    body: ReasonIn | None = None,
) -> Response:
    reason = body.reason if body else None
    ensure_visible(uow, caller, order_id)
    view = order_service.confirm_order(uow, ConfirmOrder(order_id, reason, version), caller.actor)
    return _order_response(view, caller)


@router.post(
    "/{order_id}/cancellation",
    response_model=OrderOut,
    summary="Cancel an order and release its stock",
    responses=responses(*_ACTION_ERRORS),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.ORDER)],
)
def cancel_order(
    order_id: OrderIdPath, body: CancellationIn, uow: Uow, caller: Caller, version: ExpectedVersion
) -> Response:
    ensure_visible(uow, caller, order_id)
    view = order_service.cancel_order(
        uow, CancelOrder(order_id, body.reason, version), caller.actor
    )
    return _order_response(view, caller)


@router.post(
    "/{order_id}/holds",
    status_code=201,
    response_model=HoldOut,
    summary="Put an order on hold (payment, fraud, address or manual)",
    responses=responses(*_ACTION_ERRORS, HoldAlreadyActive, IdempotencyKeyReused),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.ORDER)],
)
def place_hold(
    order_id: OrderIdPath,
    body: HoldIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    version: ExpectedVersion,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_visible(uow, caller, order_id)
    versions: list[int] = []

    def render(placed: tuple[order_service.OrderView, Hold]) -> tuple[int, object]:
        view, hold = placed
        versions.append(view.order.version)
        return 201, HoldOut.model_validate(_hold_dict(hold)).model_dump(mode="json")

    answered = answer(
        request,
        "place-hold",
        caller,
        idempotency_key,
        f"{version}\n{body.model_dump_json()}",
        lambda once: order_service.place_hold(
            uow,
            PlaceHold(order_id, body.type, body.reason, body.expires_at, version),
            caller.actor,
            once=once,
        ),
        render,
        lambda hold: {"Location": f"{router.prefix}/{order_id}/holds/{hold['hold_no']}"},
    )
    if versions and "idempotent-replayed" not in answered.headers:
        answered.headers["ETag"] = f'"{versions[-1]}"'
    return answered


def _hold_dict(hold: Hold) -> dict[str, Any]:
    return {
        "hold_no": hold.hold_no,
        "type": hold.type.value,
        "state": hold.state.value,
        "reason": hold.reason,
        "placed_at": hold.placed_at,
        "placed_by": hold.placed_by,
        "expires_at": hold.expires_at,
        "ended_at": hold.ended_at,
        "ended_by": hold.ended_by,
        "end_reason": hold.end_reason,
    }


@router.post(
    "/{order_id}/holds/{hold_no}/release",
    response_model=OrderOut,
    summary="Release a hold",
    responses=responses(*_ACTION_ERRORS, HoldNotFound),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.ORDER)],
)
def release_hold(
    order_id: OrderIdPath,
    hold_no: HoldNoPath,
    uow: Uow,
    caller: Caller,
    version: ExpectedVersion,
    body: ReasonIn | None = None,
) -> Response:
    reason = body.reason if body else None
    ensure_visible(uow, caller, order_id)
    view = order_service.release_hold(
        uow, ReleaseHold(order_id, hold_no, reason, version), caller.actor
    )
    return _order_response(view, caller)


@router.post(
    "/{order_id}/payment",
    response_model=OrderOut,
    summary="Record a new payment state",
    description="A paid order of a `when_paid` channel is confirmed at once; a paid order no "
    "longer expires.",
    responses=responses(*_ACTION_ERRORS, ChannelNotFound),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.ORDER)],
)
def record_payment(
    order_id: OrderIdPath, body: PaymentIn, uow: Uow, caller: Caller, version: ExpectedVersion
) -> Response:
    ensure_visible(uow, caller, order_id)
    view = order_service.record_payment(
        uow, RecordPayment(order_id, body.status, body.reason, version), caller.actor
    )
    return _order_response(view, caller)
