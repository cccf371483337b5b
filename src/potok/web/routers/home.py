"""The dashboard, and switching the language."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from potok.api.scope import Reach, narrow, reach
from potok.api.security import Caller, needs, public
from potok.domain.access import Permission
from potok.services import dashboard as dashboard_service
from potok.services.read_models import OrderFilter
from potok.web.i18n import LANGUAGE_COOKIE, console_zone
from potok.web.pages import PageRoute, console_uow, render
from potok.web.routers.live import live_context

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/", dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)])
def dashboard(request: Request, caller: Caller) -> Response:
    live = live_context(request)  # before the figures: nothing in between is missed
    zone = console_zone(request)
    midnight = datetime.combine(datetime.now(zone).date(), time(), zone).astimezone(UTC)
    warehouses = list(caller.warehouse_codes) if caller.warehouses is not None else None
    uow = console_uow(request)
    figures = dashboard_service.dashboard(
        uow,
        narrow(caller, OrderFilter()),
        since=midnight,
        warehouses=warehouses,
        channel=caller.channel,
    )
    statuses: dict[str, int] = {}
    channels: dict[str, dict[str, int]] = {}
    for row in figures.today:
        statuses[row.status] = statuses.get(row.status, 0) + row.count
        channels.setdefault(row.channel, {})
        channels[row.channel][row.status] = row.count
    return render(
        request,
        "dashboard.html",
        {
            "figures": figures,
            "alerts": figures.alerts,  # narrowed to the caller in the query
            "statuses": statuses,
            "channels": channels,
            "total_today": sum(statuses.values()),
            "may_see_stock": caller.may(Permission.STOCK_READ),
            **live,
        },
    )


@router.get("/language/{language}", dependencies=[public(), reach(Reach.NETWORK)])
def choose_language(
    language: Annotated[Literal["ru", "en"], Path()],
    next: Annotated[str, Query(max_length=2000)] = "/",
) -> Response:
    """Remember the language for a year and go back to the page it was chosen on."""
    safe = next.startswith("/") and not next.startswith("//") and "\\" not in next
    target = next if safe else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="lax", path="/"
    )
    return response
