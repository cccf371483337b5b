"""The reports page: the period's KPIs, orders and revenue per day, week or month as charts,
the stage-time funnel, the figures as a table and as files. Printable as it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from potok.api.scope import NOTHING, Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.analytics import STAGES, Dimension, Grain, NoForecastRun, Period
from potok.domain.kernel import utc_now
from potok.services import forecasting, reports, stock_reports, stored_forecasts
from potok.services.unit_of_work import UnitOfWork
from potok.web import charts
from potok.web.i18n import Formats, console_language, console_zone, translations
from potok.web.labels import N_
from potok.web.pages import PageRoute, console_uow, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STAGE_LABELS = {
    "confirmed": N_("Confirmed"),
    "picked": N_("Picked"),
    "packed": N_("Packed"),
    "handed_over": N_("Handed over"),
    "delivered": N_("Delivered"),
}

GRAIN_LABELS = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month")}
DIMENSION_LABELS = {
    "none": N_("Nothing"),
    "channel": N_("Channel"),
    "warehouse": N_("Warehouse"),
    "carrier": N_("Carrier"),
    "category": N_("Category"),
}


def _hours(fmt: Formats, hours: float) -> str:
    return fmt.number(Decimal(str(round(hours, 1))))


def period_charts(
    found: reports.OrderReport, fmt: Formats, _: Callable[[str], str], *, prefix: str
) -> dict[str, Markup]:
    """The orders of each bucket of the report's period as a line, its revenue as bars
    (every bucket, those without orders at nought); ``prefix`` keeps two pages' ids apart."""
    period = found.period
    series = [r for r in found.rows if r.key == ""] if found.dimension is Dimension.NONE else []
    total = found.totals[0]

    def label(day: date) -> str:
        if period.grain is Grain.MONTH:
            return fmt.day(day, "LLL yyyy")
        return fmt.day(day, "d MMM")

    return {
        "orders": charts.line_chart(
            [charts.Point(label(r.period), r.orders, fmt.number(r.orders)) for r in series],
            title=_("Orders"),
            description=_("Orders accepted per period, %(n)s in all")
            % {"n": fmt.number(total.orders)},
            css=f"{prefix}orders-chart",
        ),
        "revenue": charts.bar_chart(
            [
                charts.Point(label(r.period), float(r.revenue), fmt.money(r.revenue, r.currency))
                for r in series
            ],
            title=_("Revenue"),
            description=_("Revenue per period, %(sum)s in all")
            % {"sum": fmt.money(total.revenue, total.currency)},
            css=f"{prefix}revenue-chart",
        ),
    }


@router.get("/reports", dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)])
def reports_page(
    request: Request,
    caller: Caller,
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
    grain: Grain = Grain.DAY,
    by: Dimension = Dimension.NONE,
) -> Response:
    last = until or utc_now().date()
    period = Period(since or last - timedelta(days=29), last, grain)
    found = reports.order_report(
        console_uow(request),
        period,
        by,
        channels=[caller.channel] if caller.channel is not None else None,
        warehouses=list(caller.warehouse_codes) if caller.warehouses is not None else None,
    )
    language = console_language(request)
    fmt = Formats(language, console_zone(request))
    _ = translations(language).gettext
    total = found.totals[0]
    drawn = period_charts(found, fmt, _, prefix="")
    stages = []
    for stage in total.stages:
        median = None if stage.median_s is None else stage.median_s / 3600
        p90 = None if stage.p90_s is None else stage.p90_s / 3600
        text = (
            _("median %(m)s h, nine in ten within %(p)s h")
            % {"m": _hours(fmt, median), "p": _hours(fmt, p90 or 0.0)}
            if median is not None
            else _("no orders passed it")
        )
        stages.append(charts.Stage(_(STAGE_LABELS[stage.stage]), median, p90, text))
    funnel = charts.funnel(
        stages,
        title=_("Stage times"),
        description=_("Median hours each stage took, from the stage before"),
        css="funnel-chart",
    )
    return render(
        request,
        "reports/index.html",
        {
            "period": period,
            "year_since": utc_now().date() - timedelta(days=364),
            "by": by,
            "grains": list(Grain),
            "dimensions": list(Dimension),
            "report": found,
            "total": total,
            "orders_chart": drawn["orders"],
            "revenue_chart": drawn["revenue"],
            "funnel": funnel,
            "stages": STAGES,
            "stage_labels": STAGE_LABELS,
            "grain_labels": GRAIN_LABELS,
            "dimension_labels": DIMENSION_LABELS,
        },
    )


