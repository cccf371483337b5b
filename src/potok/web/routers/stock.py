"""Stock: the SKU x warehouse matrix with its buckets, lots and expiry, low-stock flags, and
the corrections (receipts, write-offs, counts, moves between buckets) sent to the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from potok.api.scope import NOTHING, Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.services import expiry, inventory, replenishment
from potok.services.read_models import LevelRow
from potok.web.pages import PageRoute, console_uow, render
from potok.web.routers.live import live_context

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass
class Cell:
    """One SKU at one warehouse, summed over its lots and bins."""

    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    incoming: int = 0
    unavailable: int = 0
    lots: list[LevelRow] = field(default_factory=list)
    minimum: int | None = None
    low: bool = False

    def add(self, row: LevelRow) -> None:
        self.on_hand += row.on_hand
        self.reserved += row.reserved
        self.available += row.available
        self.incoming = max(self.incoming, row.incoming)  # the same figure on every lot row
        self.unavailable += row.unavailable
        if row.lot is not None or row.location is not None:
            self.lots.append(row)


@router.get("/stock", dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)])
def stock_matrix(
    request: Request,
    caller: Caller,
    warehouse: Annotated[str, Query(max_length=64)] = "",
    sku: Annotated[str, Query(max_length=64)] = "",
    below: Annotated[bool, Query()] = False,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    live = live_context(request)  # before the levels: nothing in between is missed
    uow = console_uow(request)
    allowed = set(caller.warehouse_codes) if caller.warehouses is not None else None
    page = inventory.list_levels(
        uow,
        warehouse=warehouse or None,
        sku=sku or None,
        cursor=cursor,
        limit=500,
        within=sorted(allowed) if allowed is not None else None,
    )
    rows = [r for r in page.items if allowed is None or r.warehouse in allowed]
    cells: dict[tuple[str, str], Cell] = {}
    for row in rows:
        cells.setdefault((row.sku, row.warehouse), Cell()).add(row)
    scope = sorted(allowed) if allowed is not None else None
    if warehouse:
        scope = [warehouse] if allowed is None or warehouse in allowed else [NOTHING]
    rules = replenishment.list_rules(uow, warehouses=scope, sku=sku or None, limit=1000)
    low: set[tuple[str, str]] = set()
    for state in rules.items:
        cell = cells.setdefault((state.sku, state.warehouse), Cell())
        cell.minimum = state.min_level
        cell.low = replenishment.projected(state) < state.min_level
        if cell.low:
            low.add((state.sku, state.warehouse))
    if below:
        cells = {key: cell for key, cell in cells.items() if key in low}
    skus = sorted({s for s, _ in cells})
    warehouses = sorted({w for _, w in cells})
    expiring = [
        lot
        for lot in expiry.expiring_lots(uow, within_days=30, warehouse=warehouse or None)
        if allowed is None or lot.warehouse in allowed
    ]
    return render(
        request,
        "stock/matrix.html",
        {
            "cells": cells,
            "skus": skus,
            "warehouses": warehouses,
            "expiring": expiring,
            "chosen": {"warehouse": warehouse, "sku": sku, "below": below},
            "next_cursor": page.next_cursor,
            "may_write": caller.may(Permission.STOCK_WRITE),
            **live,
        },
    )
