"""Yandex Market's Partner API (FBS) as a local server, and Market's notifications sent from
it, in the formats of Market's published documents:

- requests are checked against ``specs/yandex-market-partner-subset.json`` (cut from
  Market's own OpenAPI document by ``make_yandex_market_subset.py``); the deprecated
  ``GET /v2/campaigns/{id}/orders`` and ``.../orders/{orderId}`` answer 410 and count as
  invalid requests;
- orders are ``BusinessOrderDTO`` listed by ``POST /v1/businesses/{businessId}/orders``,
  50 a page with an opaque ``pageToken``; statuses move as Market moves them (``PROCESSING``
  ``STARTED`` → ``READY_TO_SHIP`` only after the box layout, ``CANCELLED`` by the seller
  only before shipping); box layouts keep their marking codes (``instances[].cis``);
  labels are PDFs; stocks are kept per campaign and offer;
- errors are ``{"status": "ERROR", "errors": [{code, message}]}``; the rate limit is
  answered **420** with ``X-RateLimit-Resource-Until`` (an HTTP date), as Market does; a
  token it does not know is 401;
- :meth:`YandexMarketSimulator.notify` sends a notification the way Market does
  (``POST <URL>/notification``), the body checked against Market's notification document
  before it leaves and Potok's answer checked against the same document when it comes
  back (problems in :attr:`unfaithful`).
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.simulators.base import Answer, Bucket, SimulatedApi

SPEC = Path(__file__).parent / "specs" / "yandex-market-partner-subset.json"
NOTIFICATIONS = Path(__file__).parent / "specs" / "yandex-market-notification-api.yaml"
PAGE = 50
DEPRECATED = ("/orders",)
LABEL = b"%PDF-1.4\n% Yandex Market label (simulated)\n%%EOF\n"
ACT = b"%PDF-1.4\n% Yandex Market acceptance act (simulated)\n%%EOF\n"
WAYBILL = b"PK\x03\x04 Yandex Market transport waybill (simulated xlsx)"
SHIPMENTS_PAGE = 30
RETURNS_PAGE = 100


@cache
def notification_document() -> OpenAPI:
    """Market's notification document; the single-file bundle left the discriminator's
    ``mapping`` naming the original files (``./PingNotificationDTO.yaml``): they are
    pointed at the bundle's own schemas, nothing else changes."""
    spec = yaml.safe_load(NOTIFICATIONS.read_text(encoding="utf-8"))
    request = spec["components"]["schemas"]["SendNotificationRequest"]
    mapping = request["discriminator"]["mapping"]
    for kind, target in mapping.items():
        mapping[kind] = "#/components/schemas/" + target.removeprefix("./").removesuffix(".yaml")
    return OpenAPI.from_dict(spec)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class _Request:
    """A notification as openapi-core reads it, addressed to ``/notification``."""

    def __init__(self, body: bytes) -> None:
        self.host_url = "https://seller.example"
        self.path = "/notification"
        self.full_url_pattern = self.host_url + self.path
        self.method = "post"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl("")),
            header=Headers({"Content-Type": "application/json"}),
            cookie=ImmutableMultiDict(),
            path={},
        )
        self.body = body
        self.content_type = "application/json"


class _Response:
    def __init__(self, answer: httpx.Response) -> None:
        self.status_code = answer.status_code
        self.content_type = answer.headers.get("content-type", "").split(";")[0]
        self.headers = Headers(dict(answer.headers))
        self.data = answer.content


