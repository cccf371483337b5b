"""Yandex Market's first-mile shipments (отгрузки) of an FBS campaign: the parcels Market's
courier takes from the seller (or the seller brings to a sorting centre) on one day and
interval, each with its orders.

Market forms a shipment itself from the orders ready to ship; the seller confirms it once
its cutoff has come (``confirmShipment``, only while ``CONFIRM`` is among the shipment's
``availableActions``), then prints the acceptance act (``downloadShipmentAct``, a PDF, only
for a confirmed shipment) and, when Market collects from the seller's warehouse, the
transport waybill (``downloadShipmentTransportationWaybill``, an Excel file). Orders the
seller cannot pack in time go to the next shipment (``transferOrdersFromShipment``, up to
500 at once, allowed until half an hour before the shipment is formed — Market counts such
transfers against the shop's quality index).

Shipments are searched by day (``searchShipments``, a PUT with ``dateFrom``/``dateTo``, 30 a
page, ``pageToken``). Every path is in :data:`PATHS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from potok.connectors.marketplaces.interface import MarketplaceRefused, MarketplaceUnavailable

if TYPE_CHECKING:
    from potok.connectors.marketplaces.yandex_market import YandexMarket

PATHS = {
    "shipments": "/v2/campaigns/{campaign}/first-mile/shipments",
    "shipment": "/v2/campaigns/{campaign}/first-mile/shipments/{shipment}",
    "confirm": "/v2/campaigns/{campaign}/first-mile/shipments/{shipment}/confirm",
    "act": "/v2/campaigns/{campaign}/first-mile/shipments/{shipment}/act",
    "waybill": "/v2/campaigns/{campaign}/first-mile/shipments/{shipment}/transportation-waybill",
    "transfer": "/v2/campaigns/{campaign}/first-mile/shipments/{shipment}/orders/transfer",
}
PAGE = 30
"""Shipments one page of ``searchShipments`` holds at most."""
TRANSFER_AT_ONCE = 500
"""Orders one ``transferOrdersFromShipment`` moves at most."""
PDF = (b"%PDF",)
EXCEL = (b"\xd0\xcf\x11\xe0", b"PK\x03\x04")
"""An Excel workbook's signatures: the old binary format and the zipped one."""
NAME = "Yandex Market"