def _stored_or_fresh(
    uow: UnitOfWork, demand: forecasting.Demand, sku: str, warehouses: list[str] | None
) -> tuple[forecasting.ForecastRun, date, forecasting.StoredForecast | None]:
    """The SKU's series of the newest stored run (channels added up), and the first day it
    forecasts; without a stored run holding the SKU, a forecast made now from ``demand``."""
    try:
        stored = stored_forecasts.latest_forecast(uow, sku=sku, warehouses=warehouses)
    except NoForecastRun:
        stored = None
    if stored is not None and stored.run.series:
        return stored_forecasts.per_position(stored.run), stored.until + timedelta(days=1), stored
    return forecasting.forecast_demand(demand), demand.day(demand.days), None


@router.get("/reports/forecast", dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)])
def forecast_page(
    request: Request,
    caller: Caller,
    sku: Annotated[str, Query(max_length=64)] = "",
    warehouse: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """One SKU's daily demand of the last eight weeks, its forecast and 80 % interval."""
    language = console_language(request)
    fmt = Formats(language, console_zone(request))
    _ = translations(language).gettext
    own = list(caller.warehouse_codes) if caller.warehouses is not None else None
    wanted = [warehouse] if warehouse else own
    if own is not None and warehouse and warehouse not in own:
        wanted = []
    series = []
    notes: list[str] = []
    if sku and caller.channel is None:
        uow = console_uow(request)
        demand = forecasting.load_demand(uow, utc_now().date(), skus=[sku], warehouses=wanted)
        run, first, stored = _stored_or_fresh(uow, demand, sku, wanted)
        notes = run.notes
        if stored is not None:
            notes = [
                _("The forecast of run %(id)s, stored %(at)s from the history up to %(until)s.")
                % {
                    "id": stored.id,
                    "at": fmt.moment(stored.ran_at),
                    "until": fmt.day(stored.until),
                },
                *notes,
            ]
        shown = 56
        rows = {key: i for i, key in enumerate(demand.keys)}
        for i, s in enumerate(run.series):
            row = rows.get((s.sku, s.warehouse))
            history = [
                charts.Point(
                    fmt.day(demand.day(t), "d MMM"),
                    float(demand.units[row, t]),
                    fmt.number(int(demand.units[row, t])),
                )
                for t in range(max(0, demand.days - shown), demand.days)
                if row is not None
            ]
            ahead = [
                charts.Point(
                    fmt.day(first + timedelta(days=j), "d MMM"),
                    v,
                    fmt.number(Decimal(str(round(v, 1)))),
                )
                for j, v in enumerate(s.forecast)
            ]
            spread = 1.2816 * s.sigma
            chart = charts.forecast_chart(
                history,
                ahead,
                [max(0.0, v - spread) for v in s.forecast],
                [v + spread for v in s.forecast],
                title=_("Demand for %(sku)s at %(warehouse)s")
                % {"sku": s.sku, "warehouse": s.warehouse},
                description=_(
                    "Units ordered per day for eight weeks, then the forecast (%(method)s) "
                    "with its 80%% interval"
                )
                % {"method": s.method},
                css=f"forecast-chart-{i}",
            )
            series.append({"forecast": s, "chart": chart})
    return render(
        request,
        "reports/forecast.html",
        {"sku": sku, "warehouse": warehouse, "series": series, "notes": notes},
    )


STOCK_DAYS = (30, 90, 180, 365)


@router.get("/reports/stock", dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)])
def stock_page(
    request: Request,
    caller: Caller,
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
    warehouse: Annotated[str, Query(max_length=64)] = "",
    dead: Annotated[bool, Query()] = False,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Stock KPIs per SKU and warehouse: what turned, what lies dead, what is about to expire."""
    own = list(caller.warehouse_codes) if caller.warehouses is not None else None
    chosen = own
    if warehouse:
        chosen = [warehouse] if own is None or warehouse in own else [NOTHING]
    if caller.channel is not None:
        chosen = [NOTHING]
    page = stock_reports.stock_report(
        console_uow(request),
        utc_now().date(),
        days=days,
        warehouses=chosen,
        dead_only=dead,
        cursor=cursor,
        limit=200,
    )
    return render(
        request,
        "reports/stock.html",
        {
            "items": page.items,
            "next_cursor": page.next_cursor,
            "chosen": {"days": days, "warehouse": warehouse, "dead": dead},
            "day_choices": sorted({*STOCK_DAYS, days}),
            "page": page,
            "decimal": lambda v: Decimal(str(v)),
        },
    )
