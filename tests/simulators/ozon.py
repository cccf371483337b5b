"""Ozon's Seller API (FBS postings) as a local server: postings appear, are shipped (or
quietly not: a 200 that changed nothing, as Ozon warns), get cancelled, in the formats of
``specs/ozon-fbs-subset.json`` (the posting lists in their v4 versions, cursor-paged, 100 a
page, per ``specs/ozon-v4-posting-lists.json``; the v3 lists Ozon switched off on 1 June 2026
answer 404); stock set per product and warehouse
(``/v2/products/stocks``: 100 pairs a request, 80 requests a minute, one update of a pair
per 30 seconds, errors item by item inside a 200); errors as ``{code, message, details}``;
50 requests a second per Client-Id.

Marking codes go the way Ozon's document describes: the units Ozon keeps for a posting
(``/v6/fbs/posting/product/exemplar/create-or-get``, each with its ``exemplar_id``), their
codes set (``/v6/.../set``), their check read (``/v5/.../status``). The document names no
error codes; those here are the simulator's own words: ``MARK_FORMAT`` (not a Честный ЗНАК
code: ``01`` + GTIN-14 + ``21`` + serial), ``MARK_USED`` (the code went out with another
posting), or whatever a test puts in :attr:`OzonSimulator.refused_marks`. A posting whose
products need marks cannot be shipped before every mark passed.

The document's one known defect is mended before requests are checked against it: the
stock item lists ``quant_size`` as required although the schema does not declare it and
Ozon switched the field off on 26 June 2025 (the specs' README lists the defect)."""

from __future__ import annotations

import base64
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI

from tests.simulators.base import Answer, Bucket, SimulatedApi, openapi

SPEC = Path(__file__).parent / "specs" / "ozon-fbs-subset.json"
V4_LISTS = Path(__file__).parent / "specs" / "ozon-v4-posting-lists.json"
REASONS = [
    {
        "id": 352,
        "title": "Товар закончился на складе продавца",
        "type_id": "seller",
        "is_available_for_cancellation": True,
    },
    {
        "id": 400,
        "title": "Остался только бракованный товар",
        "type_id": "seller",
        "is_available_for_cancellation": True,
    },
    {
        "id": 401,
        "title": "Отмена из арбитража",
        "type_id": "seller",
        "is_available_for_cancellation": False,
    },
]
UNFULFILLED = {"awaiting_packaging", "awaiting_deliver", "awaiting_registration"}
PAGE = 100
"""Postings a page of the v4 lists holds at most."""
SWITCHED_OFF = {
    "/v3/posting/fbs/unfulfilled/list": "/v4/posting/fbs/unfulfilled/list",
    "/v3/posting/fbs/list": "/v4/posting/fbs/list",
}
"""The v3 lists Ozon switched off on 1 June 2026, and what replaced them."""
CANCELLABLE = {r["id"] for r in REASONS if r["is_available_for_cancellation"]}
_GRPC = {400: 3, 403: 7, 404: 5, 409: 9, 429: 8, 500: 13, 503: 14}
STOCK_BATCH = 100