class YandexMarketSimulator(SimulatedApi):
    spec_path = str(SPEC)
    spec_host = "https://api.partner.market.yandex.ru"
    unauthorised_status = 401

    def __init__(self, business_id: str = "8880001", api_key: str = "ACMA:market-test-key") -> None:
        super().__init__(burst=40, interval_s=0.05)
        self.business_id, self.api_key = business_id, api_key
        self.campaigns = {21_000_001, 21_000_002}
        self.orders: dict[int, dict[str, Any]] = {}
        self.changed_at: dict[int, datetime] = {}
        self.boxes: dict[int, list[dict[str, Any]]] = {}
        self.stocks: dict[tuple[int, str], int] = {}  # (campaign, offerId) -> count
        self.cancellation_answers: dict[int, dict[str, Any]] = {}
        self.unfaithful: list[str] = []
        self.stuck_token = False  # every page names the same nextPageToken
        self._ids = itertools.count(51_000_001)
        self._items = itertools.count(7_700_001)
        self._tokens: dict[str, int] = {}
        self.buckets["stocks"] = Bucket(50, 1.2)
        self.shipments: dict[int, dict[str, Any]] = {}  # first-mile shipments by id
        self.transfers: list[tuple[int, list[int]]] = []  # (shipment, orders) transferred
        self.returns: dict[int, dict[str, Any]] = {}  # ReturnDTO by id
        self._shipment_ids = itertools.count(900_101)
        self._return_ids = itertools.count(3_300_001)

    # ------------------------------------------------------------------ the world changes

    def add_order(
        self,
        *,
        items: list[dict[str, Any]],
        campaign: int = 21_000_001,
        status: str = "PROCESSING",
        substatus: str = "STARTED",
        program: str = "FBS",
        marked: bool = False,
    ) -> int:
        """A customer orders; ``items`` are dicts with offerId, count, price (per unit)."""
        number = next(self._ids)
        now = datetime.now(UTC)
        lines = []
        for item in items:
            count = item.get("count", 1)
            total = float(item["price"]) * count
            line: dict[str, Any] = {
                "id": next(self._items),
                "offerId": item["offerId"],
                "offerName": item.get("name", item["offerId"]),
                "count": count,
                "prices": {
                    "payment": {"value": total, "currencyId": "RUR"},
                    "subsidy": {"value": round(total * 0.1, 2), "currencyId": "RUR"},
                },
            }
            if marked:
                line["requiredInstanceTypes"] = ["CIS"]
            lines.append(line)
        shipment_day = (now + timedelta(days=1)).date()
        self.orders[number] = {
            "orderId": number,
            "campaignId": campaign,
            "programType": program,
            "status": status,
            "substatus": substatus,
            "creationDate": _stamp(now),
            "updateDate": _stamp(now),
            "paymentType": "PREPAID",
            "paymentMethod": "YANDEX",
            "fake": False,
            "items": lines,
            "delivery": {
                "type": "DELIVERY",
                "serviceName": "Доставка Маркета",
                "deliveryServiceId": 1_005_486,
                "deliveryPartnerType": "YANDEX_MARKET",
                "dates": {"fromDate": (now + timedelta(days=3)).date().isoformat()},
                "shipment": {
                    "id": 900_001,
                    "shipmentDate": shipment_day.isoformat(),
                    "shipmentTime": "12:00:00",
                },
            },
            "cancelRequested": False,
        }
        self.changed_at[number] = now
        return number

    def set_status(self, number: int, status: str, substatus: str) -> None:
        with self.lock:
            self.orders[number]["status"] = status
            self.orders[number]["substatus"] = substatus
            self._touch(number)

    def request_cancellation(self, number: int) -> None:
        """The customer asks to cancel (``cancelRequested``)."""
        with self.lock:
            self.orders[number]["cancelRequested"] = True
            self._touch(number)

    def _touch(self, number: int) -> None:
        now = datetime.now(UTC)
        self.orders[number]["updateDate"] = _stamp(now)
        self.changed_at[number] = now

    def add_shipment(
        self,
        orders: list[int],
        *,
        campaign: int = 21_000_001,
        day: date | None = None,
        status: str = "OUTBOUND_READY_FOR_CONFIRMATION",
        kind: str = "IMPORT",
    ) -> int:
        """Market forms a first-mile shipment of these orders for ``day`` (tomorrow),
        12:00–14:00 Moscow time."""
        number = next(self._shipment_ids)
        day = day or days_from_now(1)
        with self.lock:
            self.shipments[number] = {
                "id": number,
                "campaignId": campaign,
                "planIntervalFrom": f"{day.isoformat()}T12:00:00+03:00",
                "planIntervalTo": f"{day.isoformat()}T14:00:00+03:00",
                "shipmentType": kind,
                "warehouse": {"id": 300_501, "name": "Склад продавца", "address": "Москва"},
                "warehouseTo": {"id": 48_339, "name": "СЦ Маркета Софьино"},
                "deliveryService": {"id": 1_005_486, "name": "Маркет Курьер"},
                "orderIds": list(orders),
                "draftCount": 0,
                "plannedCount": len(orders),
                "factCount": 0,
                "signature": {"signed": False},
                "status": status,
                "statusDescription": "Отгрузка сформирована",
                "statusUpdateTime": _stamp(datetime.now(UTC)),
            }
        return number

    def _actions(self, shipment: dict[str, Any]) -> list[str]:
        status = shipment["status"]
        if status == "OUTBOUND_READY_FOR_CONFIRMATION":
            return ["CONFIRM"]
        if status in ("OUTBOUND_CONFIRMED", "OUTBOUND_SIGNED"):
            found = ["DOWNLOAD_ACT"]
            if shipment["shipmentType"] == "WITHDRAW":
                found.append("DOWNLOAD_TRANSPORTATION_WAYBILL")
            return found
        return []

    def add_return(
        self,
        order: int,
        *,
        kind: str = "RETURN",
        items: list[dict[str, Any]] | None = None,
        refund_status: str = "STARTED_BY_USER",
        shipment_status: str = "CREATED",
        reason: str = "BAD_QUALITY",
    ) -> int:
        """The customer returns (or did not collect) items of ``order``: by default every
        item of the order; ``items`` are dicts with offerId and count."""
        number = next(self._return_ids)
        with self.lock:
            placed = self.orders[order]
            chosen = items or [
                {"offerId": i["offerId"], "count": i["count"]} for i in placed["items"]
            ]
            lines = []
            for item in chosen:
                line: dict[str, Any] = {"shopSku": item["offerId"], "count": item["count"]}
                if kind == "RETURN":
                    line["decisions"] = [{"count": item["count"], "reasonType": reason}]
                if item.get("cis"):
                    line["instances"] = [{"cis": c, "status": "CREATED"} for c in item["cis"]]
                lines.append(line)
            now = _stamp(datetime.now(UTC))
            self.returns[number] = {
                "id": number,
                "orderId": order,
                "creationDate": now,
                "updateDate": now,
                "refundStatus": refund_status,
                "shipmentStatus": shipment_status,
                "amount": {"value": 2490, "currencyId": "RUR"},
                "items": lines,
                "returnType": kind,
            }
        return number

    def move_return(
        self, number: int, *, refund_status: str | None = None, shipment_status: str | None = None
    ) -> None:
        with self.lock:
            found = self.returns[number]
            if refund_status:
                found["refundStatus"] = refund_status
            if shipment_status:
                found["shipmentStatus"] = shipment_status
            found["updateDate"] = _stamp(datetime.now(UTC))

    def stock_of(self, campaign: int, offer: str) -> int | None:
        with self.lock:
            return self.stocks.get((campaign, offer))

    # ------------------------------------------------------------------ notifications

    def notification(self, kind: str, number: int | None = None, **extra: Any) -> dict[str, Any]:
        """A notification as Market's document describes it."""
        now = _stamp(datetime.now(UTC))
        if kind == "PING":
            return {"notificationType": "PING", "time": now}
        assert number is not None
        order = self.orders.get(number)
        campaign = order["campaignId"] if order else 21_000_001
        items = [
            {"offerId": i["offerId"], "count": i["count"]} for i in (order or {}).get("items", [])
        ]
        body: dict[str, Any] = {"notificationType": kind, "orderId": number, "campaignId": campaign}
        if kind == "ORDER_CREATED":
            body.update(items=items, createdAt=now)
        elif kind == "ORDER_CANCELLED":
            body.update(items=items, cancelledAt=now)
        elif kind == "ORDER_STATUS_UPDATED":
            body.update(status=order["status"], substatus=order["substatus"], updatedAt=now)
        elif kind == "ORDER_CANCELLATION_REQUEST":
            body.update(requestedAt=now)
        elif kind == "ORDER_RETURN_CREATED":
            number_of = extra.pop("returnId", 1)
            made = self.returns.get(number_of)
            if made is not None:
                items = [{"offerId": i["shopSku"], "count": i["count"]} for i in made["items"]]
            body.update(
                returnId=number_of,
                returnType=made["returnType"] if made else "RETURN",
                items=items,
                createdAt=now,
            )
        elif kind == "ORDER_RETURN_STATUS_UPDATED":
            number_of = extra.pop("returnId", 1)
            made = self.returns.get(number_of) or {}
            statuses = {
                "refundStatus": made.get("refundStatus", "REFUND_IN_PROGRESS"),
                "shipmentStatus": made.get("shipmentStatus", "IN_TRANSIT"),
            }
            body.update(returnId=number_of, statuses=statuses, updatedAt=now)
        body.update(extra)
        return body

    def notify(self, url: str, body: Any, *, raw: bytes | None = None) -> httpx.Response:
        """Send a notification to the seller's URL the way Market does; a well-formed body
        is checked against Market's document first, and the answer always is."""
        payload = raw if raw is not None else json.dumps(body).encode()
        if raw is None:
            try:
                notification_document().validate_request(_Request(payload))
            except Exception as error:  # the simulator itself would not send it
                raise AssertionError(f"not a notification Market sends: {error}") from error
        answer = httpx.post(
            url.rstrip("/") + "/notification",
            content=payload,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        if answer.status_code in (200, 400, 500):
            try:
                notification_document().validate_response(_Request(payload), _Response(answer))
            except Exception as error:
                self.unfaithful.append(f"{answer.status_code} {answer.text[:200]}: {error}")
        return answer

    # ------------------------------------------------------------------ Market's manners

    def authorised(self, headers: dict[str, str]) -> bool:
        return headers.get("Api-Key") == self.api_key

    def family(self, path: str) -> str | None:
        return "stocks" if path.endswith("/offers/stocks") else None

    def retry_headers(self, seconds: float) -> dict[str, str]:
        until = datetime.now(UTC) + timedelta(seconds=max(1.0, seconds))
        return {"X-RateLimit-Resource-Until": format_datetime(until, usegmt=True)}

    def limit(self, times: int, retry_s: float = 1) -> None:
        """The next ``times`` requests are over Market's limit: 420, as Market answers."""
        for _ in range(times):
            self.faults.append(Answer(420, self.error_body(420), self.retry_headers(retry_s)))

    def error_body(self, status: int) -> Any:
        codes = {
            400: ("BAD_REQUEST", "Request is not valid"),
            401: ("UNAUTHORIZED", "Api-Key is missing or not valid"),
            404: ("NOT_FOUND", "Resource not found"),
            410: ("GONE", "The method is deprecated"),
            420: ("HIT_RATE_LIMIT", "Hit rate limit of 10000 requests per hour"),
        }
        code, message = codes.get(status, ("INTERNAL_ERROR", "Internal server error"))
        return {"status": "ERROR", "errors": [{"code": code, "message": message}]}

    def _error(self, status: int, code: str, message: str) -> Answer:
        return Answer(status, {"status": "ERROR", "errors": [{"code": code, "message": message}]})

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        path = target.split("?", 1)[0]
        parts = path.strip("/").split("/")
        if (
            method == "GET"
            and parts[:2] == ["v2", "campaigns"]
            and parts[3:4] == ["orders"]
            and (len(parts) == 4 or (len(parts) == 5 and parts[4].isdigit()))
        ):
            with self.lock:  # getOrders / getOrder: deprecated in Market's document
                self.invalid.append(f"{method} {path}: a deprecated method")
            return Answer(410, self.error_body(410))
        return super().answer(method, target, headers, raw)

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        parts = path.strip("/").split("/")
        if path == f"/v1/businesses/{self.business_id}/orders":
            return self._list(dict(parse_qsl(query)), body or {})
        if parts[:2] != ["v2", "campaigns"] or not parts[2].isdigit():
            return Answer(404, self.error_body(404))
        campaign = int(parts[2])
        if campaign not in self.campaigns:
            return self._error(403, "FORBIDDEN", f"campaign {campaign} is not the seller's")
        rest = parts[3:]
        if rest[:2] == ["first-mile", "shipments"]:
            return self._first_mile(method, campaign, rest[2:], dict(parse_qsl(query)), body)
        if rest == ["returns"] and method == "GET":
            return self._returns(campaign, dict(parse_qsl(query)))
        if len(rest) == 4 and rest[0] == "orders" and rest[2] == "returns" and method == "GET":
            found = self.returns.get(int(rest[3]))
            order = self.orders.get(int(rest[1]))
            if found is None or order is None or found["orderId"] != order["orderId"]:
                return self._error(404, "NOT_FOUND", f"return {rest[3]} not found")
            if order["campaignId"] != campaign:
                return self._error(404, "NOT_FOUND", f"return {rest[3]} not found")
            return Answer(200, {"status": "OK", "result": found})
        if rest == ["offers", "stocks"] and method == "PUT":
            return self._stocks(campaign, body)
        if rest == ["orders", "status-update"]:
            return self._statuses(campaign, body)
        if len(rest) >= 3 and rest[0] == "orders" and rest[1].isdigit():
            order = self.orders.get(int(rest[1]))
            if order is None or order["campaignId"] != campaign:
                return self._error(404, "ORDER_NOT_FOUND", f"order {rest[1]} not found")
            what = rest[2:]
            if what == ["status"]:
                return self._status(order, body["order"])
            if what == ["boxes"]:
                return self._boxes(order, body)
            if what == ["cancellation", "accept"]:
                return self._cancellation(order, body)
            if what == ["delivery", "labels"]:
                if order["status"] != "PROCESSING" or order["substatus"] != "READY_TO_SHIP":
                    return self._error(400, "BAD_REQUEST", "labels are for orders ready to ship")
                return Answer(200, LABEL, {"Content-Type": "application/pdf"})
        return Answer(404, self.error_body(404))

    def _first_mile(
        self,
        method: str,
        campaign: int,
        rest: list[str],
        params: dict[str, str],
        body: Any,
    ) -> Answer:
        if not rest and method == "PUT":  # searchShipments
            low, high = date.fromisoformat(body["dateFrom"]), date.fromisoformat(body["dateTo"])
            found = [
                s
                for s in sorted(self.shipments.values(), key=lambda s: s["id"])
                if s["campaignId"] == campaign
                and low <= date.fromisoformat(s["planIntervalFrom"][:10]) <= high
                and (not body.get("orderIds") or set(body["orderIds"]) & set(s["orderIds"]))
            ]
            start = int(params.get("pageToken", "0") or 0)
            limit = min(int(params.get("limit", SHIPMENTS_PAGE)), SHIPMENTS_PAGE)
            page = found[start : start + limit]
            result: dict[str, Any] = {
                "shipments": [
                    {k: v for k, v in s.items() if k not in ("campaignId",)} for s in page
                ]
            }
            if start + limit < len(found):
                result["paging"] = {"nextPageToken": str(start + limit)}
            return Answer(200, {"status": "OK", "result": result})
        shipment = self.shipments.get(int(rest[0])) if rest and rest[0].isdigit() else None
        if shipment is None or shipment["campaignId"] != campaign:
            return self._error(404, "NOT_FOUND", "shipment not found")
        what = rest[1:]
        if not what and method == "GET":
            shown = {
                k: v
                for k, v in shipment.items()
                if k not in ("campaignId", "status", "statusDescription", "statusUpdateTime")
            }
            shown["currentStatus"] = {
                "status": shipment["status"],
                "updateTime": shipment["statusUpdateTime"],
            }
            shown["availableActions"] = self._actions(shipment)
            return Answer(200, {"status": "OK", "result": shown})
        if what == ["confirm"] and method == "POST":
            if "CONFIRM" not in self._actions(shipment):
                if shipment["status"] in ("OUTBOUND_CONFIRMED", "OUTBOUND_SIGNED"):
                    return Answer(200, {"status": "OK"})  # confirmed already
                return self._error(
                    400, "BAD_REQUEST", "Cutoff time for shipments has not been reached yet"
                )
            with self.lock:
                shipment["status"] = "OUTBOUND_CONFIRMED"
                shipment["statusDescription"] = "Отгрузка подтверждена"
                shipment["statusUpdateTime"] = _stamp(datetime.now(UTC))
                if (body or {}).get("externalShipmentId"):
                    shipment["externalId"] = body["externalShipmentId"]
            return Answer(200, {"status": "OK"})
        if what == ["act"] and method == "GET":
            if "DOWNLOAD_ACT" not in self._actions(shipment):
                return self._error(400, "BAD_REQUEST", "confirm the shipment first")
            return Answer(200, ACT, {"Content-Type": "application/pdf"})
        if what == ["transportation-waybill"] and method == "GET":
            if "DOWNLOAD_TRANSPORTATION_WAYBILL" not in self._actions(shipment):
                return self._error(400, "BAD_REQUEST", "no waybill: the seller brings the parcels")
            return Answer(200, WAYBILL, {"Content-Type": "application/vnd.ms-excel"})
        if what == ["orders", "transfer"] and method == "POST":
            if shipment["status"] not in ("OUTBOUND_CREATED", "OUTBOUND_READY_FOR_CONFIRMATION"):
                return self._error(400, "BAD_REQUEST", "the shipment is confirmed already")
            moved = list(body["orderIds"])
            if not set(moved) <= set(shipment["orderIds"]):
                return self._error(400, "BAD_REQUEST", "an order is not in the shipment")
            with self.lock:
                shipment["orderIds"] = [o for o in shipment["orderIds"] if o not in moved]
                shipment["plannedCount"] = len(shipment["orderIds"])
                self.transfers.append((shipment["id"], moved))
            later = date.fromisoformat(shipment["planIntervalFrom"][:10]) + timedelta(days=1)
            self.add_shipment(moved, campaign=campaign, day=later, status="OUTBOUND_CREATED")
            return Answer(200, {"status": "OK"})
        return Answer(404, self.error_body(404))

    def _returns(self, campaign: int, params: dict[str, str]) -> Answer:
        low = date.fromisoformat(params["fromDate"]) if params.get("fromDate") else date.min
        high = date.fromisoformat(params["toDate"]) if params.get("toDate") else date.max
        found = [
            r
            for r in sorted(self.returns.values(), key=lambda r: r["id"])
            if self.orders[r["orderId"]]["campaignId"] == campaign
            and low <= _moment(r["updateDate"]).date() <= high
            and (not params.get("type") or r["returnType"] == params["type"])
        ]
        start = int(params.get("pageToken", "0") or 0)
        limit = min(int(params.get("limit", RETURNS_PAGE)), RETURNS_PAGE)
        result: dict[str, Any] = {"returns": found[start : start + limit]}
        if start + limit < len(found):
            result["paging"] = {"nextPageToken": str(start + limit)}
        return Answer(200, {"status": "OK", "result": result})

    def _list(self, params: dict[str, str], body: dict[str, Any]) -> Answer:
        found = sorted(self.orders.values(), key=lambda o: o["orderId"])
        if body.get("orderIds"):
            wanted = set(body["orderIds"])
            found = [o for o in found if o["orderId"] in wanted]
        if body.get("programTypes"):
            found = [o for o in found if o["programType"] in body["programTypes"]]
        if body.get("statuses"):
            found = [o for o in found if o["status"] in body["statuses"]]
        if body.get("substatuses"):
            found = [o for o in found if o["substatus"] in body["substatuses"]]
        dates = body.get("dates") or {}
        if dates.get("updateDateFrom"):
            low = _moment(dates["updateDateFrom"])
            found = [o for o in found if self.changed_at[o["orderId"]] >= low]
        if dates.get("updateDateTo"):
            high = _moment(dates["updateDateTo"])
            found = [o for o in found if self.changed_at[o["orderId"]] <= high]
        start = self._tokens.get(params.get("pageToken", ""), 0) if params.get("pageToken") else 0
        limit = min(int(params.get("limit", PAGE)), PAGE)
        page = found[start : start + limit]
        answer: dict[str, Any] = {"orders": page}
        if start + limit < len(found):
            token = "stuck" if self.stuck_token else f"t{start + limit}"
            self._tokens[token] = start + limit
            answer["paging"] = {"nextPageToken": token}
        return Answer(200, answer)

    def _status(self, order: dict[str, Any], change: dict[str, Any]) -> Answer:
        status, substatus = change["status"], change.get("substatus")
        if status == "CANCELLED":
            if order["status"] != "PROCESSING" or order["substatus"] == "SHIPPED":
                return self._error(
                    400, "STATUS_NOT_ALLOWED", "the order can no longer be cancelled"
                )
            self.set_status(order["orderId"], "CANCELLED", substatus or "SHOP_FAILED")
            return Answer(200, {"order": self._brief(order)})
        failure = self._move(order, status, substatus)
        if failure:
            return self._error(400, "STATUS_NOT_ALLOWED", failure)
        return Answer(200, {"order": self._brief(order)})

    def _brief(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"id": order["orderId"], "status": order["status"], "substatus": order["substatus"]}

    def _move(self, order: dict[str, Any], status: str, substatus: str | None) -> str | None:
        if status != "PROCESSING" or substatus not in ("READY_TO_SHIP", "SHIPPED"):
            return f"the seller cannot set {status}/{substatus}"
        if order["status"] != "PROCESSING":
            return f"the order is {order['status']}"
        if substatus == "READY_TO_SHIP" and order["orderId"] not in self.boxes:
            return "lay the order out in boxes first (setOrderBoxLayout)"
        if substatus == "READY_TO_SHIP" and order["substatus"] not in ("STARTED", "READY_TO_SHIP"):
            return f"the order is {order['substatus']}"
        self.set_status(order["orderId"], "PROCESSING", substatus)
        return None

    def _statuses(self, campaign: int, body: dict[str, Any]) -> Answer:
        results = []
        for change in body["orders"]:
            order = self.orders.get(change["id"])
            if order is None or order["campaignId"] != campaign:
                results.append(
                    {"id": change["id"], "updateStatus": "ERROR", "errorDetails": "order not found"}
                )
                continue
            failure = self._move(order, change["status"], change.get("substatus"))
            result = {**self._brief(order), "updateStatus": "ERROR" if failure else "OK"}
            if failure:
                result["errorDetails"] = failure
            results.append(result)
        return Answer(200, {"status": "OK", "result": {"orders": results}})

    def _boxes(self, order: dict[str, Any], body: dict[str, Any]) -> Answer:
        if order["status"] != "PROCESSING" or order["substatus"] not in (
            "STARTED",
            "READY_TO_SHIP",
        ):
            return self._error(400, "BAD_REQUEST", f"the order is {order['status']}")
        ids = {i["id"]: i for i in order["items"]}
        laid: dict[int, int] = {}
        for box in body["boxes"]:
            for item in box["items"]:
                line = ids.get(item["id"])
                if line is None:
                    return self._error(400, "BAD_REQUEST", f"item {item['id']} is not in the order")
                count = item.get("fullCount", 1)
                laid[item["id"]] = laid.get(item["id"], 0) + count
                cises = [i.get("cis") for i in item.get("instances") or () if i.get("cis")]
                if line.get("requiredInstanceTypes") and len(cises) != count:
                    return self._error(
                        400, "BAD_REQUEST", f"item {item['id']} needs {count} marking codes (cis)"
                    )
        if any(laid.get(i, 0) != line["count"] for i, line in ids.items()):
            return self._error(400, "BAD_REQUEST", "the boxes must hold every item of the order")
        self.boxes[order["orderId"]] = body["boxes"]
        result = {
            "boxes": [
                {"boxId": 80_000 + n, "items": box["items"]} for n, box in enumerate(body["boxes"])
            ]
        }
        return Answer(200, {"status": "OK", "result": result})

    def _cancellation(self, order: dict[str, Any], body: dict[str, Any]) -> Answer:
        if not order.get("cancelRequested"):
            return self._error(400, "BAD_REQUEST", "the customer did not ask to cancel")
        self.cancellation_answers[order["orderId"]] = body
        order["cancelRequested"] = False
        if body["accepted"]:
            self.set_status(order["orderId"], "CANCELLED", "USER_CHANGED_MIND")
        else:
            self._touch(order["orderId"])
        return Answer(200, {"status": "OK"})

    def _stocks(self, campaign: int, body: dict[str, Any]) -> Answer:
        for sku in body["skus"]:
            self.stocks[(campaign, sku["sku"])] = sku["items"][0]["count"]
        return Answer(200, {"status": "OK"})


def days_from_now(days: int) -> date:
    return (datetime.now(UTC) + timedelta(days=days)).date()
