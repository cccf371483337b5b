"""RetailCRM API v5 as a local server: managers create orders and change their statuses,
which the account's order history records; Potok reads the history, the orders, their
statuses, sets statuses and uploads store stock - in RetailCRM's formats.

RetailCRM publishes no OpenAPI document, so the requests are checked here the way its API
describes them: the key in the ``X-API-KEY`` header, ``limit`` of 20, 50 or 100, POST
bodies ``application/x-www-form-urlencoded`` with the nested object as a JSON string
(``order=<json>``, ``offers=<json>``), ``by=id`` when an order is named by its CRM id, at
most 500 orders in a statuses request and 250 offers in an inventories upload. Orders and
history records are shaped after the real answers in ``specs/retailcrm/``; refusals are
``{success: false, errorMsg, errors: {field: reason}}`` with the statuses RetailCRM uses
(400, 403 for a wrong key, 404), and going over the limit of 10 requests a second is
answered 503 ``Rate limit exceeded``.
"""

from __future__ import annotations

import copy
import itertools
import json
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from tests.simulators.base import Answer, SimulatedApi

SPECS = Path(__file__).parent / "specs" / "retailcrm"
MOSCOW = ZoneInfo("Europe/Moscow")
LIMITS = {"20", "50", "100"}


@cache
def fixture(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((SPECS / name).read_text(encoding="utf-8"))
    return result


def status_groups() -> dict[str, str]:
    """The account's statuses and their groups, as the real reference answer lists them."""
    statuses = fixture("v5_reference_statuses.response.json")["statuses"]
    return {s["code"]: s["group"] for s in statuses.values()}


class RetailCrmSimulator(SimulatedApi):
    unauthorised_status = 403

    def __init__(self, api_key: str = "crm-test-key", *, site: str = "shop") -> None:
        super().__init__(burst=10, interval_s=0.1)
        self.api_key = api_key
        self.site = site
        self.orders: dict[int, dict[str, Any]] = {}
        self.history: list[dict[str, Any]] = []
        self.groups = status_groups()
        self.offers: set[int] = set()  # offers the account has (others: notFoundOffers)
        self.stores = {"main"}
        self.inventory: dict[tuple[int, str], int] = {}  # (offer id, store) -> available
        self._orders = itertools.count(6722)
        self._records = itertools.count(7038)
        self._clock = datetime(2026, 12, 7, 10, 0, tzinfo=MOSCOW)

    # ------------------------------------------------------------------ the world changes

    def _now(self) -> str:
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%d %H:%M:%S")

    def add_order(
        self,
        items: list[dict[str, Any]],
        *,
        site: str | None = None,
        status: str = "new",
        store: str | None = None,
        city: str = "Ростов-на-Дону",
        comment: str | None = None,
    ) -> int:
        """A manager creates an order; ``items`` are ``{offer: {id, externalId, ...},
        quantity, initialPrice, discountTotal?}``. The history records it (``created``)."""
        order = copy.deepcopy(fixture("v5_orders_get.response.json")["order"])
        order_id = next(self._orders)
        at = self._now()
        order.update(
            id=order_id,
            slug=order_id,
            number=f"{order_id}A",
            site=site or self.site,
            status=status,
            createdAt=at,
            statusUpdatedAt=at,
            currency="RUB",
            customerComment=comment,
            items=[
                {
                    "id": order_id * 10 + n,
                    "quantity": item["quantity"],
                    "initialPrice": item["initialPrice"],
                    "discountTotal": item.get("discountTotal", 0),
                    "offer": {"name": item["offer"].get("name", "Товар"), **item["offer"]},
                    "status": "new",
                    "properties": [],
                    "purchasePrice": 0,
                    "createdAt": at,
                }
                for n, item in enumerate(items, start=1)
            ],
        )
        order.pop("externalId", None)  # made in the CRM: nobody outside named it
        order["delivery"] = {
            "cost": 0,
            "netCost": 0,
            "address": {"countryIso": "RU", "city": city, "text": "ул. Большая Садовая, 1"},
        }
        if store:
            order["shipmentStore"] = store
        else:
            order.pop("shipmentStore", None)
        with self.lock:
            self.orders[order_id] = order
            self._record(order, "status", None, {"code": status}, created=True)
        return order_id

    def set_status(self, order_id: int, status: str, *, by_us: bool = False) -> None:
        """A manager (or Potok's key, ``by_us``) moves an order to ``status``."""
        with self.lock:
            order = self.orders[order_id]
            old = order["status"]
            order["status"] = status
            order["statusUpdatedAt"] = self._now()
            self._record(order, "status", {"code": old}, {"code": status}, current=by_us)

    def _record(
        self,
        order: dict[str, Any],
        field: str,
        old: Any,
        new: Any,
        *,
        created: bool = False,
        current: bool = False,
    ) -> None:
        record: dict[str, Any] = {
            "id": next(self._records),
            "createdAt": self._now(),
            "source": "api" if current else "user",
            "field": field,
            "apiKey": {"current": current},
            "oldValue": old,
            "newValue": new,
        }
        if created:
            record["created"] = True
            record["order"] = copy.deepcopy(order)
        else:
            record["order"] = {"id": order["id"], "site": order["site"], "status": order["status"]}
        self.history.append(record)

    def status_of(self, order_id: int) -> str:
        with self.lock:
            return str(self.orders[order_id]["status"])

    # ------------------------------------------------------------------ RetailCRM's manners

    def authorised(self, headers: dict[str, str]) -> bool:
        return _header(headers, "X-API-KEY") == self.api_key

    def error_body(self, status: int) -> Any:
        words = {
            400: "Parameters are invalid",
            403: 'Wrong "apiKey" value.',
            404: "Not found",
            429: "Rate limit exceeded",
            503: "Rate limit exceeded",
        }
        return {"success": False, "errorMsg": words.get(status, "Internal server error")}

    def throttle(self, times: int) -> None:
        """The next ``times`` requests are answered as over RetailCRM's limit."""
        for _ in range(times):
            self.faults.append(Answer(503, self.error_body(503)))

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        found = super().answer(method, target, headers, raw)
        if found.status == 429:  # the base keeps the limit; RetailCRM answers it 503
            return Answer(503, self.error_body(503))
        return found

    def _validate(
        self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes
    ) -> str | None:
        where = f"{method} {path}"
        params = parse_qs(query, keep_blank_values=True)
        if not path.startswith("/api/v5/"):
            return f"{where}: not an API v5 path"
        if "apiKey" in params:
            return f"{where}: the key went in the query string instead of X-API-KEY"
        if "limit" in params and params["limit"][-1] not in LIMITS:
            return f"{where}: limit must be 20, 50 or 100, not {params['limit'][-1]}"
        if method == "POST":
            kind = _header(headers, "Content-Type") or ""
            if not kind.startswith("application/x-www-form-urlencoded"):
                return f"{where}: the body must be form-encoded, not {kind or 'missing'}"
            form = parse_qs(raw.decode(), keep_blank_values=True)
            for name in ("order", "offers"):
                if name in form:
                    try:
                        json.loads(form[name][-1])
                    except ValueError:
                        return f"{where}: '{name}' is not a JSON string"
        return None

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        params = parse_qs(query, keep_blank_values=True)
        if (method, path) == ("GET", "/api/v5/orders/history"):
            return self._history(params)
        if (method, path) == ("GET", "/api/v5/orders"):
            return self._list(params)
        if (method, path) == ("GET", "/api/v5/orders/statuses"):
            return self._statuses(params)
        if method == "POST" and path.startswith("/api/v5/orders/") and path.endswith("/edit"):
            return self._edit(path.split("/")[4], params, body or {})
        if (method, path) == ("POST", "/api/v5/store/inventories/upload"):
            return self._inventories(body or {})
        return Answer(404, {"success": False, "errorMsg": "API method not found"})

    def _history(self, params: dict[str, list[str]]) -> Answer:
        since = int(params.get("filter[sinceId]", ["0"])[-1] or 0)
        limit = int(params.get("limit", ["20"])[-1])
        after = [r for r in self.history if r["id"] > since]
        return Answer(
            200,
            {
                "success": True,
                "generatedAt": self._now(),
                "history": copy.deepcopy(after[:limit]),
                "pagination": {
                    "limit": limit,
                    "totalCount": len(after),
                    "currentPage": 1,
                    "totalPageCount": max(1, -(-len(after) // limit)),
                },
            },
        )

    def _list(self, params: dict[str, list[str]]) -> Answer:
        ids = {int(i) for i in params.get("filter[ids][]", [])}
        sites = set(params.get("filter[sites][]", []))
        limit = int(params.get("limit", ["20"])[-1])
        page = int(params.get("page", ["1"])[-1])
        found = [
            o
            for i, o in sorted(self.orders.items())
            if (not ids or i in ids) and (not sites or o["site"] in sites)
        ]
        chunk = found[(page - 1) * limit : page * limit]
        return Answer(
            200,
            {
                "success": True,
                "pagination": {
                    "limit": limit,
                    "totalCount": len(found),
                    "currentPage": page,
                    "totalPageCount": max(1, -(-len(found) // limit)),
                },
                "orders": copy.deepcopy(chunk),
            },
        )

    def _statuses(self, params: dict[str, list[str]]) -> Answer:
        ids = params.get("ids[]", [])
        if len(ids) > 500:
            return Answer(
                400,
                {
                    "success": False,
                    "errorMsg": "Parameters are invalid",
                    "errors": {"ids": "This collection should contain 500 elements or less."},
                },
            )
        orders = [
            {
                "id": o["id"],
                "externalId": o.get("externalId"),
                "status": o["status"],
                "group": self.groups.get(o["status"], "new"),
            }
            for i, o in sorted(self.orders.items())
            if str(i) in ids
        ]
        return Answer(200, {"success": True, "orders": orders})

    def _edit(self, named: str, params: dict[str, list[str]], form: dict[str, Any]) -> Answer:
        by = params.get("by", form.get("by", ["externalId"]))
        by = by[-1] if isinstance(by, list) else by
        order = (
            self.orders.get(int(named))
            if by == "id" and named.isdigit()
            else next((o for o in self.orders.values() if o.get("externalId") == named), None)
        )
        if order is None:
            return Answer(404, {"success": False, "errorMsg": "Not found"})
        sent = form.get("order")
        if not isinstance(sent, str):
            return Answer(
                400,
                {"success": False, "errorMsg": "Parameter 'order' is missing"},
            )
        changes = json.loads(sent)
        status = changes.get("status")
        if status is not None and status not in self.groups:
            return Answer(
                400,
                {
                    "success": False,
                    "errorMsg": "Order is not loaded",
                    "errors": {"status": f"Status with code '{status}' does not exist"},
                },
            )
        if status is not None and status != order["status"]:
            old = order["status"]
            order["status"] = status
            self._record(order, "status", {"code": old}, {"code": status}, current=True)
        return Answer(200, {"success": True, "id": order["id"], "order": copy.deepcopy(order)})

    def _inventories(self, form: dict[str, Any]) -> Answer:
        sent = form.get("offers")
        if not isinstance(sent, str):
            return Answer(400, {"success": False, "errorMsg": "Parameter 'offers' is missing"})
        offers = json.loads(sent)
        if not isinstance(offers, list) or len(offers) > 250:
            return Answer(
                400,
                {
                    "success": False,
                    "errorMsg": "Errors in the input parameters",
                    "errors": {"offers": "This collection should contain 250 elements or less."},
                },
            )
        not_found = []
        for offer in offers:
            offer_id = offer.get("id")
            if offer_id not in self.offers:
                not_found.append({"id": offer_id})
                continue
            for store in offer.get("stores") or ():
                if store.get("code") not in self.stores:
                    return Answer(
                        400,
                        {
                            "success": False,
                            "errorMsg": "Errors in the input parameters",
                            "errors": {"stores": f"Store '{store.get('code')}' does not exist"},
                        },
                    )
                self.inventory[(offer_id, store["code"])] = int(store["available"])
        return Answer(
            200,
            {
                "success": True,
                "processedOffersCount": len(offers) - len(not_found),
                "notFoundOffers": not_found,
            },
        )


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
