"""Shipping tariffs, routing rules per channel, and why an order is sourced as it is."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from math import inf
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from potok.api.body_guard import is_json
from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.routers.orders import OrderIdPath
from potok.api.schemas.common import Code
from potok.api.schemas.sourcing import (
    CandidateOut,
    DryRunOut,
    OrderSourcingOut,
    RecordOut,
    ReplanChangeOut,
    ReplanIn,
    ReplanRunOut,
    ReplanRunPageOut,
    RulesOut,
    ShipmentOut,
    StoredDecisionOut,
    TariffIn,
    TariffOut,
    TariffTableOut,
    TariffVersionOut,
    TransferPlanOut,
)
from potok.api.scope import Reach, ensure_warehouses, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.access.model import OutOfScope
from potok.domain.channels import ChannelNotFound
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.network.model import WarehouseNotFound
from potok.domain.orders.errors import IdempotencyKeyReused, OrderNotFound
from potok.domain.sourcing import SourcingRecord, Tariff
from potok.domain.sourcing import setup as sourcing_setup
from potok.domain.sourcing.tariffs import ANY_WAREHOUSE
from potok.domain.sourcing.versions import RulesVersion
from potok.services import replanning, sourcing
from potok.services.ports import ReplanRun
from potok.services.tariff_files import HEADER
from potok.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/api/v1/sourcing", tags=["sourcing"])
orders_router = APIRouter(prefix="/api/v1/orders", tags=["sourcing"])

MAX_TARIFFS = 100_000
"""The most rows a tariff table may have."""
MAX_TARIFF_FILE = 1024**3
"""A tariff file is bounded by `api.max_body_bytes`, which is at most this."""
_TARIFFS = TypeAdapter(Annotated[list[TariffIn], Field(max_length=MAX_TARIFFS)])
_VERSION = Query(ge=1, le=2**31 - 1, description="An older version.")
_ORDER_TYPE = Query(
    max_length=32,
    pattern=f"^({'|'.join(sorted(re.escape(t) for t in sourcing_setup.ORDER_TYPES))})$",
    description="courier, pickup, marketplace, or `*` (every type).",
)


def _tariff_out(t: Tariff) -> TariffOut:
    return TariffOut(
        warehouse=t.warehouse,
        region=t.region,
        min_km=t.min_km,
        max_km=None if t.max_km == inf else t.max_km,
        fixed_rub=t.fixed,
        per_kg_rub=t.per_kg,
        per_km_rub=t.per_km,
        days=t.days,
    )


def _rules_out(found: RulesVersion) -> RulesOut:
    return RulesOut(
        channel=found.channel or sourcing_setup.DEFAULT_CHANNEL,
        order_type=found.order_type,
        version=found.version,
        rules=found.rules,
        created_by=found.created_by,
        created_at=found.created_at,
    )


def _csv_from_json(body: bytes) -> str:
    """The CSV text of a JSON list of tariffs: item N becomes line N + 1 of the file."""
    try:
        items = _TARIFFS.validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
        ) from None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER.split(","))

    def text(value: float | Decimal | None) -> str:
        return "" if value is None else str(value)

    for item in items:
        writer.writerow(
            [
                item.warehouse,
                item.region or "",
                text(item.min_km),
                text(item.max_km),
                text(item.fixed_rub),
                text(item.per_kg_rub),
                text(item.per_km_rub),
                str(item.days),
            ]
        )
    return out.getvalue()


_IMPORT_RESPONSES = responses(InvalidInput)
_IMPORT_RESPONSES[422]["description"] += ", invalid-tariff-file"


@router.put(
    "/tariffs",
    response_model=TariffVersionOut,
    summary="Replace the shipping tariff table",
    description="The body is CSV text (`Content-Type: text/csv`, first line "
    f"`{HEADER}`) or a JSON list of tariffs. All or nothing: a file with any bad row "
    "changes nothing, and the `invalid-tariff-file` problem lists every bad cell by line "
    "and column in `problems`. Each import is a new version; `sourcing.tariffs_imported` "
    f"follows. `warehouse` is a warehouse code or `{ANY_WAREHOUSE}` for every warehouse.",
    responses=_IMPORT_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string", "maxLength": MAX_TARIFF_FILE}},
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": TariffIn.model_json_schema(),
                        "maxItems": MAX_TARIFFS,
                    }
                },
            },
        }
    },
    dependencies=[needs(Permission.SOURCING_WRITE), reach(Reach.UNLIMITED)],
)
async def put_tariffs(request: Request, uow: Uow, caller: Caller) -> TariffVersionOut:
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()

    def work() -> TariffVersionOut:
        if is_json(kind):
            text = _csv_from_json(body)
            source = "api:json"
        else:
            try:
                text = body.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InvalidInput([FieldError("body", "is not UTF-8 text")]) from None
            source = "api:csv"
        version = sourcing.import_tariffs(uow, text, caller.actor, source=source)
        return TariffVersionOut.model_validate(version)

    return await run_in_threadpool(work)


@router.get(
    "/tariffs",
    response_model=TariffTableOut,
    summary="The shipping tariff table in force",
    dependencies=[needs(Permission.SOURCING_READ), reach(Reach.NETWORK)],
)
def get_tariffs(uow: Uow) -> TariffTableOut:
    version, tariffs = sourcing.list_tariffs(uow)
    return TariffTableOut(
        version=None if version is None else TariffVersionOut.model_validate(version),
        tariffs=[_tariff_out(t) for t in tariffs],
    )


@router.put(
    "/rules/{channel}",
    response_model=RulesOut,
    summary="Set a channel's routing rules (a new version)",
    description="`channel` is a channel code, or `default` for the network's rules that "
    "channels without their own follow. Settings left out keep their built-in values. "
    "Each change is a new version; older ones stay readable, and "
    "`sourcing.rules_changed` follows.",
    responses=responses(ChannelNotFound, InvalidInput),
    dependencies=[needs(Permission.SOURCING_WRITE), reach(Reach.CHANNEL, "channel")],
)
def put_rules(
    channel: Code,
    body: dict[str, Any],
    uow: Uow,
    caller: Caller,
    order_type: Annotated[str, _ORDER_TYPE] = sourcing_setup.ANY_ORDER_TYPE,
) -> RulesOut:
    found = sourcing.set_rules(uow, channel, body, caller.actor, order_type=order_type)
    return _rules_out(found)


@router.get(
    "/rules/{channel}",
    response_model=RulesOut,
    summary="A channel's routing rules: the current version, or an older one",
    description="Without rules of its own a channel follows `default`, and that the "
    "built-in rules (version 0).",
    responses=responses(ChannelNotFound, InvalidInput, sourcing.RoutingRulesNotFound),
    dependencies=[needs(Permission.SOURCING_READ), reach(Reach.CHANNEL, "channel")],
)
def get_rules(
    channel: Code,
    uow: Uow,
    order_type: Annotated[str, _ORDER_TYPE] = sourcing_setup.ANY_ORDER_TYPE,
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="An older version.")
    ] = None,
) -> RulesOut:
    found = sourcing.get_rules(uow, channel, order_type=order_type, version=version)
    return _rules_out(found)


@router.get(
    "/rules/{channel}/versions",
    response_model=list[RulesOut],
    summary="Every version of a channel's routing rules, newest first, with who set it",
    responses=responses(ChannelNotFound, InvalidInput),
    dependencies=[needs(Permission.SOURCING_READ), reach(Reach.CHANNEL, "channel")],
)
def get_rule_versions(
    channel: Code,
    uow: Uow,
    order_type: Annotated[str, _ORDER_TYPE] = sourcing_setup.ANY_ORDER_TYPE,
) -> list[RulesOut]:
    return [_rules_out(v) for v in sourcing.rule_versions(uow, channel, order_type=order_type)]


def record_out(record: SourcingRecord) -> RecordOut:
    """The engine's record as the API shows it."""
    return RecordOut(
        rules_version=record.rules_version,
        tariffs_version=record.tariffs_version,
        decided_on=record.decided_on,
        order_type=record.order_type,
        express=record.express,
        promised_on=record.promised_on,
        candidates=[
            CandidateOut(
                warehouse=c.code,
                city=c.city,
                kind=c.kind,
                distance_km=None if c.distance_km is None else round(c.distance_km, 1),
                excluded=c.excluded,
                covers=c.covers,
                cost_rub=c.cost,
                days=c.days,
                score=None if c.score is None else round(c.score, 2),
                score_parts=c.breakdown() if c.parts else {},
                chosen=c.chosen,
                coverage=c.coverage,
                why_not=c.why_not,
                estimate=c.estimate,
            )
            for c in record.candidates
        ],
        shipments=[
            ShipmentOut(
                warehouse=s.code,
                cost_rub=s.cost,
                days=s.days,
                weight_kg=s.weight_kg,
                units=s.units,
                tariff=s.tariff,
                estimate=s.estimate,
                carrier=s.carrier or None,
                price_source=s.price_source or None,
            )
            for s in record.shipments
        ],
        total_cost_rub=record.total_cost,
        days=record.days,
        on_time=record.on_time,
        summary=record.summary,
        transfer_plan=[
            TransferPlanOut(
                from_warehouse=t.from_code,
                to_warehouse=t.to_code,
                cost_rub=t.cost,
                days=t.days,
                weight_kg=t.weight_kg,
                units=t.units,
                tariff=t.tariff,
                estimate=t.estimate,
            )
            for t in record.transfers
        ],
        alternative=record.alternative,
    )