@cache
def _document() -> OpenAPI:
    """The FBS subset, with ``quant_size`` (undeclared, switched off) no longer required."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    item = spec["components"]["schemas"]["productv2ProductsStocksRequestStock"]
    item["required"] = [name for name in item["required"] if name != "quant_size"]
    return OpenAPI.from_dict(spec)


def _v4(posting: dict[str, Any]) -> dict[str, Any]:
    """A posting as the v4 lists give it: each product's price as ``{amount, currency}``."""
    products = [
        {
            **{k: v for k, v in p.items() if k not in ("price", "currency_code")},
            "price": {"amount": p["price"], "currency": p.get("currency_code", "RUB")},
        }
        for p in posting["products"]
    ]
    return {**posting, "products": products}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class OzonSimulator(SimulatedApi):
    spec_path = str(SPEC)
    spec_host = "https://api-seller.ozon.ru"
    unauthorised_status = 403

    def __init__(self, client_id: str = "123456", api_key: str = "ozon-test-key") -> None:
        super().__init__(burst=50, interval_s=0.02)
        self.client_id, self.api_key = client_id, api_key
        self.postings: dict[str, dict[str, Any]] = {}
        self.changed_at: dict[str, datetime] = {}
        self.stuck_cursor = False  # the v4 lists hand out the first page's cursor forever
        self.ship_quietly_fails = False  # /v4/posting/fbs/ship answers 200, changes nothing
        self._orders = itertools.count(39_268_230)
        self.buckets["stocks"] = Bucket(80, 0.75)  # 80 stock updates a minute
        self.warehouses = {22_254_230_484_000}
        self.products: set[int] = set()  # product_ids of the seller's catalogue
        self.catalogue: dict[int, dict[str, Any]] = {}  # product_id -> offer_id, sku, ...
        self.stocks: dict[tuple[int, int], int] = {}  # (warehouse, product) -> stock
        self.pair_interval_s = 30.0  # one update of a product at a warehouse this often
        self._set_at: dict[tuple[int, int], float] = {}
        self._exemplar_ids = itertools.count(9_000_000_001)
        self.exemplars: dict[str, list[dict[str, Any]]] = {}  # posting -> products, units
        self.refused_marks: dict[str, list[str]] = {}  # mark -> error codes Ozon gives
        self.checking_rounds = 0  # status reads that answer validation_in_process
        self.used_marks: dict[str, str] = {}  # mark -> posting it was set on

    # ------------------------------------------------------------------ the world changes

    def add_posting(
        self,
        *,
        products: list[dict[str, Any]],
        warehouse_id: int = 22_254_230_484_000,
        status: str = "awaiting_packaging",
        mandatory_mark: bool = False,
    ) -> str:
        """A customer orders; ``products`` are dicts with offer_id, sku, quantity, price."""
        order = next(self._orders)
        number = f"{order}-0001-1"
        now = datetime.now(UTC)
        self.postings[number] = {
            "posting_number": number,
            "order_id": order,
            "order_number": f"{order}-0001",
            "status": status,
            "substatus": "posting_created",
            "delivery_method": {
                "id": 21_321_684_811_000,
                "name": "Ozon Логистика курьеру, Москва",
                "warehouse_id": warehouse_id,
                "warehouse": "Склад на Ленина",
                "tpl_provider_id": 24,
                "tpl_provider": "Ozon Логистика",
            },
            "tracking_number": "",
            "tpl_integration_type": "ozon",
            "in_process_at": _stamp(now),
            "shipment_date": _stamp(now + timedelta(days=1)),
            "delivering_date": None,
            "cancellation": {
                "cancel_reason_id": 0,
                "cancel_reason": "",
                "cancellation_type": "",
                "cancelled_after_ship": False,
                "affect_cancellation_rating": False,
                "cancellation_initiator": "",
            },
            "customer": None,
            "products": [
                {
                    "price": p["price"],
                    "offer_id": p["offer_id"],
                    "name": p.get("name", p["offer_id"]),
                    "sku": p["sku"],
                    "quantity": p.get("quantity", 1),
                    "currency_code": "RUB",
                    "imei": [],
                }
                for p in products
            ],
            "addressee": None,
            "barcodes": {"upper_barcode": "%101%806044518", "lower_barcode": "24602"},
            "analytics_data": None,
            "financial_data": None,
            "is_express": False,
            "requirements": {
                "products_requiring_gtd": [],
                "products_requiring_country": [],
                "products_requiring_mandatory_mark": [str(p["sku"]) for p in products]
                if mandatory_mark
                else [],
                "products_requiring_jw_uin": [],
                "products_requiring_rnpt": [],
            },
            "parent_posting_number": "",
            "available_actions": [],
            "multi_box_qty": 1,
            "is_multibox": False,
        }
        self.changed_at[number] = now
        return number

    def list_product(
        self,
        offer_id: str,
        sku: int,
        product_id: int,
        *,
        barcodes: tuple[str, ...] = (),
        archived: bool = False,
    ) -> None:
        """The seller has this product on Ozon (``/v3/product/list``, ``/v3/product/info/list``)."""
        with self.lock:
            self.products.add(product_id)
            self.catalogue[product_id] = {
                "offer_id": offer_id,
                "sku": sku,
                "barcodes": list(barcodes),
                "archived": archived,
            }

    def set_status(self, number: str, status: str, **cancellation: Any) -> None:
        with self.lock:
            self.postings[number]["status"] = status
            if cancellation:
                self.postings[number]["cancellation"].update(cancellation)
            self.changed_at[number] = datetime.now(UTC)

    # ------------------------------------------------------------------ Ozon's manners

    def authorised(self, headers: dict[str, str]) -> bool:
        return (headers.get("Client-Id"), headers.get("Api-Key")) == (self.client_id, self.api_key)

    def document(self, path: str) -> OpenAPI:
        if path in {"/v4/posting/fbs/unfulfilled/list", "/v4/posting/fbs/list"}:
            return openapi(str(V4_LISTS))
        return _document()

    def family(self, path: str) -> str | None:
        return "stocks" if path == "/v2/products/stocks" else None

    def stock_of(self, warehouse: int, product: int) -> int | None:
        with self.lock:
            return self.stocks.get((warehouse, product))

    def retry_headers(self, seconds: float) -> dict[str, str]:
        return {}  # Ozon names no wait: the client backs off by itself

    def error_body(self, status: int) -> Any:
        messages = {
            403: "Invalid Api-Key, please contact support",
            429: "You have reached request rate limit per second",
            404: "posting not found",
        }
        return {
            "code": _GRPC.get(status, 13),
            "message": messages.get(status, "Internal error"),
            "details": [],
        }

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        if path in SWITCHED_OFF:
            message = f"{path} is switched off, use {SWITCHED_OFF[path]}"
            return Answer(404, {"code": 5, "message": message, "details": []})
        if path == "/v4/posting/fbs/unfulfilled/list":
            condition = body.get("filter") or {}
            low, high = _moment(condition["cutoff_from"]), _moment(condition["cutoff_to"])
            found = [
                p
                for p in self.postings.values()
                if p["status"] in UNFULFILLED and low <= _moment(p["shipment_date"]) <= high
            ]
            return self._page(found, body, count=True)
        if path == "/v4/posting/fbs/list":
            condition = body["filter"]
            changed = condition.get("last_changed_status_date")
            found = [
                p
                for number, p in self.postings.items()
                if changed is None
                or _moment(changed["from"]) <= self.changed_at[number] <= _moment(changed["to"])
            ]
            return self._page(found, body, count=False)
        if path == "/v3/posting/fbs/get":
            posting = self.postings.get(body["posting_number"])
            if posting is None:
                return Answer(404, self.error_body(404))
            return Answer(200, {"result": posting})
        if path == "/v4/posting/fbs/ship":
            posting = self.postings.get(body["posting_number"])
            if posting is None:
                return Answer(404, self.error_body(404))
            if posting["status"] != "awaiting_packaging":
                return Answer(400, {"code": 3, "message": "POSTING_ALREADY_SHIPPED", "details": []})
            if not self._marks_passed(posting):
                message = "EXEMPLARS_NOT_VALIDATED: set the marking codes first"
                return Answer(400, {"code": 3, "message": message, "details": []})
            if not self.ship_quietly_fails:
                posting["status"] = "awaiting_deliver"
                posting["substatus"] = "posting_awaiting_passport_data"
                self.changed_at[posting["posting_number"]] = datetime.now(UTC)
            return Answer(200, {"result": [posting["posting_number"]], "additional_data": []})
        if path == "/v2/posting/fbs/cancel":
            posting = self.postings.get(body["posting_number"])
            if posting is None:
                return Answer(404, self.error_body(404))
            if body["cancel_reason_id"] not in {
                r["id"] for r in REASONS if r["is_available_for_cancellation"]
            }:
                return Answer(400, {"code": 3, "message": "INVALID_CANCEL_REASON", "details": []})
            posting["status"] = "cancelled"
            posting["cancellation"].update(
                cancel_reason_id=body["cancel_reason_id"],
                cancellation_type="seller",
                cancellation_initiator="Продавец",
            )
            self.changed_at[posting["posting_number"]] = datetime.now(UTC)
            return Answer(200, {"result": True})
        if path == "/v2/posting/fbs/cancel-reason/list":
            return Answer(200, {"result": REASONS})
        if path == "/v2/products/stocks":
            return self._stocks(body["stocks"])
        if path == "/v3/product/list":
            return self._product_list(body)
        if path == "/v3/product/info/list":
            return self._product_info(body)
        if path.startswith(("/v6/fbs/posting/product/exemplar/", "/v5/fbs/posting/product/")):
            return self._exemplar_call(path, body)
        return Answer(404, self.error_body(404))

    def _page(self, found: list[dict[str, Any]], body: dict[str, Any], *, count: bool) -> Answer:
        """One page of a v4 list: ``limit`` (1..100) postings from where ``cursor`` points (an
        opaque text to the client: here the offset in base64), the next cursor and
        ``has_next``; products priced as v4 prices them (``{amount, currency}``)."""
        size = body.get("limit") or PAGE
        if not 1 <= size <= PAGE:
            return Answer(400, {"code": 3, "message": f"limit: 1..{PAGE}", "details": []})
        try:
            start = int(base64.b64decode(body.get("cursor") or "MA==").decode())
        except ValueError:
            return Answer(400, {"code": 3, "message": "invalid cursor", "details": []})
        page = [_v4(p) for p in found[start : start + size]]
        after = size if self.stuck_cursor else start + len(page)
        answer: dict[str, Any] = {
            "postings": page,
            "has_next": after < len(found),
            "cursor": base64.b64encode(str(after).encode()).decode() if after < len(found) else "",
        }
        if count:
            answer["count"] = len(found)
        return Answer(200, answer)

    def _stocks(self, items: list[dict[str, Any]]) -> Answer:
        if len(items) > STOCK_BATCH:
            message = f"stocks: value must contain no more than {STOCK_BATCH} item(s)"
            return Answer(400, {"code": 3, "message": message, "details": []})
        results = []
        now = time.monotonic()
        for item in items:
            pair = (item["warehouse_id"], item["product_id"])
            errors = []
            if item["warehouse_id"] not in self.warehouses:
                errors.append({"code": "WAREHOUSE_NOT_FOUND", "message": "warehouse not found"})
            elif item["product_id"] not in self.products:
                errors.append({"code": "NOT_FOUND", "message": "product not found"})
            elif now - self._set_at.get(pair, -1e9) < self.pair_interval_s:
                errors.append(
                    {"code": "TOO_MANY_REQUESTS", "message": "stock of the pair set recently"}
                )
            if not errors:
                self.stocks[pair] = item["stock"]
                self._set_at[pair] = now
            results.append(
                {
                    "warehouse_id": item["warehouse_id"],
                    "product_id": item["product_id"],
                    "offer_id": item.get("offer_id", ""),
                    "updated": not errors,
                    "errors": errors,
                }
            )
        return Answer(200, {"result": results})

    # ------------------------------------------------------------------ marking codes

    def _units(self, posting: dict[str, Any]) -> list[dict[str, Any]]:
        """The units Ozon keeps for the posting, made at the first ask."""
        number = posting["posting_number"]
        if number not in self.exemplars:
            marked = set(posting["requirements"]["products_requiring_mandatory_mark"])
            self.exemplars[number] = [
                {
                    "product_id": p["sku"],
                    "quantity": p["quantity"],
                    "is_mandatory_mark_needed": str(p["sku"]) in marked,
                    "is_mandatory_mark_possible": True,
                    "is_gtd_needed": False,
                    "is_rnpt_needed": False,
                    "is_jw_uin_needed": False,
                    "has_imei": False,
                    "is_weight_needed": False,
                    "exemplars": [
                        {
                            "exemplar_id": next(self._exemplar_ids),
                            "marks": [],
                            "gtd": "",
                            "is_gtd_absent": False,
                            "rnpt": "",
                            "is_rnpt_absent": False,
                        }
                        for _ in range(p["quantity"])
                    ],
                }
                for p in posting["products"]
            ]
        return self.exemplars[number]

    def _marks_passed(self, posting: dict[str, Any]) -> bool:
        if not posting["requirements"]["products_requiring_mandatory_mark"]:
            return True
        for product in self._units(posting):
            if not product["is_mandatory_mark_needed"]:
                continue
            for unit in product["exemplars"]:
                marks = [m for m in unit["marks"] if m["mark_type"] == "mandatory_mark"]
                if not marks or any(m["check_status"] != "passed" for m in marks):
                    return False
        return True

    def _check(self, number: str, mark: str, kind: str) -> list[str]:
        if mark in self.refused_marks:
            return self.refused_marks[mark]
        if kind == "mandatory_mark":
            gtin, serial = mark[2:16], mark[18:]
            if not (mark.startswith("01") and gtin.isdigit() and mark[16:18] == "21" and serial):
                return ["MARK_FORMAT"]
        if self.used_marks.get(mark, number) != number:
            return ["MARK_USED"]
        return []

    def _exemplar_call(self, path: str, body: dict[str, Any]) -> Answer:
        posting = self.postings.get(body["posting_number"])
        if posting is None:
            return Answer(404, self.error_body(404))
        units = self._units(posting)
        number = posting["posting_number"]
        if path.endswith("/create-or-get"):
            return Answer(200, {"posting_number": number, "multi_box_qty": 1, "products": units})
        if path.endswith("/set"):
            by_id = {u["exemplar_id"]: (p, u) for p in units for u in p["exemplars"]}
            for product in body["products"]:
                for given in product["exemplars"]:
                    found = by_id.get(given["exemplar_id"])
                    if found is None or found[0]["product_id"] != product["product_id"]:
                        message = f"exemplar {given['exemplar_id']} is not in the posting"
                        return Answer(400, {"code": 3, "message": message, "details": []})
            for product in body["products"]:
                for given in product["exemplars"]:
                    _, unit = by_id[given["exemplar_id"]]
                    unit["marks"] = []
                    for mark in given.get("marks") or ():
                        errors = self._check(number, mark["mark"], mark["mark_type"])
                        if not errors:
                            self.used_marks[mark["mark"]] = number
                        unit["marks"].append(
                            {
                                "mark": mark["mark"],
                                "mark_type": mark["mark_type"],
                                "check_status": "failed" if errors else "passed",
                                "error_codes": errors,
                            }
                        )
            return Answer(200, {})
        # /v5/fbs/posting/product/exemplar/status
        checking = self.checking_rounds > 0
        if checking:
            self.checking_rounds -= 1
        products = [
            {
                "product_id": p["product_id"],
                "exemplars": [
                    {
                        "exemplar_id": u["exemplar_id"],
                        "marks": [
                            {**m, "check_status": "processing", "error_codes": []}
                            if checking
                            else m
                            for m in u["marks"]
                        ],
                        "gtd_error_codes": [],
                        "rnpt_error_codes": [],
                        "weight_error_codes": [],
                    }
                    for u in p["exemplars"]
                ],
            }
            for p in units
        ]
        if checking:
            overall = "validation_in_process"
        else:
            overall = "ship_available" if self._marks_passed(posting) else "ship_not_available"
        return Answer(200, {"posting_number": number, "status": overall, "products": products})

    # ------------------------------------------------------------------ the catalogue

    def _product_list(self, body: dict[str, Any]) -> Answer:
        ids = sorted(self.catalogue)
        start = int(body.get("last_id") or 0)
        size = body.get("limit") or 100
        if not 1 <= size <= 1000:
            return Answer(400, {"code": 3, "message": "limit: 1..1000", "details": []})
        page = ids[start : start + size]
        items = [
            {
                "product_id": pid,
                "offer_id": self.catalogue[pid]["offer_id"],
                "archived": self.catalogue[pid]["archived"],
                "has_fbo_stocks": False,
                "has_fbs_stocks": bool(self.catalogue[pid]["sku"]),
                "is_discounted": False,
                "quants": [],
            }
            for pid in page
        ]
        after = str(start + len(page)) if page else ""
        return Answer(200, {"result": {"items": items, "total": len(ids), "last_id": after}})

    def _product_info(self, body: dict[str, Any]) -> Answer:
        asked = [int(x) for x in body.get("product_id") or ()]
        if len(asked) > 1000:
            return Answer(400, {"code": 3, "message": "at most 1000 products", "details": []})
        items = [
            {
                "id": pid,
                "offer_id": self.catalogue[pid]["offer_id"],
                "sku": self.catalogue[pid]["sku"],
                "barcodes": self.catalogue[pid]["barcodes"],
                "name": self.catalogue[pid]["offer_id"],
                "currency_code": "RUB",
                "is_archived": self.catalogue[pid]["archived"],
            }
            for pid in asked
            if pid in self.catalogue
        ]
        return Answer(200, {"items": items})
