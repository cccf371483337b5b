"""Demand forecasts as stored by ``potok forecast run`` or the worker's schedule: the newest
run with one SKU's days, and the reorder suggestions built on it and the stock now. A key
bound to a channel sees no forecasts (stock spans channels); warehouse users see theirs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.common import Code
from potok.api.schemas.forecasts import (
    ForecastDayOut,
    ForecastRunOut,
    ForecastSeriesOut,
    ReorderPageOut,
    ReorderPurchaseIn,
    ReorderSuggestionOut,
    ReorderTransferIn,
    ServiceLevel,
    StoredForecastOut,
)
from potok.api.schemas.transfers import (
    PurchaseOrderOut,
    TransferOut,
    render_purchase_order,
    render_transfer,
)
from potok.api.scope import NOTHING, Reach, ensure_warehouses, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.access.model import OutOfScope
from potok.domain.analytics import ForecastTooShort, NoForecastRun, NothingToReorder
from potok.domain.errors import InvalidInput
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import reorders, stored_forecasts
from potok.services.forecasting import StoredForecast

router = APIRouter(prefix="/api/v1/forecasts", tags=["reports"])

Z_80 = 1.2816  # the 80 % interval: forecast +- 1.28 sigma


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
    "the run was), each day's forecast with its 80 % interval. `run` is null until a run "
    "is stored.",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def latest_forecast(
    uow: Uow,
    caller: Caller,
    sku: Code | None = None,
    warehouse: Warehouses = [],  # noqa: B006 - FastAPI copies the default
) -> StoredForecastOut:
    wanted = _warehouses(caller, warehouse) if sku else [NOTHING]
    try:
        stored = stored_forecasts.latest_forecast(uow, sku=sku or NOTHING, warehouses=wanted)
    except NoForecastRun:
        return StoredForecastOut(run=None, series=[])
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
    responses=responses(ForecastTooShort, InvalidInput),
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
    try:
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
    except NoForecastRun:
        return ReorderPageOut(run=None, items=[], next_cursor=None)
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


def _reorder(body: ReorderPurchaseIn | ReorderTransferIn) -> reorders.Reorder:
    return reorders.Reorder(
        warehouse=body.warehouse,
        skus=list(body.skus),
        lead_days=body.lead_days,
        review_days=body.review_days,
        service_level=float(body.service_level.value),
        expected_on=body.expected_on,
    )


_MADE_PROBLEMS = responses(
    NoForecastRun,
    ForecastTooShort,
    NothingToReorder,
    InvalidInput,
    OutOfScope,
    IdempotencyKeyReused,
)


@router.post(
    "/latest/purchase-orders",
    status_code=201,
    response_model=PurchaseOrderOut,
    summary="A purchase order for the suggested quantities of chosen positions",
    description="Works out the reorder suggestions of `warehouse` from the newest stored run "
    "and the stock now (as `GET .../reorder-suggestions` with the same figures) and records "
    "one purchase order to `supplier` for those of `skus` to order (every one to order when "
    "`skus` is empty), as `POST /api/v1/purchase-orders` would. Asked again, the order "
    "already counts as incoming: nothing is left to order (422 `nothing-to-reorder`); with "
    "the same Idempotency-Key, the first answer.",
    responses=_MADE_PROBLEMS,
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def order_suggested(
    body: ReorderPurchaseIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_warehouses(caller, {body.warehouse})
    return answer(
        request,
        "reorder-purchase-order",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: reorders.order_suggested(
            uow, _reorder(body), body.supplier, caller.actor, once=once
        ),
        lambda order: (201, render_purchase_order(order).model_dump(mode="json")),
    )


@router.post(
    "/latest/transfers",
    status_code=201,
    response_model=TransferOut,
    summary="A transfer of the suggested quantities of chosen positions from another warehouse",
    description="As the purchase order beside it, but requests a transfer from "
    "`from_warehouse`: each SKU's suggested quantity, less what transfers still only "
    "requested to `warehouse` already ask for, at most what the source has available (the "
    "transfer's comment says what it lacked). Asked again: nothing left (422 "
    "`nothing-to-reorder`); with the same Idempotency-Key, the first answer.",
    responses=_MADE_PROBLEMS,
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def transfer_suggested(
    body: ReorderTransferIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_warehouses(caller, {body.warehouse, body.from_warehouse})
    return answer(
        request,
        "reorder-transfer",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: reorders.transfer_suggested(
            uow, _reorder(body), body.from_warehouse, caller.actor, once=once
        ),
        lambda made: (201, render_transfer(made).model_dump(mode="json")),
    )
