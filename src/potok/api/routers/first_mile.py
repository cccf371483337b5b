"""Yandex Market's first-mile shipments of a connection: list them, read one, confirm it,
print its act and waybill, move orders to the next one. Each route asks Market at once
(outside any transaction); Market's refusals are 422, its outages 503.

A channel's API key sees the connections of its own channel only; others are 404.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.routers.marketplaces import CodePath, visible
from potok.api.schemas.common import Day
from potok.api.schemas.marketplaces import (
    FirstMileConfirmIn,
    FirstMileShipmentOut,
    FirstMileTransferIn,
    FirstMileTransferOut,
)
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs, security_of
from potok.connectors.marketplaces import (
    CredentialsRefused,
    MarketplaceRefused,
    MarketplaceUnavailable,
)
from potok.connectors.marketplaces.yandex_market_first_mile import FirstMileShipment
from potok.domain.access import Permission
from potok.domain.errors import InvalidInput
from potok.domain.marketplaces import ConnectionNotFound
from potok.services.marketplaces import first_mile as service

router = APIRouter(prefix="/api/v1/marketplaces", tags=["marketplaces"])

CampaignPath = Annotated[
    str,
    Path(pattern=r"^[1-9][0-9]{0,18}$", max_length=19, description="Market's FBS campaign."),
]
ShipmentPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="Market's shipment id.")]
FAILURES = (
    ConnectionNotFound,
    service.FirstMileNotOffered,
    service.CampaignNotConnected,
    MarketplaceRefused,
    CredentialsRefused,
    MarketplaceUnavailable,
)
SHIPMENT = "/{code}/first-mile-shipments/{campaign}/{shipment}"


def render(shipment: FirstMileShipment) -> dict[str, object]:
    return {
        "id": shipment.id,
        "campaign": shipment.campaign,
        "status": shipment.status,
        "status_description": shipment.status_description,
        "plan_from": shipment.plan_from,
        "plan_to": shipment.plan_to,
        "kind": shipment.kind,
        "orders": list(shipment.order_ids),
        "draft_count": shipment.draft_count,
        "planned_count": shipment.planned_count,
        "fact_count": shipment.fact_count,
        "signed": shipment.signed,
        "warehouse": shipment.warehouse,
        "warehouse_to": shipment.warehouse_to,
        "delivery_service": shipment.delivery_service,
        "external_id": shipment.external_id,
        "actions": list(shipment.actions) if shipment.actions is not None else None,
    }


@router.get(
    "/{code}/first-mile-shipments",
    response_model=list[FirstMileShipmentOut],
    summary="Yandex Market's first-mile shipments planned for some days",
    description="Every campaign the connection maps (or `campaign`), earliest first, read "
    "from Market now (`searchShipments`); Market's cancelled orders left out.",
    responses=responses(InvalidInput, *FAILURES),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.RECORD, "code", finder=visible)],
)
def list_first_mile(
    code: CodePath,
    request: Request,
    uow: Uow,
    caller: Caller,
    since: Annotated[Day | None, Query(description="From this day (today unless given).")] = None,
    until: Annotated[Day | None, Query(description="To this day, at most 30 after.")] = None,
    campaign: Annotated[
        str | None,
        Query(pattern=r"^[1-9][0-9]{0,18}$", max_length=19, description="Only this campaign."),
    ] = None,
) -> Response:
    connection = visible(uow, caller, code)
    first = since or date.today()
    found = service.list_first_mile(
        uow,
        security_of(request).potok.marketplaces,
        connection.code,
        first,
        until or first,
        campaign=campaign,
    )
    return json_response([render(s) for s in found])


@router.get(
    SHIPMENT,
    response_model=FirstMileShipmentOut,
    summary="One first-mile shipment, with what Market allows now",
    responses=responses(*FAILURES),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.RECORD, "code", finder=visible)],
)
def get_first_mile(
    code: CodePath,
    campaign: CampaignPath,
    shipment: ShipmentPath,
    request: Request,
    uow: Uow,
    caller: Caller,
) -> Response:
    connection = visible(uow, caller, code)
    found = service.get_first_mile(
        uow, security_of(request).potok.marketplaces, connection.code, campaign, shipment
    )
    return json_response(render(found))


@router.post(
    SHIPMENT + "/confirmation",
    response_model=FirstMileShipmentOut,
    summary="Confirm a first-mile shipment to Yandex Market",
    description="Allowed once the shipment's cutoff has come (`CONFIRM` among its actions); "
    "Market refuses it before (422, with Market's words). Confirming twice changes nothing. "
    "Answers the shipment as Market has it afterwards: its act can be printed.",
    responses=responses(InvalidInput, *FAILURES),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.RECORD, "code", finder=visible)],
)
def confirm_first_mile(
    code: CodePath,
    campaign: CampaignPath,
    shipment: ShipmentPath,
    body: FirstMileConfirmIn,
    request: Request,
    uow: Uow,
    caller: Caller,
) -> Response:
    connection = visible(uow, caller, code)
    found = service.confirm_first_mile(
        uow,
        security_of(request).potok.marketplaces,
        connection.code,
        campaign,
        shipment,
        external_id=body.external_id,
        signatory=body.signatory,
    )
    return json_response(render(found))


def _document(
    request: Request, uow: Uow, code: str, campaign: str, shipment: int, kind: str
) -> bytes:
    return service.first_mile_document(
        uow, security_of(request).potok.marketplaces, code, campaign, shipment, kind
    )


@router.get(
    SHIPMENT + "/act",
    summary="The acceptance act of a confirmed first-mile shipment, PDF (Market's own)",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The PDF."},
        **responses(*FAILURES),
    },
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.RECORD, "code", finder=visible)],
)
def first_mile_act(
    code: CodePath,
    campaign: CampaignPath,
    shipment: ShipmentPath,
    request: Request,
    uow: Uow,
    caller: Caller,
) -> Response:
    connection = visible(uow, caller, code)
    pdf = _document(request, uow, connection.code, campaign, shipment, "act")
    name = f"act-{shipment}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"},
    )


@router.get(
    SHIPMENT + "/waybill",
    summary="The transport waybill of a shipment Market collects, Excel (Market's own)",
    response_class=Response,
    responses={
        200: {"content": {"application/vnd.ms-excel": {}}, "description": "The workbook."},
        **responses(*FAILURES),
    },
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.RECORD, "code", finder=visible)],
)
def first_mile_waybill(
    code: CodePath,
    campaign: CampaignPath,
    shipment: ShipmentPath,
    request: Request,
    uow: Uow,
    caller: Caller,
) -> Response:
    connection = visible(uow, caller, code)
    workbook = _document(request, uow, connection.code, campaign, shipment, "waybill")
    name = f"waybill-{shipment}.xls"
    return Response(
        workbook,
        media_type="application/vnd.ms-excel",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


@router.post(
    SHIPMENT + "/order-transfers",
    response_model=FirstMileTransferOut,
    summary="Move orders that cannot be packed in time to the next first-mile shipment",
    description="Market allows it until half an hour before the shipment is formed and "
    "counts it against the shop's quality index; it moves them within minutes. Each Potok "
    "order moved gets a note in its history.",
    responses=responses(InvalidInput, *FAILURES),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.RECORD, "code", finder=visible)],
)
def transfer_first_mile(
    code: CodePath,
    campaign: CampaignPath,
    shipment: ShipmentPath,
    body: FirstMileTransferIn,
    request: Request,
    uow: Uow,
    caller: Caller,
) -> Response:
    connection = visible(uow, caller, code)
    moved = service.transfer_first_mile(
        uow,
        security_of(request).potok.marketplaces,
        connection.code,
        campaign,
        shipment,
        body.orders,
        caller.actor,
    )
    return json_response({"orders": list(dict.fromkeys(body.orders)), "potok_orders": moved})