@orders_router.get(
    "/{order_id}/sourcing",
    response_model=OrderSourcingOut,
    summary="Why the order is sourced as it is, and what the engine would choose now",
    description="`stored` holds every decision taken for the order with its full record; "
    "`dry_run` runs "
    "the sourcing engine on the order now, by its channel's routing rules and the tariffs, "
    "with every candidate, its score parts, cost, days, exclusions and the sentence that "
    "sums it up. The order's own reservations count as free; nothing is reserved.",
    responses=responses(OrderNotFound),
    dependencies=[needs(Permission.SOURCING_READ), reach(Reach.ORDER)],
)
def get_order_sourcing(order_id: OrderIdPath, uow: Uow, request: Request) -> OrderSourcingOut:
    prices = request.app.state.potok.prices
    if prices is not None and prices.wanted():  # carriers asked outside the read
        prices.warm_for_order(uow, order_id)
    found = sourcing.explain_order(uow, order_id)
    return OrderSourcingOut(
        order_id=found.order_id,
        stored=[
            StoredDecisionOut(
                occurred_at=s.occurred_at,
                actor=s.actor,
                action=s.action,
                explanation=s.explanation,
                trigger=s.trigger,
                warehouses=list(s.warehouses),
                total_cost_rub=s.total_cost,
                record=None if s.record is None else record_out(s.record),
            )
            for s in found.stored
        ],
        dry_run=DryRunOut(
            outcome=found.outcome,
            warehouses=list(found.warehouses),
            explanation=found.explanation,
            record=None if found.record is None else record_out(found.record),
        ),
    )


