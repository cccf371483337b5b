"""Reorder suggestions for buyers: every position of the newest stored forecast run below
its reorder point, what to order and why, beside its min/max rule; read from the run the
worker (or ``potok forecast run``) stored, against the stock now."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from potok.api.i18n import translate_problem
from potok.api.schemas.forecasts import ServiceLevel
from potok.api.scope import NOTHING, Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.analytics import ForecastTooShort, NoForecastRun
from potok.domain.network import WarehouseType
from potok.services import stored_forecasts
from potok.services.catalogue import list_warehouses
from potok.services.stored_forecasts import ReorderPage
from potok.web.i18n import console_language
from potok.web.pages import PageRoute, console_uow, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/stock/reorder", dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)])
def reorder_page(
    request: Request,
    caller: Caller,
    lead_days: Annotated[int, Query(ge=1, le=180)] = 7,
    review_days: Annotated[int, Query(ge=1, le=180)] = 7,
    service_level: ServiceLevel = ServiceLevel.p95,
    warehouse: Annotated[str, Query(max_length=64)] = "",
    all: Annotated[bool, Query()] = False,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    own = sorted(caller.warehouse_codes) if caller.warehouses is not None else None
    chosen = own
    if warehouse:
        chosen = [warehouse] if own is None or warehouse in own else [NOTHING]
    if caller.channel is not None:
        chosen = [NOTHING]
    context: dict[str, object] = {
        "chosen": {
            "lead_days": lead_days,
            "review_days": review_days,
            "service_level": service_level,
            "warehouse": warehouse,
            "all": all,
        },
        "levels": list(ServiceLevel),
        "page": None,
        "missing": None,
        "decimal": lambda v: Decimal(str(v)),
    }
    try:
        context["page"] = stored_forecasts.reorder_page(
            console_uow(request),
            lead_days=lead_days,
            review_days=review_days,
            service_level=float(service_level.value),
            warehouses=chosen,
            to_order_only=not all,
            cursor=cursor,
            limit=200,
        )
    except (NoForecastRun, ForecastTooShort) as refused:
        context["missing"] = translate_problem(refused, console_language(request))
    page = context["page"]
    shown = {s.warehouse for s in page.items} if isinstance(page, ReorderPage) else set()
    may_write = caller.may(Permission.STOCK_WRITE)
    # one step for one warehouse: the one chosen, or the only one there is to order for
    ordering = warehouse if warehouse and chosen != [NOTHING] else None
    if ordering is None and len(shown) == 1:
        ordering = next(iter(shown))
    context["may_write"] = may_write
    context["ordering"] = ordering if may_write and shown else None
    context["sources"] = [
        w.code
        for w in list_warehouses(console_uow(request))
        if w.code != ordering
        and w.type is not WarehouseType.PICKUP_POINT
        and (own is None or w.code in own)
    ]
    return render(request, "stock/reorder.html", context)
