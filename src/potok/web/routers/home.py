"""The dashboard, and switching the language."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from potok.api.scope import Reach, narrow, reach
from potok.api.security import Caller, needs, public
from potok.domain.access import Permission
from potok.domain.analytics import Dimension, Grain, Period
from potok.domain.kernel import utc_now
from potok.services import dashboard as dashboard_service
from potok.services import reports
from potok.services.read_models import OrderFilter
from potok.services.unit_of_work import UnitOfWork
from potok.web.i18n import LANGUAGE_COOKIE, Formats, console_language, console_zone, translations
from potok.web.pages import PageRoute, console_uow, render
from potok.web.routers.live import live_context
from potok.web.routers.reports import period_charts

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
            "year": _year(request, uow, caller),
            **live,
        },
    )


def _year(request: Request, uow: UnitOfWork, caller: Caller) -> dict[str, object]:
    """The last 12 months by week, as the reports page draws them: the totals, orders and
    revenue (read from the daily aggregates: a few hundred rows however many orders)."""
    today = utc_now().date()
    found = reports.order_report(
        uow,
        Period(today - timedelta(days=364), today, Grain.WEEK),
        Dimension.NONE,
        channels=[caller.channel] if caller.channel is not None else None,
        warehouses=list(caller.warehouse_codes) if caller.warehouses is not None else None,
    )
    language = console_language(request)
    fmt = Formats(language, console_zone(request))
    _ = translations(language).gettext
    return {
        "period": found.period,
        "total": found.totals[0],
        "charts": period_charts(found, fmt, _, prefix="year-"),
    }


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