# ---------------------------------------------------------------------- batch re-plan


def _run_out(run: ReplanRun) -> ReplanRunOut:
    assert run.id is not None
    return ReplanRunOut(
        id=run.id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        actor=run.actor,
        scope=run.scope,
        applied=run.applied,
        method=run.method,
        orders_considered=run.orders_considered,
        orders_changed=run.orders_changed,
        orders_skipped=run.orders_skipped,
        backorders_reserved=run.backorders_reserved,
        cost_before_rub=run.cost_before,
        cost_after_rub=run.cost_after,
        saved_rub=run.cost_before - run.cost_after,
        seconds=run.seconds,
        notes=list(run.notes),
        changes=[
            ReplanChangeOut(
                order_id=c.order_id,
                outcome=c.outcome,
                from_warehouses=list(c.from_warehouses),
                to_warehouses=list(c.to_warehouses),
                cost_before_rub=c.cost_before,
                cost_after_rub=c.cost_after,
                note=c.note,
            )
            for c in run.changes
        ],
    )


def _replan_scope(caller: Principal, body: ReplanIn) -> tuple[str | None, str | None]:
    """A channel-bound key re-plans its channel; a user kept to some warehouses names one."""
    channel, warehouse = body.channel, body.warehouse
    if caller.channel is not None:
        if channel not in (None, caller.channel):
            raise OutOfScope(
                who=f"key '{caller.name}'", why=f"is bound to channel {caller.channel}"
            )
        channel = caller.channel
    if caller.warehouses is not None:
        if warehouse is None:
            raise OutOfScope(
                who=f"user '{caller.name}'",
                why=f"works at {', '.join(caller.warehouse_codes)}; name one as `warehouse`",
            )
        ensure_warehouses(caller, {warehouse})
    return channel, warehouse


