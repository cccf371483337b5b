"""Stock on its way: transfers between warehouses and purchase orders from suppliers - lists,
one of each with its lines, and the forms that ask for, ship, receive or cancel them (sent to
the JSON API). Warehouse staff see those from or to their warehouses only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from potok.api.routers.transfers import _narrowed, _sees, _visible_order, _visible_transfer
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.inventory.purchasing import PurchaseOrderNotFound, PurchaseOrderStatus
from potok.domain.inventory.transfers import TransferNotFound, TransferStatus
from potok.domain.kernel import Tracking
from potok.domain.network import WarehouseType
from potok.services import purchasing
from potok.services import transfers as transfer_service
from potok.services.catalogue import get_product, list_warehouses
from potok.web.pages import PageRoute, console_uow, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

NumberPath = Annotated[str, Path(min_length=1, max_length=64)]
NEW_LINES = 5  # empty rows a new transfer or purchase order offers


def _warehouses(request: Request, caller: Principal) -> list[str]:
    """Warehouses and stores the person may name in a form."""
    if caller.warehouses is not None:
        return sorted(caller.warehouse_codes)
    return sorted(
        w.code
        for w in list_warehouses(console_uow(request))
        if w.type is not WarehouseType.PICKUP_POINT
    )


def _everywhere(request: Request, caller: Principal) -> list[str]:
    """Every warehouse a transfer may come from or go to; a person limited to some
    warehouses is offered only theirs (the API takes another's as the other end)."""
    if caller.warehouses is not None or not caller.may(Permission.CATALOGUE_READ):
        return _warehouses(request, caller)
    return sorted(
        w.code
        for w in list_warehouses(console_uow(request))
        if w.type is not WarehouseType.PICKUP_POINT
    )


@router.get(
    "/stock/transfers",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def transfer_list(
    request: Request,
    caller: Caller,
    status: Annotated[str, Query(max_length=32)] = "",
    warehouse: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    uow = console_uow(request)
    page = transfer_service.list_transfers(
        uow,
        status=status or None,
        warehouses=_narrowed(caller, warehouse or None),
        cursor=cursor,
        limit=50,
    )
    return render(
        request,
        "stock/transfers.html",
        {
            "transfers": page.items,
            "next_cursor": page.next_cursor,
            "statuses": [s.value for s in TransferStatus],
            "chosen": {"status": status, "warehouse": warehouse},
            "warehouses": _everywhere(request, caller),
            "new_lines": range(NEW_LINES),
            "may_write": caller.may(Permission.STOCK_WRITE),
        },
    )


@router.get(
    "/stock/transfers/{number}",
    dependencies=[
        needs(Permission.STOCK_READ),
        reach(Reach.RECORD, "number", finder=_visible_transfer),
    ],
)
def transfer_card(number: NumberPath, request: Request, caller: Caller) -> Response:
    transfer = transfer_service.get_transfer(console_uow(request), number)
    if not _sees(caller, transfer.from_warehouse, transfer.to_warehouse):
        raise TransferNotFound(number=number)
    return render(
        request,
        "stock/transfer.html",
        {"transfer": transfer, "may_write": caller.may(Permission.STOCK_WRITE)},
    )


@router.get(
    "/stock/purchase-orders",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def purchase_order_list(
    request: Request,
    caller: Caller,
    status: Annotated[str, Query(max_length=32)] = "",
    warehouse: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    uow = console_uow(request)
    page = purchasing.list_purchase_orders(
        uow,
        status=status or None,
        warehouses=_narrowed(caller, warehouse or None),
        cursor=cursor,
        limit=50,
    )
    return render(
        request,
        "stock/purchase_orders.html",
        {
            "orders": page.items,
            "next_cursor": page.next_cursor,
            "statuses": [s.value for s in PurchaseOrderStatus],
            "chosen": {"status": status, "warehouse": warehouse},
            "warehouses": _warehouses(request, caller),
            "new_lines": range(NEW_LINES),
            "may_write": caller.may(Permission.STOCK_WRITE),
        },
    )


@router.get(
    "/stock/purchase-orders/{number}",
    dependencies=[
        needs(Permission.STOCK_READ),
        reach(Reach.RECORD, "number", finder=_visible_order),
    ],
)
def purchase_order_card(number: NumberPath, request: Request, caller: Caller) -> Response:
    uow = console_uow(request)
    order = purchasing.get_purchase_order(uow, number)
    if not _sees(caller, order.warehouse):
        raise PurchaseOrderNotFound(number=number)
    open_order = order.status in (PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED)
    # what a delivery of each line must say: the lot (with its dates) or every serial number
    tracking = {line.sku: get_product(uow, line.sku).tracking.value for line in order.lines}
    return render(
        request,
        "stock/purchase_order.html",
        {
            "po": order,
            "open_order": open_order,
            "tracking": tracking,
            "Tracking": Tracking,
            "may_write": caller.may(Permission.STOCK_WRITE),
        },
    )
