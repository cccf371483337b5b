"""The warehouse floor on a phone or a handheld scanner: my waves and shipments, picking by
scans (bin, then product, then how many), a shortage with one tap, packing into parcels with
marking codes, hand-over to the carrier. Pages read; every scan goes to the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from potok.api.scope import Reach, ensure_wave, reach
from potok.api.scope import sees_shipment as shipment_visible
from potok.api.security import Caller, needs, security_of
from potok.domain.access import Permission, Principal
from potok.domain.fulfilment import ShipmentNotFound, ShipmentStatus, WaveNotFound
from potok.domain.fulfilment.picking import WaveLine
from potok.domain.fulfilment.states import WaveStatus
from potok.domain.network import WarehouseType
from potok.services.catalogue import list_warehouses
from potok.services.fulfilment import packing, reads
from potok.services.marketplaces.stickers import sticker_kept
from potok.web.pages import PageRoute, console_uow, render
from potok.web.routers.live import live_context

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ShipmentIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
WavePath = Annotated[str, Path(min_length=1, max_length=32)]
WORKING_WAVES = (WaveStatus.OPEN.value, WaveStatus.PICKING.value)
PACKING_BOX_MM = (300, 200, 150)  # a usual box, unless the products give theirs


def _my_warehouses(request: Request, caller: Principal) -> list[str]:
    """The warehouses the person works at: their own, or every active one for the office."""
    if caller.warehouses is not None:
        return sorted(caller.warehouse_codes)
    uow = console_uow(request)
    return sorted(
        w.code
        for w in list_warehouses(uow, active=True)
        if w.type is not WarehouseType.PICKUP_POINT
    )


def _current(lines: list[WaveLine]) -> WaveLine | None:
    """The next line to pick in walking order: the first with units left."""
    return next((line for line in lines if line.left > 0), None)


def _shortfalls(line: WaveLine | None) -> list[dict[str, object]]:
    """What reporting the line's units missing means per shipment: the least urgent first."""
    if line is None:
        return []
    return [
        {
            "shipment": s.shipment_id,
            "sku": line.sku,
            "lot": line.lot,
            "missing": s.quantity - s.picked,
        }
        for s in reversed(line.sort)
        if s.quantity > s.picked
    ]


@router.get("/floor", dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)])
def floor_home(
    request: Request,
    caller: Caller,
    warehouse: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    live = live_context(request)  # before the lists: nothing in between is missed
    mine = _my_warehouses(request, caller)
    chosen = warehouse if warehouse in mine else (mine[0] if mine else "")
    uow = console_uow(request)
    waves = []
    to_pick = []
    to_hand_over = []
    if chosen and caller.channel is None:  # a wave carries orders of every channel
        waves = [
            w
            for w in reads.list_waves(uow, warehouses=[chosen], limit=50).items
            if w.status.value in WORKING_WAVES
        ]
        shipments = reads.list_shipments(
            uow,
            warehouses=[chosen],
            statuses=[ShipmentStatus.PENDING.value, ShipmentStatus.PICKING.value],
            channel=caller.channel,
            limit=100,
        ).items
        to_pick = [s for s in shipments if s.wave is None or s.status is ShipmentStatus.PICKING]
        to_hand_over = reads.list_shipments(
            uow,
            warehouses=[chosen],
            statuses=[ShipmentStatus.PACKED.value],
            channel=caller.channel,
            limit=100,
        ).items
    return render(
        request,
        "floor/home.html",
        {
            "warehouses": mine,
            "chosen": chosen,
            "waves": waves,
            "to_pick": to_pick,
            "to_hand_over": to_hand_over,
            "may_work": caller.may(Permission.STOCK_WRITE),
            **live,
        },
    )


@router.get(
    "/floor/waves/{number}",
    dependencies=[
        needs(Permission.STOCK_READ),
        reach(Reach.RECORD, "number", finder=ensure_wave),
    ],
)
def floor_wave(number: WavePath, request: Request, caller: Caller) -> Response:
    uow = console_uow(request)
    view = reads.get_wave(uow, number)
    if caller.channel is not None or (
        caller.warehouses is not None and view.wave.warehouse_id not in caller.warehouses
    ):
        raise WaveNotFound(wave=number)
    line = _current(view.lines)
    slots = {s.id: view.wave.slot_of(s.id) for s in view.shipments if s.id is not None}
    return render(
        request,
        "floor/wave.html",
        {
            "wave": view.wave,
            "lines": view.lines,
            "line": line,
            "left": view.left,
            "shortfalls": _shortfalls(line),
            "shipments": sorted(view.shipments, key=lambda s: slots.get(s.id, 0)),
            "slots": slots,
            "pick_url": f"/api/v1/waves/{number}/picks",
            "in_wave": True,
            "may_work": caller.may(Permission.STOCK_WRITE),
        },
    )


@router.get(
    "/floor/shipments/{shipment_id}",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.SHIPMENT)],
)
def floor_shipment(shipment_id: ShipmentIdPath, request: Request, caller: Caller) -> Response:
    uow = console_uow(request)
    view = reads.get_shipment(uow, shipment_id)
    shipment = view.shipment
    if not shipment_visible(uow, caller, shipment):
        raise ShipmentNotFound(shipment_id=shipment_id)
    lines: list[WaveLine] = []
    if shipment.status in (ShipmentStatus.PENDING, ShipmentStatus.PICKING):
        lines = reads.pick_list(uow, shipment_id)[1]
    line = _current(lines)
    to_pack = [i for i in shipment.items if i.picked - i.packed > 0]
    if line is not None:
        step = "pick"
    elif shipment.status is ShipmentStatus.PICKING and to_pack:
        step = "pack"
    elif shipment.status is ShipmentStatus.PACKED:
        step = "hand_over"
    else:
        step = "done"
    return render(
        request,
        "floor/shipment.html",
        {
            "shipment": shipment,
            "steps": view.steps,
            "step": step,
            "lines": lines,
            "line": line,
            "left": sum(ln.left for ln in lines),
            "shortfalls": _shortfalls(line),
            "pick_url": f"/api/v1/shipments/{shipment_id}/picks",
            "in_wave": False,
            "to_pack": to_pack,
            "box": (packing.suggested_box(uow, shipment) if step == "pack" else None)
            or PACKING_BOX_MM,
            "carriers": list(security_of(request).potok.carriers.codes),
            "may_work": caller.may(Permission.STOCK_WRITE),
            "sticker": sticker_kept(uow, shipment.order_id),
        },
    )
