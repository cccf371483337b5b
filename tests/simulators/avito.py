"""Avito's order-management, stock-management and token APIs as a local server, in the
formats of Avito's published documents (``specs/avito/``, copied unchanged from
``../shared/specs/avito/``):

- every request is checked against the document of its path; ``stock-management.json``
  carries one known defect (``securitySchemes.AuthorizationCode...scopes`` is ``null``, an
  object is required), mended when it is loaded, as the specs' README says;
- ``POST /token`` (``client_credentials``, form-encoded) hands out a bearer token that the
  other paths require (401 ``{code, message}`` otherwise; :meth:`AvitoSimulator.expire`
  makes the current token stale);
- orders move as Avito moves them: ``on_confirmation`` → ``confirm`` → ``ready_to_ship``,
  ``reject`` → ``canceled``; listed 20 a page with ``hasMore``; codes per listing
  (29-129 characters each); label tasks whose PDF downloads once generated;
- stock set per listing (``item_id``), 200 a request, answered item by item;
- a 429 names no wait (the client backs off by itself).
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from openapi_core import OpenAPI

from tests.simulators.base import Answer, Bucket, SimulatedApi, openapi

SPECS = Path(__file__).parent / "specs" / "avito"
LABEL = b"%PDF-1.4\n% Avito label (simulated)\n%%EOF\n"


@cache
def _stock_document() -> OpenAPI:
    """``stock-management.json`` with its one defect mended (``scopes: null`` → ``{}``)."""
    spec = json.loads((SPECS / "stock-management.json").read_text(encoding="utf-8"))
    flows = spec["components"]["securitySchemes"]["AuthorizationCode"]["flows"]
    flows["authorizationCode"]["scopes"] = flows["authorizationCode"]["scopes"] or {}
    return OpenAPI.from_dict(spec)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AvitoSimulator(SimulatedApi):
    spec_path = str(SPECS / "order-management.json")
    spec_host = "https://api.avito.ru"
    unauthorised_status = 401

    def __init__(self, client_id: str = "avito-client") -> None:
        super().__init__(burst=50, interval_s=0.02)
        self.client_id = client_id
        self.secret = "avito-" + "client-secret"  # what the seller's settings show
        self.tokens: set[str] = set()
        self._token_ids = itertools.count(1)
        self._ids = itertools.count(70_000_000_000_000_001)
        self.orders: dict[str, dict[str, Any]] = {}
        self.transitions: list[tuple[str, str]] = []
        self.markings: dict[tuple[str, str], list[str]] = {}  # (order, listing) -> codes
        self.tasks: dict[str, list[str]] = {}
        self.stocks: dict[int, int] = {}  # listing -> quantity
        self.listings: set[int] = set()  # the seller's listings: others' stock is refused
        self.tracking: dict[str, str] = {}  # order -> tracking number (DBS)
        self.courier_visits: dict[str, dict[str, Any]] = {}  # order -> the chosen interval
        self.pickup_details: dict[str, dict[str, Any]] = {}  # order -> cncSetDetails body
        self.buckets["stocks"] = Bucket(100, 0.6)
        self.kinds: dict[str, str] = {}  # order -> pvz, dbs, courier or cnc

    # ------------------------------------------------------------------ the world changes

    def add_order(
        self,
        *,
        items: list[dict[str, Any]],
        status: str = "on_confirmation",
        service: str = "pvz",
    ) -> str:
        """A customer buys; ``items`` are dicts with avitoId, count, price, and the seller's
        own ``id`` when the listing has one. ``service``: ``pvz`` (Avito's delivery),
        ``dbs`` (the seller's partner carries it: a tracking number is wanted), ``courier``
        (Avito's courier collects it at an interval the seller chooses), ``cnc`` (the
        customer collects it from the seller)."""
        number = str(next(self._ids))
        now = datetime.now(UTC)
        self.orders[number] = {
            "id": number,
            "marketplaceId": number,
            "status": status,
            "createdAt": _stamp(now),
            "updatedAt": _stamp(now),
            "items": [
                {
                    "avitoId": str(i["avitoId"]),
                    **({"id": i["id"]} if i.get("id") else {}),
                    "title": i.get("title", f"Listing {i['avitoId']}"),
                    "count": i.get("count", 1),
                    "prices": {
                        "price": i["price"],
                        "total": i["price"] * i.get("count", 1),
                        "commission": 0,
                        "discountSum": 0,
                    },
                    "location": "Москва",
                }
                for i in items
            ],
            "prices": {"price": sum(i["price"] * i.get("count", 1) for i in items), "total": 0},
            "delivery": {
                "serviceType": {"courier": "pvz", "cnc": "rdbs"}.get(service, service),
                "serviceName": "Авито Доставка",
                "dispatchNumber": f"D{number[-8:]}",
                "trackingNumber": f"T{number[-8:]}",
            },
            "schedules": {
                "confirmTill": _stamp(now + timedelta(hours=24)),
                "shipTill": _stamp(now + timedelta(days=2)),
            },
            "availableActions": [{"name": "confirm", "required": True}, {"name": "reject"}],
        }
        self.kinds[number] = service
        return number

    def _actions(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """What the seller may do with the order now, as Avito lists them."""
        kind, status, number = self.kinds[order["id"]], order["status"], order["id"]
        if status == "on_confirmation":
            return [{"name": "confirm", "required": True}, {"name": "reject"}]
        if status != "ready_to_ship":
            return []
        found: list[dict[str, Any]] = [{"name": "reject"}]
        if kind == "dbs" and number not in self.tracking:
            found.append({"name": "setTrackNumber", "required": True})
        if kind == "cnc" and number not in self.pickup_details:
            found.append({"name": "setCNCDetails", "required": True})
        return found

    def set_status(self, number: str, status: str) -> None:
        with self.lock:
            self.orders[number]["status"] = status
            self.orders[number]["updatedAt"] = _stamp(datetime.now(UTC))

    def expire(self) -> None:
        """Every token handed out so far is stale (Avito's live a day)."""
        with self.lock:
            self.tokens.clear()

    # ------------------------------------------------------------------ Avito's manners

    def document(self, path: str) -> OpenAPI:
        if path == "/token":
            return openapi(str(SPECS / "auth.json"))
        if path.startswith("/stock-management/"):
            return _stock_document()
        return openapi(self.spec_path)

    def authorised(self, headers: dict[str, str]) -> bool:
        """A bearer token ``/token`` handed out; ``/token`` itself comes without one (and
        every other path's document requires the header, so a missing one is invalid)."""
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if given is None:
            return True
        with self.lock:
            return given.removeprefix("Bearer ") in self.tokens

    def family(self, path: str) -> str | None:
        return "stocks" if path.startswith("/stock-management/") else None

    def retry_headers(self, seconds: float) -> dict[str, str]:
        return {}

    def error_body(self, status: int) -> Any:
        words = {
            400: "bad request",
            401: "unauthorized",
            404: "not found",
            429: "too many requests",
        }
        return {"code": status, "message": words.get(status, "internal error")}

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        if path == "/token":
            if (body or {}).get("client_id") != self.client_id or body.get(
                "client_secret"
            ) != self.secret:
                return Answer(401, self.error_body(401))
            token = f"token-{next(self._token_ids)}"
            self.tokens.add(token)
            return Answer(200, {"access_token": token, "expires_in": 86400, "token_type": "Bearer"})
        if path == "/order-management/1/orders":
            return self._list(parse_qsl(query))
        if path == "/order-management/1/order/applyTransition":
            return self._transition(body)
        if path == "/order-management/1/markings":
            return self._markings(body)
        if path == "/order-management/1/orders/labels":
            task = f"task-{len(self.tasks) + 1}"
            self.tasks[task] = list(body["orderIDs"])
            return Answer(200, {"taskID": task})
        if path.startswith("/order-management/1/orders/labels/") and path.endswith("/download"):
            task = path.split("/")[-2]
            if task not in self.tasks:
                return Answer(404, self.error_body(404))
            return Answer(200, LABEL, {"Content-Type": "application/pdf"})
        if path == "/stock-management/1/stocks":
            return self._stocks(body)
        if path == "/order-management/1/order/setTrackingNumber":
            return self._tracking(body)
        if path == "/order-management/1/order/getCourierDeliveryRange":
            return self._courier_ranges(dict(parse_qsl(query)))
        if path == "/order-management/1/order/setCourierDeliveryRange":
            return self._courier_range(body)
        if path == "/order-management/1/order/cncSetDetails":
            return self._pickup(body)
        return Answer(404, self.error_body(404))

    def _tracking(self, body: dict[str, Any]) -> Answer:
        order = self.orders.get(body.get("orderId") or "")
        if order is None:
            return Answer(404, self.error_body(404))
        number = body.get("trackingNumber") or ""
        if self.kinds[order["id"]] != "dbs" or order["status"] != "ready_to_ship":
            return Answer(400, {"code": 400, "message": "the order takes no tracking number"})
        if not re.fullmatch(r"[A-Z0-9-]{6,40}", number):
            error = {"code": "incorrect_number", "message": "Некорректный трек-номер"}
            return Answer(200, {"success": False, "error": error})
        if any(n == number and o != order["id"] for o, n in self.tracking.items()):
            error = {"code": "already_set", "message": "Трек-номер уже зарегистрирован"}
            return Answer(200, {"success": False, "error": error})
        with self.lock:
            self.tracking[order["id"]] = number
        return Answer(200, {"success": True})

    def offered_intervals(self) -> list[tuple[str, str]]:
        """The courier's intervals Avito offers: tomorrow 10-14 and 14-18, Moscow time."""
        day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        return [
            (f"{day}T07:00:00Z", f"{day}T11:00:00Z"),
            (f"{day}T11:00:00Z", f"{day}T15:00:00Z"),
        ]

    def _courier_ranges(self, params: dict[str, str]) -> Answer:
        order = self.orders.get(params.get("orderId", ""))
        if order is None or self.kinds[order["id"]] != "courier":
            return Answer(400, {"code": 400, "message": "no courier for this order"})
        offered = self.offered_intervals()
        result = {
            "address": params.get("address") or "Москва, Складская 1",
            "name": "Продавец",
            "phone": "+79990000000",
            "startDate": offered[0][0],
            "endDate": offered[-1][1],
            "dateOptions": [
                {
                    "date": offered[0][0][:10] + "T00:00:00Z",
                    "timeIntervals": [
                        {
                            "startDate": a,
                            "endDate": b,
                            "title": f"{a[11:16]}-{b[11:16]}",
                            "type": "fixed",
                        }
                        for a, b in offered
                    ],
                }
            ],
        }
        return Answer(200, {"status": "ok", "result": result})

    def _courier_range(self, body: dict[str, Any]) -> Answer:
        order = self.orders.get(body["orderId"])
        if order is None or self.kinds[order["id"]] != "courier":
            return Answer(400, {"code": 400, "message": "no courier for this order"})
        chosen = (body["startDate"], body["endDate"])
        if body["intervalType"] == "fixed" and chosen not in self.offered_intervals():
            return Answer(200, {"success": False})
        with self.lock:
            self.courier_visits[order["id"]] = dict(body)
        return Answer(200, {"success": True})

    def _pickup(self, body: dict[str, Any]) -> Answer:
        order = self.orders.get(body["id"])
        if order is None or self.kinds[order["id"]] != "cnc":
            return Answer(400, {"code": 400, "message": "not a click-and-collect order"})
        if body["marketplaceId"] != order["marketplaceId"] or body["bookingPeriod"] < 1:
            return Answer(200, {"status": "error", "result": {"success": False}})
        with self.lock:
            self.pickup_details[order["id"]] = dict(body)
        return Answer(200, {"status": "ok", "result": {"success": True}})

    def _list(self, params: list[tuple[str, str]]) -> Answer:
        statuses = {v for k, v in params if k == "statuses"}
        ids = {v for k, v in params if k == "ids"}
        named = dict(params)
        page, limit = int(named.get("page", 1)), int(named.get("limit", 20))
        found = [
            o
            for o in self.orders.values()
            if (not statuses or o["status"] in statuses) and (not ids or o["id"] in ids)
        ]
        start = (page - 1) * limit
        chosen = [{**o, "availableActions": self._actions(o)} for o in found[start : start + limit]]
        return Answer(200, {"orders": chosen, "hasMore": start + limit < len(found)})

    def _transition(self, body: dict[str, Any]) -> Answer:
        order = self.orders.get(body["orderId"])
        if order is None:
            return Answer(404, self.error_body(404))
        transition = body["transition"]
        self.transitions.append((body["orderId"], transition))
        moves = {
            ("on_confirmation", "confirm"): "ready_to_ship",
            ("on_confirmation", "reject"): "canceled",
            ("ready_to_ship", "reject"): "canceled",
        }
        after = moves.get((order["status"], transition))
        if after is None:
            return Answer(400, {"code": 400, "message": f"{transition} from {order['status']}"})
        self.set_status(order["id"], after)
        return Answer(200, {"success": True})

    def _markings(self, body: dict[str, Any]) -> Answer:
        results = []
        for entry in body["markings"]:
            order = self.orders.get(entry["orderId"])
            listings = {i["avitoId"] for i in (order or {}).get("items", ())}
            ok = order is not None and entry["itemId"] in listings
            if ok:
                kept = self.markings.setdefault((entry["orderId"], entry["itemId"]), [])
                kept.extend(entry["markings"])
            results.append(
                {
                    "orderId": entry["orderId"],
                    "itemId": entry["itemId"],
                    "success": ok,
                    "error": None if ok else "the listing is not in the order",
                }
            )
        return Answer(200, {"results": results})

    def _stocks(self, body: dict[str, Any]) -> Answer:
        answers = []
        for stock in body["stocks"]:
            item = stock["item_id"]
            if self.listings and item not in self.listings:
                answers.append({"item_id": item, "success": False, "errors": ["item not found"]})
                continue
            self.stocks[item] = stock["quantity"]
            answers.append({"item_id": item, "success": True, "errors": []})
        return Answer(200, {"stocks": answers})
