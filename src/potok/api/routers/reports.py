"""Reports: order KPIs by period and by channel, warehouse or carrier (as JSON, CSV or
XLSX), cancellation and return reasons, and picking per employee. Limited callers see
the figures of their own channel or warehouses only."""

from __future__ import annotations

import io
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Response

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.schemas.common import Code, Day
from potok.api.schemas.reports import (
    EmployeeOut,
    EmployeeReportOut,
    KpiRowOut,
    OrderReportOut,
    ReasonOut,
    ReasonReportOut,
    StageTimeOut,
    StockFiguresOut,
    StockReportOut,
)
from potok.api.scope import NOTHING, Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.analytics import Dimension, Grain, Period, PeriodTooLong
from potok.domain.analytics.periods import PeriodReversed
from potok.domain.errors import InvalidInput
from potok.domain.kernel import utc_now
from potok.services import reports, stock_reports
from potok.spreadsheets.formats import FileFormat
from potok.spreadsheets.writing import write_table

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Since = Annotated[
    Day | None, Query(description="First day of the period (UTC); 29 days before `until`.")
]
Until = Annotated[
    Day | None, Query(description="Last day of the period (UTC), included; today by default.")
]
Channels = Annotated[
    list[Code], Query(description="Only these channels (repeat for several).", max_length=100)
]
_PERIOD_PROBLEMS = responses(PeriodTooLong, PeriodReversed)


class FileKind(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def _channels(caller: Principal, wanted: list[str]) -> list[str] | None:
    """The channels a report may count: those asked for, within a bound key's own."""
    if caller.channel is None:
        return wanted or None
    return [caller.channel] if not wanted or caller.channel in wanted else []


def _warehouses(caller: Principal) -> list[str] | None:
    return list(caller.warehouse_codes) if caller.warehouses is not None else None


def _period(since: date | None, until: date | None, grain: Grain = Grain.DAY) -> Period:
    last = until or utc_now().date()
    return Period(since or last - timedelta(days=29), last, grain)


def _order_report(
    uow: Uow,
    caller: Caller,
    period: Period,
    by: Dimension,
    channel: list[str],
) -> reports.OrderReport:
    return reports.order_report(
        uow,
        period,
        by,
        channels=_channels(caller, channel),
        warehouses=_warehouses(caller),
    )


@router.get(
    "/orders",
    response_model=OrderReportOut,
    summary="Order KPIs per day, week or month, optionally by channel, warehouse, carrier or "
    "category",
    description="Orders count in the bucket of the day they were accepted. Every bucket of "
    "the period has a row when `by` is `none` (an empty period gives rows of zeros); with "
    "`by`, the values that had orders. Stage times run from the stage before "
    "(accepted -> confirmed -> picked -> packed -> handed_over -> delivered). A period over "
    "ten years or 1,000 buckets is refused with a problem saying why. By `category`, an "
    "order counts under each category of its products and every category above them, its "
    "revenue there being the worth of those lines; stage times are not cut by category.",
    responses=_PERIOD_PROBLEMS,
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)],
)
def order_report(
    uow: Uow,
    caller: Caller,
    since: Since = None,
    until: Until = None,
    grain: Grain = Grain.DAY,
    by: Dimension = Dimension.NONE,
    channel: Channels = [],  # noqa: B006 - FastAPI copies the default
) -> OrderReportOut:
    period = _period(since, until, grain)
    found = _order_report(uow, caller, period, by, channel)
    return OrderReportOut(
        since=period.since,
        until=period.until,
        grain=grain.value,
        by=by.value,
        rows=[
            KpiRowOut(
                **{k: v for k, v in reports.flat(row).items() if not k.endswith("_s")},
                stages=[StageTimeOut.model_validate(s) for s in row.stages],
            )
            for row in found.rows
        ],
    )


