"""Demand forecasts as stored by ``potok forecast run`` or the worker's schedule: the newest
run with one SKU's days, and the reorder suggestions built on it and the stock now. A key
bound to a channel sees no forecasts (stock spans channels); warehouse users see theirs."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.schemas.common import Code
from potok.api.schemas.forecasts import (
    ForecastDayOut,
    ForecastRunOut,
    ForecastSeriesOut,
    ReorderPageOut,
    ReorderSuggestionOut,
    StoredForecastOut,
)
from potok.api.scope import NOTHING, Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.analytics import ForecastTooShort, NoForecastRun
from potok.domain.errors import InvalidInput
from potok.services import stored_forecasts
from potok.services.forecasting import StoredForecast

router = APIRouter(prefix="/api/v1/forecasts", tags=["reports"])

Z_80 = 1.2816  # the 80 % interval: forecast +- 1.28 sigma


class ServiceLevel(StrEnum):
    p80 = "0.8"
    p90 = "0.9"
    p95 = "0.95"
    p98 = "0.98"
    p99 = "0.99"


def _warehouses(caller: Principal, wanted: list[str]) -> list[str] | None:
    """The warehouses asked for within the caller's own; a channel's key sees none."""
    if caller.channel is not None:
        return [NOTHING]
    if caller.warehouses is None:
        return wanted or None
    allowed = set(caller.warehouse_codes)
    chosen = [w for w in wanted if w in allowed] if wanted else sorted(allowed)
    return chosen or [NOTHING]


def _run_out(stored: StoredForecast) -> ForecastRunOut:
    run = stored.run
    return ForecastRunOut(
        id=stored.id,
        ran_at=stored.ran_at,
        until=stored.until,
        days=run.days,
        horizon=run.horizon,
        by_channel=stored.by_channel,
        series=stored.series,
        mase=run.total.mase if run.total else None,
        mase_seasonal_naive=run.total_baseline.mase if run.total_baseline else None,
        wape=run.total.wape if run.total else None,
        bias=run.total.bias if run.total else None,
        notes=run.notes,
    )


Warehouses = Annotated[
    list[Code], Query(description="Only these warehouses (repeat).", max_length=100)
]


@router.get(
    "/latest",
    response_model=StoredForecastOut,
    summary="The newest stored forecast run, with one SKU's daily forecast and interval",
    description="Reads the run `potok forecast run` or the worker's schedule stored; nothing "
    "is forecast again. With `sku`, that SKU's series (per warehouse, and per channel when "
    "the run was), each day's forecast with its 80 % interval. 404 `no-forecast-run` until "
    "a run is stored.",
    responses=responses(NoForecastRun),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def latest_forecast(
    uow: Uow,
    caller: Caller,
    sku: Code | None = None,
    warehouse: Warehouses = [],  # noqa: B006 - FastAPI copies the default
) -> StoredForecastOut:
    wanted = _warehouses(caller, warehouse) if sku else [NOTHING]
    stored = stored_forecasts.latest_forecast(uow, sku=sku or NOTHING, warehouses=wanted)
    first = stored.until + timedelta(days=1)
    series = [
        ForecastSeriesOut(
            sku=s.sku,
            warehouse=s.warehouse,
            channel=s.channel,
            method=s.method,
            sigma=s.sigma,
            mase=s.accuracy.mase if s.accuracy else None,
            mase_seasonal_naive=s.baseline.mase if s.baseline else None,
            note=s.note,
            days=[
                ForecastDayOut(
                    day=first + timedelta(days=j),
                    units=v,
                    low=round(max(0.0, v - Z_80 * s.sigma), 3),
                    high=round(v + Z_80 * s.sigma, 3),
                )
                for j, v in enumerate(s.forecast)
            ],
        )
        for s in stored.run.series
    ]
    return StoredForecastOut(run=_run_out(stored), series=series)


@router.get(
    "/latest/reorder-suggestions",
    response_model=ReorderPageOut,
    summary="Reorder points and quantities from the newest stored forecast and the stock now",
    description="Per SKU and warehouse of the stored run (its channels' forecasts added when "
    "it ran per channel): `reorder_point = ceil(forecast over lead_days + z x sigma x "
    "sqrt(lead_days))` for the service level; below it (`position` = available + incoming), "
    "`suggested_quantity` brings the position up to the reorder point plus the forecast over "
    "`review_days`. The min/max rule stands beside it. By default only the positions to "
    "order; `all=true` for every one.",
    responses=responses(NoForecastRun, ForecastTooShort, InvalidInput),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def reorder_suggestions(
    uow: Uow,
    caller: Caller,
    lead_days: Annotated[int, Query(ge=1, le=180)] = 7,
    review_days: Annotated[int, Query(ge=1, le=180)] = 7,
    service_level: ServiceLevel = ServiceLevel.p95,
    warehouse: Warehouses = [],  # noqa: B006 - FastAPI copies the default
    sku: Code | None = None,
    all: bool = False,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ReorderPageOut:
    page = stored_forecasts.reorder_page(
        uow,
        lead_days=lead_days,
        review_days=review_days,
        service_level=float(service_level.value),
        warehouses=_warehouses(caller, warehouse),
        sku=sku,
        to_order_only=not all,
        cursor=cursor,
        limit=limit,
    )
    return ReorderPageOut(
        run=_run_out(page.run),
        items=[
            ReorderSuggestionOut(
                warehouse=s.warehouse,
                sku=s.sku,
                method=s.method,
                lead_days=s.lead_days,
                lead_demand=s.lead_demand,
                safety_stock=s.safety_stock,
                reorder_point=s.reorder_point,
                order_up_to=s.order_up_to,
                position=s.position,
                suggested_quantity=s.suggested_quantity,
                min=s.min_level,
                max=s.max_level,
                why=s.why,
            )
            for s in page.items
        ],
        next_cursor=page.next_cursor,
    )