@dataclass(frozen=True, slots=True)
class FirstMileShipment:
    """One shipment as Market has it (``ShipmentInfoDTO``/``ShipmentDTO``)."""

    id: int
    campaign: str
    status: str  # OUTBOUND_CREATED, OUTBOUND_READY_FOR_CONFIRMATION, OUTBOUND_CONFIRMED, ...
    status_description: str
    plan_from: datetime
    plan_to: datetime
    kind: str  # IMPORT: the seller brings the parcels; WITHDRAW: Market collects them
    order_ids: tuple[str, ...]
    draft_count: int
    planned_count: int
    fact_count: int
    signed: bool
    warehouse: str  # where the parcels leave from, as Market names it
    warehouse_to: str  # the sorting centre or point that takes them
    delivery_service: str
    external_id: str
    actions: tuple[str, ...] | None = None  # known from getShipment only

    @property
    def confirmable(self) -> bool | None:
        return None if self.actions is None else "CONFIRM" in self.actions


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _whole(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _place(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    name, address = str(value.get("name") or ""), str(value.get("address") or "")
    return (f"{name}, {address}" if name and address else name or address)[:255]


def read_shipment(campaign: str, data: Mapping[str, Any]) -> FirstMileShipment:
    """A Market shipment; ValueError, KeyError or TypeError when it cannot be read."""
    number = data["id"]
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ValueError("the shipment's id is not a positive number")
    orders = data.get("orderIds", [])
    if not isinstance(orders, list):
        raise ValueError("orderIds is not a list")
    current = data.get("currentStatus")
    status = data.get("status") or (current.get("status") if isinstance(current, Mapping) else "")
    service = data.get("deliveryService")
    actions = data.get("availableActions")
    signature = data.get("signature")
    return FirstMileShipment(
        id=number,
        campaign=campaign,
        status=str(status or ""),
        status_description=str(data.get("statusDescription") or "")[:500],
        plan_from=_moment(data["planIntervalFrom"]),
        plan_to=_moment(data["planIntervalTo"]),
        kind=str(data.get("shipmentType") or ""),
        order_ids=tuple(str(o) for o in orders if isinstance(o, int)),
        draft_count=_whole(data, "draftCount"),
        planned_count=_whole(data, "plannedCount"),
        fact_count=_whole(data, "factCount"),
        signed=bool(signature.get("signed")) if isinstance(signature, Mapping) else False,
        warehouse=_place(data.get("warehouse")),
        warehouse_to=_place(data.get("warehouseTo")),
        delivery_service=str(service.get("name") or "") if isinstance(service, Mapping) else "",
        external_id=str(data.get("externalId") or "")[:128],
        actions=tuple(str(a) for a in actions) if isinstance(actions, list) else None,
    )


def _campaign(campaign: str) -> str:
    if not campaign.isdigit() or len(campaign) > 19:
        raise MarketplaceRefused(marketplace=NAME, reason=f"campaign '{campaign}' is not a number")
    return campaign


class FirstMile:
    """A Market account's first-mile shipments, campaign by campaign."""

    def __init__(self, market: YandexMarket) -> None:
        self.market = market

    def shipments(
        self, campaign: str, since: date, until: date, *, orders: Sequence[str] = ()
    ) -> list[FirstMileShipment]:
        """The campaign's shipments planned from ``since`` to ``until`` (both included),
        only those holding one of ``orders`` when named; Market's cancelled orders are left
        out of each."""
        body: dict[str, Any] = {
            "dateFrom": since.isoformat(),
            "dateTo": until.isoformat(),
            "cancelledOrders": False,
        }
        if orders:
            body["orderIds"] = sorted({int(o) for o in orders if o.isdigit()})
        found = []
        for page in self._pages(_campaign(campaign), body):
            for data in page:
                try:
                    found.append(read_shipment(campaign, data))
                except (KeyError, ValueError, TypeError) as error:
                    raise MarketplaceUnavailable(
                        marketplace=NAME, reason=f"a shipment Potok cannot read: {error}"
                    ) from error
        return found

    def _pages(self, campaign: str, body: Mapping[str, Any]) -> Iterator[list[Mapping[str, Any]]]:
        token, given = "", set()
        path = PATHS["shipments"].format(campaign=campaign)
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if token:
                params["pageToken"] = token
            answer = self.market.send("PUT", path, json=body, params=params)
            result = answer.get("result")
            shipments = result.get("shipments") if isinstance(result, Mapping) else None
            if not isinstance(shipments, list):
                raise MarketplaceUnavailable(
                    marketplace=NAME, reason="no 'shipments' in the answer"
                )
            yield [s for s in shipments if isinstance(s, Mapping)]
            paging = result.get("paging") if isinstance(result, Mapping) else None
            token = str(paging.get("nextPageToken") or "") if isinstance(paging, Mapping) else ""
            if not token or token in given:
                return
            given.add(token)

    def shipment(self, campaign: str, shipment: int) -> FirstMileShipment:
        """One shipment with what the seller may do with it now (``availableActions``)."""
        path = PATHS["shipment"].format(campaign=_campaign(campaign), shipment=shipment)
        answer = self.market.send("GET", path, params={"cancelledOrders": "false"})
        result = answer.get("result")
        if not isinstance(result, Mapping):
            raise MarketplaceUnavailable(marketplace=NAME, reason="no 'result' in the answer")
        try:
            return read_shipment(campaign, result)
        except (KeyError, ValueError, TypeError) as error:
            raise MarketplaceUnavailable(
                marketplace=NAME, reason=f"a shipment Potok cannot read: {error}"
            ) from error

    def confirm(
        self, campaign: str, shipment: int, *, external_id: str = "", signatory: str = ""
    ) -> None:
        """Confirm the shipment (Market refuses before its cutoff, 400)."""
        body: dict[str, str] = {}
        if external_id:
            body["externalShipmentId"] = external_id
        if signatory:
            body["signatory"] = signatory
        path = PATHS["confirm"].format(campaign=_campaign(campaign), shipment=shipment)
        self.market.send("POST", path, json=body, safe=True)  # confirming twice is confirming

    def act(self, campaign: str, shipment: int) -> bytes:
        """The acceptance act of a confirmed shipment, a PDF."""
        path = PATHS["act"].format(campaign=_campaign(campaign), shipment=shipment)
        return self.market.document(path, PDF)

    def waybill(self, campaign: str, shipment: int) -> bytes:
        """The transport waybill when Market collects from the seller, an Excel file."""
        path = PATHS["waybill"].format(campaign=_campaign(campaign), shipment=shipment)
        return self.market.document(path, EXCEL)

    def transfer(self, campaign: str, shipment: int, orders: Sequence[str]) -> None:
        """Move these orders to the next shipment (Market does it within minutes)."""
        numbers = sorted({int(o) for o in orders if o.isdigit()})
        if not numbers or len(numbers) != len(set(orders)):
            raise MarketplaceRefused(marketplace=NAME, reason="name Market's order numbers")
        path = PATHS["transfer"].format(campaign=_campaign(campaign), shipment=shipment)
        for start in range(0, len(numbers), TRANSFER_AT_ONCE):
            chunk = numbers[start : start + TRANSFER_AT_ONCE]
            self.market.send("POST", path, json={"orderIds": chunk}, safe=True)