@router.get(
    "/orders/file",
    summary="Order KPIs as a CSV or XLSX file, one flat row per bucket",
    description="The same figures as `GET /api/v1/reports/orders`, stage times as median and "
    "90th percentile seconds in columns of their own.",
    response_class=Response,
    responses={
        200: {
            "description": "The report file.",
            "content": {m.media_type: {"schema": {"type": "string"}} for m in FileFormat},
        },
        **_PERIOD_PROBLEMS,
    },
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)],
)
def order_report_file(
    uow: Uow,
    caller: Caller,
    since: Since = None,
    until: Until = None,
    grain: Grain = Grain.DAY,
    by: Dimension = Dimension.NONE,
    channel: Channels = [],  # noqa: B006 - FastAPI copies the default
    format: FileKind = FileKind.csv,
) -> Response:
    period = _period(since, until, grain)
    found = _order_report(uow, caller, period, by, channel)
    fmt = FileFormat(format.value)
    out = io.BytesIO()
    records = [reports.flat(row) for row in found.rows]
    write_table(
        out,
        fmt,
        reports.KPI_FIELDS,
        ([r[k] for k in reports.KPI_FIELDS] for r in records),  # type: ignore[misc]
        title="Orders",
    )
    name = f"orders-{period.since}-{period.until}.{fmt.value}"
    return Response(
        out.getvalue(),
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/reasons",
    response_model=ReasonReportOut,
    summary="Why the period's orders were cancelled or returned, most frequent first",
    responses=_PERIOD_PROBLEMS,
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)],
)
def reason_report(
    uow: Uow,
    caller: Caller,
    since: Since = None,
    until: Until = None,
    channel: Channels = [],  # noqa: B006 - FastAPI copies the default
) -> ReasonReportOut:
    period = _period(since, until)
    found = reports.reasons_report(uow, period, channels=_channels(caller, channel))
    return ReasonReportOut(
        since=period.since, until=period.until, items=[ReasonOut.model_validate(r) for r in found]
    )


@router.get(
    "/employees",
    response_model=EmployeeReportOut,
    summary="Units picked per person and warehouse, and units per working hour",
    description="Working time adds up the gaps between a person's consecutive pick scans, "
    "each up to 15 minutes (a longer gap is a break). Warehouse users see their warehouses; "
    "a key bound to a channel sees no one (warehouse work spans channels).",
    responses=_PERIOD_PROBLEMS,
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def employee_report(
    uow: Uow,
    caller: Caller,
    since: Since = None,
    until: Until = None,
    warehouse: Annotated[
        list[Code], Query(description="Only these warehouses (repeat).", max_length=100)
    ] = [],  # noqa: B006 - FastAPI copies the default
) -> EmployeeReportOut:
    period = _period(since, until)
    if caller.channel is not None:
        return EmployeeReportOut(since=period.since, until=period.until, items=[])
    own = _warehouses(caller)
    chosen = [w for w in warehouse if own is None or w in own] if warehouse else own
    found = reports.employee_report(uow, period, warehouses=chosen)
    return EmployeeReportOut(
        since=period.since,
        until=period.until,
        items=[
            EmployeeOut(
                actor=f.actor,
                warehouse=f.warehouse,
                scans=f.scans,
                units=f.units,
                active_s=f.active_s,
                units_per_hour=f.units_per_hour,
            )
            for f in found
        ],
    )


@router.get(
    "/stock",
    response_model=StockReportOut,
    summary="Stock KPIs per SKU and warehouse: turnover, days of cover, dead stock, value",
    description="Over the `days` up to `until`: units sold (ordered, orders not cancelled), "
    "the average on hand from the stock ledger, turnover (sold over average on hand), days "
    "of cover (available at the period's daily demand), dead stock (on hand, never asked "
    "for), and the value on hand and in lots expiring within `expiring_within_days`, at the "
    "products' prices. In (warehouse, SKU) order, a page at a time. Warehouse users see "
    "their warehouses; a key bound to a channel sees none (stock spans channels).",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def stock_report(
    uow: Uow,
    caller: Caller,
    until: Until = None,
    days: Annotated[int, Query(ge=1, le=3650, description="Days of sales to judge by.")] = 90,
    expiring_within_days: Annotated[int, Query(ge=0, le=3650)] = 30,
    warehouse: Annotated[
        list[Code], Query(description="Only these warehouses (repeat).", max_length=100)
    ] = [],  # noqa: B006 - FastAPI copies the default
    dead: Annotated[bool, Query(description="Only dead stock.")] = False,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> StockReportOut:
    last = until or utc_now().date()
    own = _warehouses(caller)
    chosen = [w for w in warehouse if own is None or w in own] if warehouse else own
    if caller.channel is not None or chosen == []:
        chosen = [NOTHING]
    page = stock_reports.stock_report(
        uow,
        last,
        days=days,
        expiring_within=expiring_within_days,
        warehouses=chosen,
        dead_only=dead,
        cursor=cursor,
        limit=limit,
    )
    return StockReportOut(
        until=last,
        days=days,
        expiring_within_days=expiring_within_days,
        items=[
            StockFiguresOut(
                warehouse=f.warehouse,
                sku=f.sku,
                on_hand=f.on_hand,
                available=f.available,
                sold=f.sold,
                average_on_hand=f.average_on_hand,
                turnover=f.turnover,
                days_of_cover=f.days_of_cover,
                dead=f.dead,
                value=f.value,
                expiring_units=f.expiring_units,
                expiring_value=f.expiring_value,
            )
            for f in page.items
        ],
        next_cursor=page.next_cursor,
    )
