"""Avito's delivery choices for one imported order: when Avito's courier comes for the
parcel, and where a click-and-collect order waits. Each route asks Avito at once (outside
any transaction); Avito's refusals are 422, its outages 503.

A channel's API key sees the connections of its own channel only; others are 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.routers.marketplaces import CodePath, visible
from potok.api.schemas.marketplaces import CourierIntervalIn, CourierIntervalsOut, PickupDetailsIn
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs, security_of
from potok.connectors.marketplaces import (
    CredentialsRefused,
    MarketplaceRefused,
    MarketplaceUnavailable,
)
from potok.domain.access import Permission
from potok.domain.errors import InvalidInput
from potok.domain.marketplaces import ConnectionNotFound
from potok.services.marketplaces import avito_delivery as service

router = APIRouter(prefix="/api/v1/marketplaces", tags=["marketplaces"])

ExternalIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=r"^[0-9A-Za-z._-]+$",
        description="The marketplace's order number.",
    ),
]
FAILURES = (
    ConnectionNotFound,
    service.AvitoOnly,
    service.MarketplaceOrderNotImported,
    MarketplaceRefused,
    CredentialsRefused,
    MarketplaceUnavailable,
)
ORDER = "/{code}/orders/{external_id}"


@router.get(
    ORDER + "/courier-intervals",
    response_model=CourierIntervalsOut,
    summary="When Avito's courier can come for an order's parcel",
    description="Read from Avito now (`getCourierDeliveryRange`).",
    responses=responses(*FAILURES),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.RECORD, "code", finder=visible)],
)
def courier_intervals(
    code: CodePath,
    external_id: ExternalIdPath,
    request: Request,
    uow: Uow,
    caller: Caller,
    address: Annotated[
        str | None, Query(min_length=1, max_length=500, description="From this address.")
    ] = None,
) -> Response:
    connection = visible(uow, caller, code)
    found = service.courier_intervals(
        uow,
        security_of(request).potok.marketplaces,
        connection.code,
        external_id,
        address=address or "",
    )
    return json_response(
        {
            "address": found.address,
            "name": found.name,
            "phone": found.phone,
            "intervals": [
                {"start": i.start, "end": i.end, "title": i.title, "kind": i.kind}
                for i in found.intervals
            ],
        }
    )


@router.put(
    ORDER + "/courier-interval",
    status_code=204,
    summary="Choose when Avito's courier comes for an order's parcel",
    description="An interval Avito offered (`fixed`) or the soonest (`asap`), "
    "`setCourierDeliveryRange`; again to change it before the courier came. Leaves a note "
    "in the Potok order's history.",
    responses=responses(InvalidInput, *FAILURES),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.RECORD, "code", finder=visible)],
)
def choose_courier_interval(
    code: CodePath,
    external_id: ExternalIdPath,
    body: CourierIntervalIn,
    request: Request,
    uow: Uow,
    caller: Caller,
) -> Response:
    connection = visible(uow, caller, code)
    service.choose_courier_interval(
        uow,
        security_of(request).potok.marketplaces,
        connection.code,
        external_id,
        start=body.start,
        end=body.end,
        interval=body.interval,
        address=body.address,
        address_details=body.address_details,
        name=body.name,
        phone=body.phone,
        actor=caller.actor,
    )
    return Response(status_code=204)


@router.put(
    ORDER + "/pickup-details",
    status_code=204,
    summary="Tell Avito a click-and-collect order is ready: where, for how long",
    description="`cncSetDetails`. Leaves a note in the Potok order's history.",
    responses=responses(InvalidInput, *FAILURES),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.RECORD, "code", finder=visible)],
)
def pickup_details(
    code: CodePath,
    external_id: ExternalIdPath,
    body: PickupDetailsIn,
    request: Request,
    uow: Uow,
    caller: Caller,
) -> Response:
    connection = visible(uow, caller, code)
    service.set_pickup_details(
        uow,
        security_of(request).potok.marketplaces,
        connection.code,
        external_id,
        booking_days=body.booking_days,
        address=body.address,
        details=body.details,
        actor=caller.actor,
    )
    return Response(status_code=204)
