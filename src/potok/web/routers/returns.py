"""Returns (RMA): the list with filters by state, warehouse and reason, and a return's card
with its lines, units, refund and steps, and the forms that decide, receive, inspect, refund
and close it (sent to the JSON API under the same permissions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from potok.api.routers.returns import _visible_return, policy
from potok.api.schemas.returns import render_return
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.returns import RefundStatus, Return, ReturnStatus
from potok.services.returns import requests
from potok.web.pages import PageRoute, console_uow, render
from potok.web.routers.movements import _warehouses

router = APIRouter(route_class=PageRoute, include_in_schema=False)

NumberPath = Annotated[str, Path(min_length=1, max_length=32)]
OUTCOMES = ("restock", "unavailable", "write_off")


def _same_again(ret: Return) -> list[tuple[str, int]]:
    """What a replacement sends unless the operator changes it: each SKU asked back, with
    as many units."""
    same: dict[str, int] = {}
    for line in ret.lines:
        same[line.sku] = same.get(line.sku, 0) + line.quantity
    return list(same.items())


@router.get("/returns", dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)])
def return_list(
    request: Request,
    caller: Caller,
    status: Annotated[str, Query(max_length=32)] = "",
    warehouse: Annotated[str, Query(max_length=64)] = "",
    reason: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    page = requests.list_returns(
        console_uow(request),
        status=status or None,
        channels=[caller.channel] if caller.channel is not None else None,
        warehouses=caller.warehouses,
        received_at=warehouse.strip() or None,
        reason=reason or None,
        cursor=cursor,
        limit=50,
    )
    return render(
        request,
        "returns/list.html",
        {
            "returns": [render_return(r) for r in page.items],
            "next_cursor": page.next_cursor,
            "statuses": [s.value for s in ReturnStatus],
            "reasons": list(policy(request).reasons),
            "chosen": {"status": status, "warehouse": warehouse, "reason": reason},
        },
    )


@router.get(
    "/returns/{number}",
    dependencies=[
        needs(Permission.ORDERS_READ),
        reach(Reach.RECORD, "number", finder=_visible_return),
    ],
)
def return_card(number: NumberPath, request: Request, caller: Caller) -> Response:
    ret = _visible_return(console_uow(request), caller, number)
    manage = caller.may(Permission.ORDERS_MANAGE)
    stock = caller.may(Permission.STOCK_WRITE)
    refund_open = ret.refund_status in (RefundStatus.PENDING, RefundStatus.FAILED)
    return render(
        request,
        "returns/card.html",
        {
            "ret": render_return(ret),
            "may_decide": manage and ret.status is ReturnStatus.REQUESTED,
            "may_receive": stock and ret.status is ReturnStatus.APPROVED,
            "may_inspect": stock and ret.status is ReturnStatus.RECEIVED,
            "may_close": manage and ret.status is ReturnStatus.INSPECTED,
            "may_refund": manage and refund_open,
            "may_exchange": manage and ret.exchangeable,
            "exchange_lines": _same_again(ret),
            "warehouses": _warehouses(request, caller) if stock else [],
            "outcomes": OUTCOMES,
        },
    )
