"""Wildberries' marketplace API (FBS) as a local server: assembly tasks appear, change
status and get cancelled, in the formats of ``specs/wildberries/03-orders-fbs.yaml``; the
seller's warehouse stocks are set as ``02-products.yaml`` says (``PUT /api/v3/stocks``,
keyed by chrtId, a limit of their own); with
WB's limit (300 a minute, one per 200 ms, bursts of 20, a 409 costing 10) and its error
bodies (401/429: title, detail, code, requestId, origin, status, statusText, timestamp;
others: code, message)."""

from __future__ import annotations

import base64
import itertools
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from openapi_core import OpenAPI

from tests.simulators.base import Answer, Bucket, SimulatedApi, openapi

SPEC = Path(__file__).parent / "specs" / "wildberries-03-orders-fbs.yaml"
PRODUCTS_SPEC = Path(__file__).parent / "specs" / "wildberries-02-products.yaml"

_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class WildberriesSimulator(SimulatedApi):
    spec_path = str(SPEC)
    spec_host = "https://marketplace-api.wildberries.ru"

    def __init__(self, token: str = "wb-test-token") -> None:  # noqa: S107
        super().__init__(burst=20, interval_s=0.2)
        self.token = token
        self.tasks: dict[int, dict[str, Any]] = {}
        self.statuses: dict[int, tuple[str, str]] = {}
        self.repeat_in_answer = False  # each new task twice in one answer
        self.supplies: dict[str, dict[str, Any]] = {}  # id -> {name, orders, done}
        self.meta: dict[int, dict[str, list[str]]] = {}  # task -> sgtin/imei/uin/gtin
        self._supplies = itertools.count(1_234_567)
        self._ids = itertools.count(5_632_423)
        self.buckets["stocks"] = Bucket(20, 0.2)  # every stock method: its own 300 a minute
        self.warehouses = {658434}  # the seller's warehouses WB knows
        self.stocks: dict[int, dict[int, int]] = {}  # warehouse -> chrtId -> amount
        self.unknown_chrt: set[int] = set()  # sizes WB refuses (409 NotFound naming them)
        self.stickers_given: list[int] = []  # every task a sticker was answered for
        self.sticker_faults: list[int] = []  # statuses the next sticker requests answer with

    # ------------------------------------------------------------------ the world changes

    def add_order(
        self,
        *,
        article: str,
        barcodes: list[str],
        price: int,
        warehouse_id: int = 658434,
        order_uid: str | None = None,
        chrt_id: int = 987654321,
        required_meta: list[str] | None = None,
        optional_meta: list[str] | None = None,
        address: dict[str, Any] | None = None,
        currency: int = 643,
        **fields: Any,
    ) -> int:
        """A customer orders one unit; its assembly task appears with status new/waiting.
        ``price`` is in kopecks (×100), as WB sends it."""
        task_id = next(self._ids)
        task = {
            "address": address,
            "ddate": "",
            "sellerDate": None,
            "salePrice": price + 500,
            "requiredMeta": required_meta or [],
            "optionalMeta": optional_meta or [],
            "deliveryType": "fbs",
            "comment": "",
            "scanPrice": None,
            "orderUid": order_uid or f"{uuid.uuid4().int % 10**8}_{task_id}",
            "article": article,
            "colorCode": "",
            "rid": f"{task_id}.0.0",
            "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "offices": ["Калуга"],
            "skus": barcodes,
            "id": task_id,
            "warehouseId": warehouse_id,
            "officeId": 123,
            "nmId": 12345678,
            "chrtId": chrt_id,
            "price": price,
            "finalPrice": price,
            "convertedPrice": price,
            "convertedFinalPrice": price,
            "currencyCode": currency,
            "convertedCurrencyCode": currency,
            "cargoType": 1,
            "isZeroOrder": False,
            "options": {"isB2b": False},
            **fields,
        }
        with self.lock:
            self.tasks[task_id] = task
            self.statuses[task_id] = ("new", "waiting")
        return task_id

    def set_status(self, task_id: int, supplier: str, wb: str) -> None:
        with self.lock:
            self.statuses[task_id] = (supplier, wb)

    # ------------------------------------------------------------------ WB's manners

    def authorised(self, headers: dict[str, str]) -> bool:
        return headers.get("Authorization") == self.token

    def retry_headers(self, seconds: float) -> dict[str, str]:
        return {
            "X-Ratelimit-Retry": str(seconds),
            "X-Ratelimit-Limit": "20",
            "X-Ratelimit-Reset": str(seconds),
            "X-Ratelimit-Remaining": "0",
        }

    def cost(self, answer: Answer) -> int:
        return 10 if answer.status == 409 else 1

    def family(self, path: str) -> str | None:
        return "stocks" if path.startswith("/api/v3/stocks/") else None

    def document(self, path: str) -> OpenAPI:
        return openapi(str(PRODUCTS_SPEC if self.family(path) else SPEC))

    def stock_of(self, warehouse: int, chrt_id: int) -> int | None:
        with self.lock:
            return self.stocks.get(warehouse, {}).get(chrt_id)

    def error_body(self, status: int) -> Any:
        if status in (401, 429):
            return {
                "title": "unauthorized" if status == 401 else "too many requests",
                "detail": "token problem; token is revoked" if status == 401 else "limited by sim",
                "code": "07e4668e--a53a3d31f8b0-[UK-oWaVDUqNrKG]",
                "requestId": uuid.uuid4().hex,
                "origin": "s2s-api-auth-catalog",
                "status": status,
                "statusText": _TEXT[status],
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        codes = {400: "IncorrectRequest", 404: "NotFound", 409: "StatusMismatch"}
        return {"code": codes.get(status, "InternalServerError"), "message": _TEXT.get(status, "")}

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        if (method, path) == ("GET", "/api/v3/orders/new"):
            fresh = [
                self.tasks[i] for i, (s, w) in self.statuses.items() if (s, w) == ("new", "waiting")
            ]
            if self.repeat_in_answer:
                fresh = fresh + fresh
            return Answer(200, {"orders": fresh})
        if (method, path) == ("POST", "/api/v3/orders/stickers"):
            return self._stickers(query, body["orders"])
        if (method, path) == ("POST", "/api/v3/orders/status"):
            ids = body["orders"]
            return Answer(
                200,
                {
                    "orders": [
                        {
                            "id": i,
                            "supplierStatus": self.statuses[i][0],
                            "wbStatus": self.statuses[i][1],
                        }
                        for i in ids
                        if i in self.statuses
                    ]
                },
            )
        parts = path.strip("/").split("/")
        if parts[:3] == ["api", "v3", "stocks"]:
            return self._stocks(method, int(parts[3]), body)
        if (method, path) == ("POST", "/api/v3/supplies"):
            supply = f"WB-GI-{next(self._supplies)}"
            self.supplies[supply] = {"name": body["name"], "orders": [], "done": False}
            return Answer(201, {"id": supply})
        if method == "PATCH" and path.startswith("/api/marketplace/v3/supplies/"):
            supply = self.supplies.get(parts[4])
            tasks = body["orders"]
            if supply is None:
                return Answer(404, self.error_body(404))
            if supply["done"] or any(
                self.statuses.get(t, ("", ""))[0] not in ("new", "confirm") for t in tasks
            ):
                return Answer(409, {"code": "FailedToAddSupplyOrder", "message": "Не удалось"})
            for task in tasks:  # a task on assembly moves between active supplies
                for other in self.supplies.values():
                    if task in other["orders"] and not other["done"]:
                        other["orders"].remove(task)
                supply["orders"].append(task)
                self.statuses[task] = ("confirm", self.statuses[task][1])
            return Answer(204)
        if method == "PATCH" and path.endswith("/deliver"):
            supply = self.supplies.get(parts[3])
            if supply is None:
                return Answer(404, self.error_body(404))
            if not supply["orders"]:
                return Answer(409, {"code": "SupplyHasZeroOrders", "message": "Нет заданий"})
            supply["done"] = True
            for task in supply["orders"]:
                if self.statuses[task][0] == "confirm":
                    self.statuses[task] = ("complete", "sorted")
            return Answer(204)
        if method == "PUT" and parts[:3] == ["api", "v3", "orders"] and parts[4] == "meta":
            task = int(parts[3])
            if task not in self.tasks:
                return Answer(404, self.error_body(404))
            kind = parts[5]
            if self.statuses[task][0] != "confirm":  # the document: meta only on assembly
                message = (
                    "Failed to update assembly order metadata. Make sure the assembly order "
                    "meets all the necessary requirements."
                )  # the document's example FailedToUpdateMeta
                return Answer(409, {"code": "FailedToUpdateMeta", "message": message})
            values = body["sgtins"] if kind == "sgtin" else [body[kind]]
            self.meta.setdefault(task, {}).setdefault(kind, []).extend(values)
            return Answer(204)
        if method == "PATCH" and path.endswith("/cancel"):
            task = int(parts[3])
            if task not in self.statuses:
                return Answer(404, self.error_body(404))
            if self.statuses[task][0] in ("complete", "cancel"):
                return Answer(409, self.error_body(409))
            self.statuses[task] = ("cancel", "canceled")
            return Answer(204)
        return Answer(404, self.error_body(404))

    def sticker_file(self, task: int, kind: str, width: int, height: int) -> bytes:
        """The bytes of a task's sticker in ``kind`` and size (not a real picture: distinct
        per task, format and size, so a test sees which one it got)."""
        return f"{kind}:{width}x{height}:sticker of {task}".encode()

    def _stickers(self, query: str, tasks: list[int]) -> Answer:
        if self.sticker_faults:
            status = self.sticker_faults.pop(0)
            return Answer(status, self.error_body(status))
        asked = parse_qs(query)
        kind, width, height = asked["type"][0], int(asked["width"][0]), int(asked["height"][0])
        if len(tasks) > 100 or (width, height) not in ((58, 40), (40, 30)):
            return Answer(400, self.error_body(400))
        # the document: stickers of tasks on assembly or in delivery only (others left out)
        tasks = [t for t in tasks if self.statuses.get(t, ("", ""))[0] in ("confirm", "complete")]
        self.stickers_given.extend(tasks)
        return Answer(
            200,
            {
                "stickers": [
                    {
                        "orderId": t,
                        "partA": str(t // 10_000),
                        "partB": str(t % 10_000),
                        "barcode": f"!{t:x}",
                        "file": base64.b64encode(
                            self.sticker_file(t, kind, width, height)
                        ).decode(),
                    }
                    for t in tasks
                ]
            },
        )

    def _stocks(self, method: str, warehouse: int, body: Any) -> Answer:
        if warehouse not in self.warehouses:
            return Answer(404, self.error_body(404))
        if method == "PUT":
            items = body["stocks"]
            refused = [i for i in items if i.get("chrtId") in self.unknown_chrt or "sku" in i]
            if refused:  # WB updates nothing and names what it refused
                return Answer(
                    409,
                    [
                        {
                            "code": "NotFound",
                            "message": "Not found",
                            "data": [
                                {"chrtId": i.get("chrtId"), "amount": i["amount"]} for i in refused
                            ],
                        }
                    ],
                )
            kept = self.stocks.setdefault(warehouse, {})
            for item in items:
                kept[item["chrtId"]] = item["amount"]
            return Answer(204)
        if method == "POST":
            kept = self.stocks.get(warehouse, {})
            return Answer(
                200,
                {"stocks": [{"chrtId": c, "amount": kept.get(c, 0)} for c in body["chrtIds"]]},
            )
        return Answer(404, self.error_body(404))
