"""Orders: the list with the API's filters, search, saved views and bulk actions; the card."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from potok.api.routers.returns import policy as return_policy
from potok.api.schemas.orders import render_order, render_summary
from potok.api.scope import Reach, limited, narrow, reach, visible
from potok.api.scope import sees_shipment as shipment_visible
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.documents.model import DocumentKind
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.fulfilment.states import CANCELLABLE
from potok.domain.orders import OrderNotFound, OrderStatus, PaymentStatus
from potok.domain.orders.actions import (
    Action,
    available_actions,
    hold_types_free,
    payment_targets,
)
from potok.domain.orders.edits import Change, allows
from potok.domain.returns.states import COUNTED
from potok.services import documents as document_service
from potok.services import orders as order_service
from potok.services import sourcing as sourcing_service
from potok.services.catalogue import list_channels
from potok.services.fiscal import reading as fiscal_reading
from potok.services.fulfilment import reads as shipment_reads
from potok.services.payments import reads as payment_reads
from potok.services.read_models import OrderFilter
from potok.services.returns import requests as return_requests
from potok.web.i18n import console_zone
from potok.web.pages import PageRoute, console_uow, render
from potok.web.routers.live import live_context

router = APIRouter(route_class=PageRoute, include_in_schema=False)

OrderIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
SORTS = ("-created_at", "created_at", "-updated_at", "-total", "total", "-priority", "id")


def _day(value: str | None, field: str, request: Request) -> datetime | None:
    """A day the reader typed (or 'today'), as the start of that day in their time zone."""
    if not value:
        return None
    zone = console_zone(request)
    try:
        day = datetime.now(zone).date() if value == "today" else date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            [FieldError(field, "must be a date such as 2026-03-01", "bad-date")]
        ) from None
    return datetime.combine(day, time(), zone).astimezone(UTC)


@router.get("/orders", dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)])
def order_list(
    request: Request,
    caller: Caller,
    status: Annotated[list[Annotated[str, Query(max_length=32)]] | None, Query()] = None,
    channel: Annotated[list[Annotated[str, Query(max_length=64)]] | None, Query()] = None,
    warehouse: Annotated[list[Annotated[str, Query(max_length=64)]] | None, Query()] = None,
    payment_status: Annotated[list[Annotated[str, Query(max_length=32)]] | None, Query()] = None,
    created_from: Annotated[str | None, Query(max_length=10)] = None,
    created_to: Annotated[str | None, Query(max_length=10)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str, Query(max_length=20)] = "-created_at",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    live = live_context(request)  # before the list: nothing in between is missed
    uow = console_uow(request)
    until = _day(created_to, "created_to", request)
    flt = OrderFilter(
        statuses=[s for s in status or [] if s],
        channels=[c for c in channel or [] if c],
        warehouses=[w for w in warehouse or [] if w],
        payment_statuses=[p for p in payment_status or [] if p],
        created_from=_day(created_from, "created_from", request),
        created_to=until + timedelta(days=1) if until else None,  # the whole day typed
        text=q.strip() if q and q.strip() else None,
    )
    page = order_service.list_orders(
        uow, narrow(caller, flt), sort=sort, cursor=cursor, limit=limit
    )
    mask = not caller.sees_personal_data
    rows = [(s.version, render_summary(s, mask=mask)) for s in page.items]
    channels = (
        [c.code for c in list_channels(uow) if caller.channel in (None, c.code)]
        if caller.may(Permission.CATALOGUE_READ)
        else []
    )
    return render(
        request,
        "orders/list.html",
        {
            "rows": rows,
            "next_cursor": page.next_cursor,
            "statuses": list(OrderStatus),
            "payment_statuses": list(PaymentStatus),
            "channels": channels,
            "chosen": {
                "status": flt.statuses,
                "channel": flt.channels,
                "warehouse": flt.warehouses,
                "payment_status": flt.payment_statuses,
                "created_from": created_from or "",
                "created_to": created_to or "",
                "q": q or "",
                "sort": sort,
            },
            "sorts": SORTS,
            "query_without_cursor": urlencode(
                [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
            ),
            "may_manage": caller.may(Permission.ORDERS_MANAGE),
            "may_print": caller.may(Permission.STOCK_READ),
            **live,
        },
    )


@router.get("/orders/{order_id}", dependencies=[needs(Permission.ORDERS_READ), reach(Reach.ORDER)])
def order_card(order_id: OrderIdPath, request: Request, caller: Caller) -> Response:
    live = live_context(request)  # before the order: nothing in between is missed
    uow = console_uow(request)
    view = order_service.get_order(uow, order_id)
    if limited(caller) and not visible(caller, view.order):
        raise OrderNotFound(order_id=order_id)
    order = view.order
    shown = render_order(order, view.history, mask=not caller.sees_personal_data)
    actions = available_actions(order) if caller.may(Permission.ORDERS_MANAGE) else frozenset()
    sourcing = None
    if caller.may(Permission.SOURCING_READ):
        sourcing = sourcing_service.explain_order(uow, order_id)
    shipments = [
        shipment_reads.get_shipment(uow, s.id)
        for s in shipment_reads.order_shipments(uow, order_id)
        if s.id is not None and shipment_visible(uow, caller, s)
    ]
    documents = document_service.list_documents(uow, order_id=order_id, limit=50).items
    issued = {d.kind for d in documents}
    manage = caller.may(Permission.ORDERS_MANAGE)
    edits = {c for c in Change if manage and allows(order.status, c)}
    shipped = {
        line.line_no: sum(
            r.quantity
            for r in order.reservations
            if r.line_no == line.line_no and r.status.value == "consumed"
        )
        for line in order.lines
    }
    returns = return_requests.returns_of_order(uow, order_id)
    receipts = fiscal_reading.receipts_of_order(uow, order_id)
    asked_back: dict[int, int] = {}
    for ret in returns:
        if ret.status in COUNTED:
            for rl in ret.lines:
                asked_back[rl.order_line_no] = asked_back.get(rl.order_line_no, 0) + rl.quantity
    returnable = {
        n: left for n, done in shipped.items() if (left := done - asked_back.get(n, 0)) > 0
    }
    pending = {s.shipment.warehouse_code for s in shipments if s.shipment.status.value == "pending"}
    release_to = sorted(
        {r.warehouse_code for r in order.open_reservations if r.shipment_id is None} - pending
    )
    return render(
        request,
        "orders/card.html",
        {
            "order": shown,
            "version": order.version,
            "history": list(reversed(view.history)),
            "actions": actions,
            "Action": Action,
            "hold_types": [t.value for t in hold_types_free(order)],
            "payment_targets": [p.value for p in payment_targets(order)],
            "active_holds": order.active_holds,
            "sourcing": sourcing,
            "shipments": shipments,
            "cancellable": {st.value for st in CANCELLABLE},
            "edits": edits,
            "Change": Change,
            "shipped": shipped,
            "release_to": release_to if caller.may(Permission.STOCK_WRITE) else [],
            "may_floor": caller.may(Permission.STOCK_READ),
            "documents": documents,
            "to_issue": [k.value for k in DocumentKind if k not in issued]
            if manage and order.status is not OrderStatus.CANCELLED
            else [],
            "returns": returns,
            "receipts": receipts,
            "may_correct": manage,
            "returnable": returnable if manage else {},
            "return_reasons": [r for r in return_policy(request).reasons if r != "unclaimed"],
            "gateway_payment": payment_reads.payment_or_none(uow, order_id),
            **live,
        },
    )
