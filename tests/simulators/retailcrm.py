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
from urllib.parse import parse_qs, unquote
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
        self.customers: dict[str, dict[str, Any]] = {}  # by externalId
        self._customers = itertools.count(978)
        self._orders = itertools.count(6722)
        self._records = itertools.count(7038)
        self._payments = itertools.count(4326)
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

    def change(self, order_id: int, field: str, value: Any, *, by_us: bool = False) -> None:
        """A manager changes a field of an order as RetailCRM's history names it
        (``first_name``, ``phone``, ``delivery_address.city``, ``manager_comment``, ...)."""
        names = {
            "first_name": "firstName",
            "last_name": "lastName",
            "patronymic": "patronymic",
            "phone": "phone",
            "email": "email",
            "customer_comment": "customerComment",
            "manager_comment": "managerComment",
        }
        with self.lock:
            order = self.orders[order_id]
            if field.startswith("delivery_address."):
                address = order.setdefault("delivery", {}).setdefault("address", {})
                key = field.removeprefix("delivery_address.")
                old = address.get(key)
                address[key] = value
            else:
                old = order.get(names[field])
                order[names[field]] = value
            self._record(order, field, old, value, current=by_us)

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
            if order.get("externalId") is not None:
                record["order"]["externalId"] = order["externalId"]
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
            sent: dict[str, Any] = {}
            for name in ("order", "offers", "orders", "payment", "customers"):
                if name in form:
                    try:
                        sent[name] = json.loads(form[name][-1])
                    except ValueError:
                        return f"{where}: '{name}' is not a JSON string"
            if path == "/api/v5/orders/upload":
                return _upload_problem(where, sent.get("orders"))
            if path == "/api/v5/customers/upload":
                return _customers_problem(where, sent.get("customers"))
            if path.endswith("/edit") and path.startswith("/api/v5/orders/payments/"):
                return _payment_problem(where, sent.get("payment"), create=False)
            if path == "/api/v5/orders/payments/create":
                return _payment_problem(where, sent.get("payment"), create=True)
            if path.endswith("/edit") and "order" in sent:
                by = params.get("by", ["externalId"])[-1]
                if by not in ("id", "externalId"):
                    return f"{where}: by must be id or externalId, not {by}"
                return _order_problem(where, sent["order"], create=False)
        return None

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        params = parse_qs(query, keep_blank_values=True)
        if (method, path) == ("GET", "/api/v5/orders/history"):
            return self._history(params)
        if (method, path) == ("GET", "/api/v5/orders"):
            return self._list(params)
        if (method, path) == ("GET", "/api/v5/orders/statuses"):
            return self._statuses(params)
        if (method, path) == ("GET", "/api/v5/reference/statuses"):
            return Answer(200, copy.deepcopy(fixture("v5_reference_statuses.response.json")))
        if (method, path) == ("POST", "/api/v5/customers/upload"):
            return self._upload_customers(body or {})
        if (method, path) == ("POST", "/api/v5/orders/upload"):
            return self._upload(body or {})
        if (method, path) == ("POST", "/api/v5/orders/payments/create"):
            return self._create_payment(body or {})
        if method == "POST" and path.startswith("/api/v5/orders/payments/"):
            return self._edit_payment(unquote(path.split("/")[5]), body or {})
        if method == "POST" and path.startswith("/api/v5/orders/") and path.endswith("/edit"):
            return self._edit(unquote(path.split("/")[4]), params, body or {})
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
        if "items" in changes:
            order["items"] = _items(changes["items"], order["items"], order["id"])
        # what an edit changes is in the history as the key's own (apiKey.current)
        for name, field in (("firstName", "first_name"), ("phone", "phone"), ("email", "email")):
            if name in changes and changes[name] != order.get(name):
                self._record(order, field, order.get(name), changes[name], current=True)
        had = (order.get("delivery") or {}).get("address") or {}
        sent_address = (changes.get("delivery") or {}).get("address") or {}
        for key in ("city", "text"):
            if key in sent_address and sent_address[key] != had.get(key):
                field = f"delivery_address.{key}"
                self._record(order, field, had.get(key), sent_address[key], current=True)
        for name in (
            "firstName",
            "phone",
            "email",
            "number",
            "customFields",
            "delivery",
            "customer",
        ):
            if name in changes:
                order[name] = changes[name]
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

    # ------------------------------------------------------------------ orders from outside

    def by_external(self, external_id: str) -> dict[str, Any] | None:
        """The order an outside system (Potok) named ``external_id``."""
        with self.lock:
            return next(
                (
                    copy.deepcopy(o)
                    for o in self.orders.values()
                    if o.get("externalId") == external_id
                ),
                None,
            )

    def _upload(self, form: dict[str, Any]) -> Answer:
        sent = json.loads(form["orders"])
        uploaded, failed, errors, made = [], [], [], []
        for data in sent:
            external_id = data["externalId"]
            if any(o.get("externalId") == external_id for o in self.orders.values()):
                failed.append({"externalId": external_id})
                errors.append(f"Order with externalId {external_id} already exists.")
                continue
            status = data.get("status", "new")
            if status not in self.groups:
                failed.append({"externalId": external_id})
                errors.append(f"Order {external_id}: status '{status}' does not exist")
                continue
            named = (data.get("customer") or {}).get("externalId")
            if named is not None and named not in self.customers:
                failed.append({"externalId": external_id})
                errors.append(f"Order {external_id}: customer with externalId {named} not found")
                continue
            order_id = next(self._orders)
            at = self._now()
            order = {
                "id": order_id,
                "slug": order_id,
                "externalId": external_id,
                "number": data.get("number") or f"{order_id}A",
                "site": form.get("site") or self.site,
                "status": status,
                "createdAt": data.get("createdAt") or at,
                "statusUpdatedAt": at,
                "currency": "RUB",
                "firstName": data.get("firstName", ""),
                "phone": data.get("phone"),
                "email": data.get("email"),
                "customFields": data.get("customFields", {}),
                "delivery": data.get("delivery", {}),
                "customer": copy.deepcopy(self.customers[named]) if named else None,
                "items": _items(data.get("items", []), [], order_id),
                "payments": {},
                "fromApi": True,
            }
            for payment in data.get("payments", []):
                self._add_payment(order, payment)
            self.orders[order_id] = order
            self._record(order, "status", None, {"code": status}, created=True, current=True)
            uploaded.append({"id": order_id, "externalId": external_id})
            made.append(copy.deepcopy(order))
        body: dict[str, Any] = {
            "success": not failed,
            "uploadedOrders": uploaded,
            "orders": made,
        }
        if failed:
            body.update(
                errorMsg="Orders are loaded with errors", errors=errors, failedOrders=failed
            )
            return Answer(460, body)
        return Answer(200, body)

    def _upload_customers(self, form: dict[str, Any]) -> Answer:
        sent = json.loads(form["customers"])
        uploaded, failed, errors = [], [], []
        for data in sent:
            external_id = data["externalId"]
            if external_id in self.customers:
                failed.append({"externalId": external_id})
                errors.append(f"Customer with externalId {external_id} already exists.")
                continue
            customer_id = next(self._customers)
            self.customers[external_id] = {
                "type": "customer",
                "id": customer_id,
                "externalId": external_id,
                "site": form.get("site") or self.site,
                "firstName": data.get("firstName", ""),
                "phones": data.get("phones", []),
                "email": data.get("email"),
                "createdAt": data.get("createdAt") or self._now(),
            }
            uploaded.append({"id": customer_id, "externalId": external_id})
        body: dict[str, Any] = {"success": not failed, "uploadedCustomers": uploaded}
        if failed:
            body.update(
                errorMsg="Customers are loaded with errors", errors=errors, failedCustomers=failed
            )
            return Answer(460, body)
        return Answer(200, body)

    def _add_payment(self, order: dict[str, Any], payment: dict[str, Any]) -> int:
        payment_id = next(self._payments)
        order["payments"][str(payment_id)] = {
            "id": payment_id,
            "externalId": payment.get("externalId"),
            "type": payment["type"],
            "status": payment.get("status", "not-paid"),
            "amount": payment.get("amount", 0),
        }
        return payment_id

    def payment_of(self, external_id: str) -> dict[str, Any] | None:
        with self.lock:
            for order in self.orders.values():
                for payment in (order.get("payments") or {}).values():
                    if isinstance(payment, dict) and payment.get("externalId") == external_id:
                        return copy.deepcopy(payment)
        return None

    def _edit_payment(self, named: str, form: dict[str, Any]) -> Answer:
        changes = json.loads(form["payment"])
        for order in self.orders.values():
            payments = order.get("payments")
            if not isinstance(payments, dict):
                continue
            for payment in payments.values():
                if payment.get("externalId") == named:
                    payment.update(
                        {k: v for k, v in changes.items() if k in ("status", "amount", "type")}
                    )
                    return Answer(200, {"success": True, "id": payment["id"]})
        return Answer(404, {"success": False, "errorMsg": "Payment not found"})

    def _create_payment(self, form: dict[str, Any]) -> Answer:
        sent = json.loads(form["payment"])
        named = sent["order"].get("externalId")
        order = next((o for o in self.orders.values() if o.get("externalId") == named), None)
        if order is None:
            return Answer(404, {"success": False, "errorMsg": "Order not found"})
        if not isinstance(order.get("payments"), dict):
            order["payments"] = {}
        return Answer(201, {"success": True, "id": self._add_payment(order, sent)})

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


