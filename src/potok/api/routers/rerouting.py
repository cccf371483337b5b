"""Re-routing: a picker reports a shortage; operators read and acknowledge alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.rerouting import AlertOut, AlertPageOut, HeldOut, ShortageIn, ShortageOut
from potok.api.scope import (
    Reach,
    ensure_visible,
    ensure_warehouses,
    limited,
    narrow,
    reach,
    visible_alerts,
)
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.alerts import AlertAlreadyAcknowledged, AlertNotFound, AlertState
from potok.domain.errors import InvalidInput
from potok.domain.orders import OrderNotFound
from potok.domain.orders.commands import ReportShortage
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import alerts as alert_service
from potok.services import rerouting
from potok.services.read_models import OrderFilter
from potok.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["re-routing"])

OrderIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="Potok's order number.")]
AlertIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.post(
    "/orders/{order_id}/shortages",
    status_code=201,
    response_model=ShortageOut,
    summary="A picker did not find reserved units on the shelf",
    description=(
        "Writes the position's on-hand down by `missing` (ledger reason `picking shortage`), "
        "takes the order's reservations back and sources it again - without this location "
        "when the rest of the network can cover it -, and re-sources any other order that "
        "loses its reservation to the smaller stock. Orders nothing covers are backordered "
        "and an alert is raised. One transaction; the order's history says why."
    ),
    responses=responses(OrderNotFound, InvalidInput, IdempotencyKeyReused),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.ORDER)],
)
def report_shortage(
    order_id: OrderIdPath,
    body: ShortageIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_warehouses(caller, {body.warehouse})
    ensure_visible(uow, caller, order_id)
    return answer(
        request,
        "report-shortage",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: rerouting.report_shortage(
            uow,
            ReportShortage(order_id, body.warehouse, body.sku, body.missing, body.lot, body.note),
            caller.actor,
            once=once,
        ),
        lambda outcome: (201, _shortage_out(outcome).model_dump(mode="json")),
    )


def _shortage_out(outcome: rerouting.ShortageOutcome) -> ShortageOut:
    order = outcome.order
    assert order.id is not None
    return ShortageOut(
        order_id=order.id,
        order_status=order.status.value,
        warehouse=outcome.warehouse,
        sku=outcome.sku,
        missing=outcome.missing,
        on_hand=outcome.on_hand,
        reserved=outcome.reserved,
        available=outcome.available,
        movement_id=outcome.movement_id,
        reservations=[
            HeldOut(warehouse=r.warehouse_code, sku=r.sku, quantity=r.quantity, lot=r.lot)
            for r in order.open_reservations
        ],
        orders_resourced=outcome.displaced,
        backordered=outcome.backordered,
        alerts=outcome.alerts,
    )


@router.get(
    "/alerts",
    response_model=AlertPageOut,
    summary="Alerts for operators, newest first",
    description=(
        "What Potok could not settle by itself - an order re-routing left without stock, "
        "say. `state`: `open` (default), `acknowledged` or `all`. Callers limited to a "
        "channel or to warehouses see the alerts of the orders they can see, and every "
        "alert that belongs to no order (a location shipping without a tariff, say): those "
        "are the network's, seen by every caller who may read alerts."
    ),
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)],
)
def list_alerts(
    uow: Uow,
    caller: Caller,
    state: AlertState = AlertState.OPEN,
    order_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AlertPageOut:
    page = alert_service.list_alerts(
        uow,
        state=state,
        order_id=order_id,
        cursor=cursor,
        limit=limit,
        within=narrow(caller, OrderFilter()) if limited(caller) else None,
    )
    return AlertPageOut(
        items=[AlertOut.model_validate(a) for a in page.items], next_cursor=page.next_cursor
    )


def _visible_alert(uow: UnitOfWork, caller: Principal, alert_id: int) -> None:
    """An alert is seen with its order; one of no order by every reader of alerts."""
    if not visible_alerts(uow, caller, [alert_service.get_alert(uow, alert_id)]):
        raise AlertNotFound(alert_id=alert_id)


@router.post(
    "/alerts/{alert_id}/acknowledgement",
    response_model=AlertOut,
    summary="Acknowledge an alert: someone takes it from here",
    responses=responses(AlertNotFound, AlertAlreadyAcknowledged),
    dependencies=[
        needs(Permission.ORDERS_MANAGE),
        reach(Reach.RECORD, "alert_id", finder=_visible_alert),
    ],
)
def acknowledge_alert(alert_id: AlertIdPath, uow: Uow, caller: Caller) -> AlertOut:
    return AlertOut.model_validate(alert_service.acknowledge_alert(uow, alert_id, caller.actor))
