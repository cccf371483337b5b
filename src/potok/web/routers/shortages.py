"""Shortages: the orders waiting for stock as a list of their own - what each lacks and how
many, where it holds its other units, since when it waits, and the transfers and purchase
orders expected to bring what it lacks; filtered by SKU, channel and warehouse, live."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from potok.api.scope import Reach, narrow, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.services import shortages
from potok.services.catalogue import list_channels
from potok.services.read_models import OrderFilter
from potok.web.pages import PageRoute, console_uow, render
from potok.web.routers.live import live_context
from potok.web.routers.movements import _warehouses

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/shortages", dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)])
def shortage_list(
    request: Request,
    caller: Caller,
    sku: Annotated[str, Query(max_length=64)] = "",
    channel: Annotated[str, Query(max_length=64)] = "",
    warehouse: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    live = live_context(request)  # before the list: nothing in between is missed
    uow = console_uow(request)
    chosen = {"sku": sku.strip(), "channel": channel.strip(), "warehouse": warehouse.strip()}
    flt = narrow(caller, OrderFilter(channels=[chosen["channel"]] if chosen["channel"] else []))
    page = shortages.list_shortages(
        uow,
        flt,
        sku=chosen["sku"] or None,
        warehouse=chosen["warehouse"] or None,
        cursor=cursor,
        limit=50,
    )
    channels = (
        [c.code for c in list_channels(uow) if caller.channel in (None, c.code)]
        if caller.may(Permission.CATALOGUE_READ)
        else []
    )
    return render(
        request,
        "shortages/list.html",
        {
            "orders": page.items,
            "next_cursor": page.next_cursor,
            "channels": channels,
            "warehouses": _warehouses(request, caller),
            "chosen": chosen,
            "query_without_cursor": urlencode([(k, v) for k, v in chosen.items() if v]),
            **live,
        },
    )
