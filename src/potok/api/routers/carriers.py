"""Carriers: which Potok knows, their pickup points, their webhooks (tracking events), and
quotes and bookings of shipments."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.routers.shipments import ShipmentIdPath
from potok.api.schemas.fulfilment import (
    BookingIn,
    CarrierOut,
    DirectoryPointOut,
    PickupPointOut,
    PlannedCarrierIn,
    QuoteOut,
    ShipmentOut,
    TrackingOutcomeOut,
    render_shipment,
)
from potok.api.scope import Reach, ensure_shipment, reach
from potok.api.security import Caller, needs, public, security_of
from potok.connectors.carriers import CarrierNotFound, CarrierRefused, CarrierUnavailable
from potok.connectors.carriers.registry import CarrierRegistry
from potok.domain.access import Permission
from potok.domain.errors import InvalidInput, TransientConflict
from potok.domain.fulfilment import ShipmentNotFound
from potok.domain.fulfilment import errors as fe
from potok.domain.marketplaces import StickerNotKept
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import carrier_points
from potok.services.fulfilment import carrier_plans, labels, tracking
from potok.services.marketplaces import stickers

router = APIRouter(prefix="/api/v1", tags=["carriers"])

CarrierPath = Annotated[str, Path(min_length=1, max_length=32, description="sandbox, cdek, …")]
MAX_WEBHOOK_BYTES = 1_000_000


def registry(request: Request) -> CarrierRegistry:
    carriers: CarrierRegistry = security_of(request).potok.carriers
    return carriers


@router.get(
    "/carriers",
    response_model=list[CarrierOut],
    summary="The carriers Potok can book and track",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def list_carriers(request: Request) -> Response:
    return json_response([{"code": code} for code in registry(request).codes])


@router.get(
    "/carriers/{carrier}/pickup-points",
    response_model=list[PickupPointOut],
    summary="A carrier's pickup points, with how long they keep a parcel",
    responses=responses(CarrierNotFound, CarrierUnavailable),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def pickup_points(
    carrier: CarrierPath,
    request: Request,
    city: Annotated[str | None, Query(min_length=1, max_length=120)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    points = registry(request).get(carrier).pickup_points(city=city, limit=limit)
    return json_response(
        [
            {
                "code": p.code,
                "name": p.name,
                "city": p.city,
                "address": p.address,
                "latitude": p.latitude,
                "longitude": p.longitude,
                "storage_days": p.storage_days,
                "hours": p.hours,
            }
            for p in points
        ]
    )


@router.get(
    "/pickup-points",
    response_model=list[DirectoryPointOut],
    summary="Pickup points near a place, from the carriers' directory Potok keeps",
    description="For a checkout: the active points of every carrier (or one) in a city, "
    "whose address or name holds `q`, or within `radius_km` of `latitude`/`longitude`, "
    "nearest first. The code of a point is what an order names as its pickup point. The "
    "directory is synced from the carriers on a schedule (`potok carriers sync-points`).",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def directory_points(
    uow: Uow,
    carrier: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    city: Annotated[str | None, Query(min_length=1, max_length=120)] = None,
    q: Annotated[str | None, Query(min_length=2, max_length=120)] = None,
    latitude: Annotated[float | None, Query(ge=-90, le=90)] = None,
    longitude: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float, Query(gt=0, le=100)] = 5.0,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Response:
    if (latitude is None) != (longitude is None):
        raise InvalidInput([], detail="give both latitude and longitude, or neither")
    near = (latitude, longitude) if latitude is not None and longitude is not None else None
    found = carrier_points.find_points(
        uow, carrier=carrier, city=city, near=near, radius_km=radius_km, text=q, limit=limit
    )
    return json_response(
        [
            {
                "carrier": f.point.carrier,
                "code": f.point.code,
                "name": f.point.name,
                "kind": f.point.kind,
                "city": f.point.city,
                "address": f.point.address,
                "latitude": f.point.latitude,
                "longitude": f.point.longitude,
                "hours": f.point.hours,
                "storage_days": f.point.storage_days,
                "cash_on_delivery": f.point.cash_on_delivery,
                "cards": f.point.cards,
                "weight_max_g": f.point.weight_max_g,
                "cells": f.point.cells,
                "distance_km": round(f.distance_km, 3) if f.distance_km is not None else None,
            }
            for f in found
        ]
    )


@router.post(
    "/carriers/{carrier}/events",
    response_model=TrackingOutcomeOut,
    summary="A carrier's webhook: tracking events",
    description="Called by the carrier, not by people: it proves itself the carrier's way "
    "(the sandbox signs the body with HMAC-SHA256 in `X-Sandbox-Signature`; СДЭК, which "
    "signs nothing, is subscribed to this URL with `?secret=` and its webhook secret; its "
    "`ORDER_STATUS` bodies are read as they are). Events move "
    "the shipments on (`in_transit`, `ready_for_pickup`, `delivered`, `failed_delivery`, "
    "`returning`, `returned_to_sender`); events applied before are skipped, so a retried "
    "call is harmless.",
    responses=responses(CarrierNotFound, CarrierRefused, TransientConflict),
    dependencies=[public(), reach(Reach.NETWORK)],
)
async def carrier_events(carrier: CarrierPath, request: Request, uow: Uow) -> Response:
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise InvalidInput([], detail=f"a webhook call carries at most {MAX_WEBHOOK_BYTES} bytes")
    adapter = registry(request).get(carrier)
    events = adapter.read_webhook(dict(request.headers), body, dict(request.query_params))
    outcome = await run_in_threadpool(tracking.apply_tracking, uow, carrier, events)
    return json_response(
        {
            "applied": outcome.applied,
            "repeated": outcome.repeated,
            "unknown": outcome.unknown,
            "refused": outcome.refused,
            "shipments": outcome.shipments,
        }
    )


@router.get(
    "/shipments/{shipment_id}/quotes",
    response_model=list[QuoteOut],
    tags=["fulfilment"],
    summary="What each carrier would charge for a shipment, and how long it would take",
    responses=responses(ShipmentNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.SHIPMENT)],
)
def shipment_quotes(
    shipment_id: ShipmentIdPath, request: Request, uow: Uow, caller: Caller
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    found = tracking.quotes(uow, registry(request), shipment_id)
    return json_response(
        [
            {
                "carrier": code,
                "tariff": q.tariff,
                "price": f"{q.price:.2f}",
                "days": q.days,
                "description": q.description,
            }
            for code, offered in found
            for q in offered
        ]
    )


@router.post(
    "/shipments/{shipment_id}/booking",
    status_code=201,
    response_model=ShipmentOut,
    tags=["fulfilment"],
    summary="Book a packed shipment with a carrier: tracking number and label",
    description="The hand-over books it by itself when it names a carrier Potok knows.",
    responses=responses(
        ShipmentNotFound,
        CarrierNotFound,
        CarrierRefused,
        CarrierUnavailable,
        fe.ShipmentNotStarted,
        InvalidInput,
        TransientConflict,
        IdempotencyKeyReused,
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.SHIPMENT)],
)
def book(
    shipment_id: ShipmentIdPath,
    body: BookingIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    return answer(
        request,
        "book-shipment",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: tracking.book_shipment(
            uow, registry(request), shipment_id, body.carrier, caller.actor, once=once
        ),
        lambda shipment: (201, render_shipment(shipment)),
    )


@router.put(
    "/shipments/{shipment_id}/planned-carrier",
    response_model=ShipmentOut,
    tags=["fulfilment"],
    summary="Change the carrier a shipment is to be booked with, without booking it",
    description="Until the shipment is booked (pending, picking or packed): sourcing's "
    "choice (`planned_carrier`) is replaced, a `carrier_changed` step says from which, by "
    "whom and why; the booking and the hand-over then use it. No carrier is asked. The same "
    "carrier again changes nothing.",
    responses=responses(
        ShipmentNotFound,
        CarrierNotFound,
        fe.ShipmentNotStarted,
        InvalidInput,
        TransientConflict,
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.SHIPMENT)],
)
def plan_carrier(
    shipment_id: ShipmentIdPath,
    body: PlannedCarrierIn,
    request: Request,
    uow: Uow,
    caller: Caller,
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    shipment = carrier_plans.plan_carrier(
        uow, registry(request), shipment_id, body.carrier, caller.actor, reason=body.reason
    )
    return json_response(render_shipment(shipment))


@router.get(
    "/shipments/{shipment_id}/carrier-label",
    tags=["fulfilment"],
    summary="The carrier's own label of a booked shipment (its barcode on every parcel), PDF",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The PDF."},
        **responses(
            ShipmentNotFound,
            fe.ShipmentNotBooked,
            fe.CarrierPrintsNoLabels,
            CarrierNotFound,
            CarrierRefused,
            CarrierUnavailable,
        ),
    },
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.SHIPMENT)],
)
def carrier_label(
    shipment_id: ShipmentIdPath, request: Request, uow: Uow, caller: Caller
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    _, number, pdf = labels.carrier_label(uow, registry(request), shipment_id)
    name = f"label-{number}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"},
    )


STICKER_EXTENSIONS = {"image/png": "png", "image/svg+xml": "svg", "application/x-zpl": "zpl"}


@router.get(
    "/shipments/{shipment_id}/marketplace-sticker",
    tags=["fulfilment"],
    summary="The marketplace's sticker of a shipment's order (WB's assembly task sticker)",
    description="The file as the marketplace sent it, in the format and size of the settings "
    "(`POTOK_MARKETPLACES__WILDBERRIES_STICKER_TYPE`, `__WILDBERRIES_STICKER_SIZE`: PNG "
    "58x40 unless set); fetched once, at the first poll after the order was packed there.",
    response_class=Response,
    responses={
        200: {
            "content": {media: {} for media in STICKER_EXTENSIONS},
            "description": "The sticker.",
        },
        **responses(ShipmentNotFound, StickerNotKept),
    },
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.SHIPMENT)],
)
def marketplace_sticker(shipment_id: ShipmentIdPath, uow: Uow, caller: Caller) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    sticker = stickers.sticker_of_shipment(uow, shipment_id)
    name = f"sticker-{sticker.external_id}.{STICKER_EXTENSIONS.get(sticker.media_type, 'bin')}"
    return Response(
        sticker.file,
        media_type=sticker.media_type,
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"},
    )