def _items(
    sent: list[dict[str, Any]], kept: list[dict[str, Any]], order_id: int
) -> list[dict[str, Any]]:
    """An order's items after an upload or an edit: the items sent, each keeping the id of
    the item it names by its ``externalIds`` (RetailCRM matches them so)."""
    by_key = {(e["code"], e["value"]): item for item in kept for e in item.get("externalIds") or ()}
    ids = itertools.count(order_id * 100 + len(kept) + 1)
    found = []
    for item in sent:
        keys = [(e["code"], e["value"]) for e in item.get("externalIds") or ()]
        same = next((by_key[k] for k in keys if k in by_key), None)
        found.append({**item, "id": same["id"] if same else next(ids)})
    return found


_NUMBER = (int, float)


def _order_problem(where: str, order: Any, *, create: bool) -> str | None:
    """What RetailCRM's API description says an ``order`` object may not be."""
    if not isinstance(order, dict):
        return f"{where}: an order must be a JSON object"
    if create and not isinstance(order.get("externalId"), str):
        return f"{where}: an uploaded order names its externalId (a string)"
    if "createdAt" in order:
        try:
            datetime.strptime(str(order["createdAt"]), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return f"{where}: createdAt must be Y-m-d H:i:s, not {order['createdAt']}"
    for name in ("status", "firstName", "phone", "email", "number"):
        if name in order and not isinstance(order[name], str):
            return f"{where}: {name} must be a string"
    items = order.get("items")
    if items is not None:
        if not isinstance(items, list):
            return f"{where}: items must be a list"
        for item in items:
            if not isinstance(item, dict):
                return f"{where}: an item must be an object"
            quantity, price = item.get("quantity"), item.get("initialPrice")
            if not isinstance(quantity, _NUMBER) or isinstance(quantity, bool) or quantity <= 0:
                return f"{where}: an item's quantity must be a positive number"
            if not isinstance(price, _NUMBER) or isinstance(price, bool) or price < 0:
                return f"{where}: an item's initialPrice must be a number, not {price!r}"
            offer = item.get("offer")
            if not (isinstance(offer, dict) and offer) and not item.get("productName"):
                return f"{where}: an item names its offer or its productName"
            for external in item.get("externalIds") or ():
                if not (
                    isinstance(external, dict)
                    and isinstance(external.get("code"), str)
                    and isinstance(external.get("value"), str)
                ):
                    return f"{where}: externalIds are {{code, value}} strings"
    delivery = order.get("delivery")
    if delivery is not None:
        cost = delivery.get("cost") if isinstance(delivery, dict) else None
        if not isinstance(delivery, dict) or ("cost" in delivery and not isinstance(cost, _NUMBER)):
            return f"{where}: delivery must be an object with a numeric cost"
    customer = order.get("customer")
    if customer is not None and not (
        isinstance(customer, dict) and isinstance(customer.get("externalId") or "", str)
    ):
        return f"{where}: customer must be an object naming its externalId (a string)"
    payments = order.get("payments")
    if payments is not None:
        if not create:
            return f"{where}: payments are not changed by orders/edit (orders/payments/*)"
        for payment in payments:
            problem = _payment_problem(where, payment, create=False)
            if problem:
                return problem
    return None


def _upload_problem(where: str, orders: Any) -> str | None:
    if not isinstance(orders, list) or not orders:
        return f"{where}: 'orders' must be a non-empty JSON list"
    if len(orders) > 50:
        return f"{where}: at most 50 orders an upload, not {len(orders)}"
    for order in orders:
        problem = _order_problem(where, order, create=True)
        if problem:
            return problem
    return None


def _customers_problem(where: str, customers: Any) -> str | None:
    """What RetailCRM's API description says ``customers/upload`` may not carry."""
    if not isinstance(customers, list) or not customers:
        return f"{where}: 'customers' must be a non-empty JSON list"
    if len(customers) > 50:
        return f"{where}: at most 50 customers an upload, not {len(customers)}"
    for customer in customers:
        if not isinstance(customer, dict):
            return f"{where}: a customer must be a JSON object"
        if not isinstance(customer.get("externalId"), str):
            return f"{where}: an uploaded customer names its externalId (a string)"
        for name in ("firstName", "lastName", "email"):
            if name in customer and not isinstance(customer[name], str):
                return f"{where}: a customer's {name} must be a string"
        if "createdAt" in customer:
            try:
                datetime.strptime(str(customer["createdAt"]), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                return f"{where}: createdAt must be Y-m-d H:i:s, not {customer['createdAt']}"
        phones = customer.get("phones", [])
        if not isinstance(phones, list) or not all(
            isinstance(p, dict) and isinstance(p.get("number"), str) for p in phones
        ):
            return f"{where}: phones are [{{number}}] objects with a string number"
    return None


def _payment_problem(where: str, payment: Any, *, create: bool) -> str | None:
    if not isinstance(payment, dict):
        return f"{where}: a payment must be a JSON object"
    if "amount" in payment and (
        not isinstance(payment["amount"], _NUMBER) or isinstance(payment["amount"], bool)
    ):
        return f"{where}: a payment's amount must be a number"
    for name in ("type", "status", "externalId"):
        if name in payment and not isinstance(payment[name], str):
            return f"{where}: a payment's {name} must be a string"
    if create and not (
        isinstance(payment.get("order"), dict) and payment["order"].get("externalId")
    ):
        return f"{where}: a new payment names its order"
    if create and not payment.get("type"):
        return f"{where}: a new payment has a type"
    return None