@router.post(
    "/replans",
    response_model=ReplanRunOut,
    status_code=201,
    summary="Re-plan open orders for the least shipping cost (the batch optimiser)",
    description="Hands the confirmed orders that are reserved (nothing picked yet) or "
    "backordered, not on hold, to the batch optimiser (a mixed-integer program solved by "
    "HiGHS within `time_limit_s`, a greedy plan when it finds none) and moves only the "
    "orders it can ship for less while keeping their promised date; backorders it can now "
    "cover are reserved. Each moved order gets a history entry and a stored sourcing "
    "decision (trigger `batch re-plan`). An order or stock that changed meanwhile is "
    "skipped and keeps its plan. `apply: false` is a dry run that changes nothing. Every "
    "run is kept in the run log; an applied one announces `sourcing.replanned`. With "
    "`held_minutes`, the re-plan of held orders: only the orders placed within that many "
    "minutes and not released to a warehouse, planned together with the stock priced for the "
    "orders still to come; an order may become dearer when the orders it trades stock with "
    "save more (shipping plus stock value), and each trade moves all together or not at all "
    "(trigger `re-plan of held orders`; the history entry says what the order and its trade "
    "saved).",
    responses=responses(
        InvalidInput, ChannelNotFound, WarehouseNotFound, OutOfScope, IdempotencyKeyReused
    ),
    dependencies=[needs(Permission.SOURCING_WRITE), reach(Reach.NAMED)],
)
def post_replan(
    body: ReplanIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    channel, warehouse = _replan_scope(caller, body)
    return answer(
        request,
        "replan",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: replanning.replan(
            uow,
            channel=channel,
            warehouse=warehouse,
            limit=body.limit,
            time_limit_s=body.time_limit_s,
            apply=body.apply,
            held_minutes=body.held_minutes,
            actor=caller.actor,
            once=once,
        ),
        lambda run: (201, _run_out(run).model_dump(mode="json")),
    )


@router.get(
    "/replans",
    response_model=ReplanRunPageOut,
    summary="Runs of the batch optimiser, newest first",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.SOURCING_READ), reach(Reach.LISTED)],
)
def list_replans(
    uow: Uow,
    caller: Caller,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ReplanRunPageOut:
    page = replanning.list_runs(
        uow,
        cursor=cursor,
        limit=limit,
        channel=caller.channel,
        warehouses=caller.warehouse_codes if caller.warehouses is not None else None,
    )
    return ReplanRunPageOut(items=[_run_out(r) for r in page.items], next_cursor=page.next_cursor)


def _sees_run(caller: Principal, run: ReplanRun) -> bool:
    """A run spans what it was asked to: a bound key sees the runs of its channel, warehouse
    staff those of one of their warehouses; network-wide runs only unlimited callers."""
    if caller.channel is not None and run.scope.get("channel") != caller.channel:
        return False
    return caller.warehouses is None or run.scope.get("warehouse") in caller.warehouse_codes


def _visible_run(uow: UnitOfWork, caller: Principal, run_id: int) -> None:
    if not _sees_run(caller, replanning.get_run(uow, run_id)):
        raise replanning.ReplanRunNotFound(run_id=run_id)


@router.get(
    "/replans/{run_id}",
    response_model=ReplanRunOut,
    summary="One run of the batch optimiser, with every order it moved, reserved or skipped",
    responses=responses(replanning.ReplanRunNotFound),
    dependencies=[
        needs(Permission.SOURCING_READ),
        reach(Reach.RECORD, "run_id", finder=_visible_run),
    ],
)
def get_replan(
    run_id: Annotated[int, Path(ge=1, le=2**63 - 1)], uow: Uow, caller: Caller
) -> ReplanRunOut:
    run = replanning.get_run(uow, run_id)
    if not _sees_run(caller, run):
        raise replanning.ReplanRunNotFound(run_id=run_id)
    return _run_out(run)
