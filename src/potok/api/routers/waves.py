"""Waves: many orders of one warehouse picked in one walk - lines merged per bin in walking
order - and sorted into their slots. Waves belong to a warehouse: its staff see its waves;
a key bound to a channel sees none."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.schemas.common import Code as LocationCode
from potok.api.schemas.fulfilment import (
    PickOut,
    ScanIn,
    WaveIn,
    WaveOut,
    WavePageOut,
    render_shipment,
    render_takes,
    render_wave,
)
from potok.api.scope import Reach, ensure_warehouses, ensure_wave, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.errors import InvalidInput, TransientConflict
from potok.domain.fulfilment import WaveNotFound
from potok.domain.fulfilment import errors as fe
from potok.domain.fulfilment.waves import Wave
from potok.domain.network import WarehouseNotFound
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services.fulfilment import picking, reads, release

router = APIRouter(prefix="/api/v1/waves", tags=["fulfilment"])

WavePath = Annotated[
    str, Path(min_length=1, max_length=32, description="The wave's number: W-000001.")
]


def _may_see(caller: Principal, wave: Wave) -> bool:
    if caller.channel is not None:
        return False
    return caller.warehouses is None or wave.warehouse_id in caller.warehouses


def _ensure(caller: Principal, view: reads.WaveView, number: str) -> None:
    if not _may_see(caller, view.wave):
        raise WaveNotFound(wave=number)


@router.post(
    "",
    status_code=201,
    response_model=WaveOut,
    summary="A wave of the most urgent orders ready at a warehouse",
    description="Each order gets a pending shipment and a slot on the cart, most urgent "
    "first (priority, promised date, age). The wave's lines merge every order's units per "
    "bin, lot and product in walking order; the first scan starts the picking.",
    responses=responses(
        WarehouseNotFound,
        InvalidInput,
        fe.OrderNotReleasable,
        IdempotencyKeyReused,
        TransientConflict,
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def create_wave(
    body: WaveIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_warehouses(caller, {body.warehouse})
    if caller.channel is not None:
        raise WarehouseNotFound(warehouse=body.warehouse)

    def render(view: reads.WaveView) -> tuple[int, object]:
        return 201, render_wave(view.wave, view.shipments, view.lines)

    return answer(
        request,
        "create-wave",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: release.create_wave(
            uow,
            body.warehouse,
            caller.actor,
            max_orders=body.max_orders,
            order_ids=body.orders,
            once=once,
        ),
        render,
    )


@router.get(
    "",
    response_model=WavePageOut,
    summary="Waves, newest first",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def list_waves(
    uow: Uow,
    caller: Caller,
    warehouse: Annotated[list[LocationCode] | None, Query(max_length=50)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    if caller.channel is not None:
        return json_response({"items": [], "next_cursor": None})
    wanted = list(warehouse) if warehouse else None
    if caller.warehouses is not None:
        allowed = set(caller.warehouse_codes)
        wanted = [w for w in (wanted or sorted(allowed)) if w in allowed]
    page = reads.list_waves(uow, warehouses=wanted, status=status, cursor=cursor, limit=limit)
    return json_response(
        {"items": [render_wave(w) for w in page.items], "next_cursor": page.next_cursor}
    )


@router.get(
    "/{number}",
    response_model=WaveOut,
    summary="A wave: its slots and its lines per bin in walking order, with where units go",
    responses=responses(WaveNotFound),
    dependencies=[
        needs(Permission.STOCK_READ),
        reach(Reach.RECORD, "number", finder=ensure_wave),
    ],
)
def get_wave(number: WavePath, uow: Uow, caller: Caller) -> Response:
    view = reads.get_wave(uow, number)
    _ensure(caller, view, number)
    return json_response(render_wave(view.wave, view.shipments, view.lines))


@router.post(
    "/{number}/picking",
    response_model=WaveOut,
    summary="Start picking a wave",
    description="The first scan does this by itself. Orders that may no longer be picked "
    "(held, cancelled, sourced elsewhere) leave the wave.",
    responses=responses(WaveNotFound, TransientConflict),
    dependencies=[
        needs(Permission.STOCK_WRITE),
        reach(Reach.RECORD, "number", finder=ensure_wave),
    ],
)
def start_wave(number: WavePath, uow: Uow, caller: Caller) -> Response:
    _ensure(caller, reads.get_wave(uow, number), number)
    picking.start_wave(uow, number, caller.actor)
    view = reads.get_wave(uow, number)
    return json_response(render_wave(view.wave, view.shipments, view.lines))


@router.post(
    "/{number}/picks",
    status_code=201,
    response_model=PickOut,
    summary="Confirm a scan in a wave; the answer says which slot gets how many",
    description="The units go to the wave's orders in slot order (the most urgent first). "
    "A scan of the wrong product, bin, lot or serial is refused with what was expected.",
    responses=responses(
        WaveNotFound,
        InvalidInput,
        fe.WrongProduct,
        fe.WrongBin,
        fe.WrongLot,
        fe.WrongSerial,
        fe.SerialRequired,
        fe.AlreadyPicked,
        fe.WaveClosed,
        IdempotencyKeyReused,
        TransientConflict,
    ),
    dependencies=[
        needs(Permission.STOCK_WRITE),
        reach(Reach.RECORD, "number", finder=ensure_wave),
    ],
)
def pick_in_wave(
    number: WavePath,
    body: ScanIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    _ensure(caller, reads.get_wave(uow, number), number)

    def render(outcome: picking.PickOutcome) -> tuple[int, object]:
        return 201, {
            "takes": render_takes(outcome.takes),
            "left": outcome.left,
            "shipments": [render_shipment(s) for s in outcome.shipments],
        }

    return answer(
        request,
        "wave-pick",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: picking.pick_in_wave(uow, number, body.scan(), caller.actor, once=once),
        render,
    )
