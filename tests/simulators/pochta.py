"""Почта России's «Отправка» API and its tracking service as a local server.

Почта publishes no OpenAPI document, so requests are checked by hand against its published
conventions (the two auth headers, the fields an order needs), and every JSON answer is
built from a response observed on the live API (``specs/pochta/*.response.json``, copied
from ``../shared/specs/carriers/pochta/``) and checked against the JSON Schema inferred from
it: the simulator cannot drift from what Почта was seen to answer. Tracking answers
``getOperationHistory`` in SOAP 1.2 from operations the test adds (that envelope follows
Почта's tracking page; it is not a captured exchange)."""

from __future__ import annotations

import base64
import copy
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from defusedxml import ElementTree
from jsonschema import Draft202012Validator

from tests.simulators.base import Answer, Received, SimulatedApi

SPECS = Path(__file__).parent / "specs" / "pochta"
TOKEN = "pochta-token"
LOGIN, PASSWORD = "shop@example.ru", "secret"
TRACKING_LOGIN, TRACKING_PASSWORD = "tracker", "tracking-secret"
TRACKING_PATH = "/rtm34"
ORDER_FIELDS = ("order-num", "index-to", "mass", "mail-type", "mail-category", "recipient-name")
DATA = "http://russianpost.org/operationhistory/data"


OFFICES = (  # postal code, settlement, region, address, latitude, longitude, closed
    ("101000", "Москва", "г Москва", "ул. Мясницкая, 26А", 55.7626, 37.6357, False),
    ("125009", "Москва", "г Москва", "ул. Тверская, 7", 55.7579, 37.6119, False),
    ("119019", "Москва", "г Москва", "ул. Новый Арбат, 2", 55.7524, 37.5985, True),
    ("170000", "Тверь", "Тверская обл", "ул. Советская, 31", 56.8597, 35.9002, False),
)


def _office(office: tuple[str, str, str, str, float, float, bool]) -> dict[str, Any]:
    """An office as Почта answered searchPostOfficeByIndex, with this office's facts."""
    code, settlement, region, address, latitude, longitude, closed = office
    answer = observed("search-post-office-by-index-to")
    answer.update(
        {
            "address-source": address,
            "postal-code": code,
            "settlement": settlement,
            "region": region,
            "latitude": latitude,
            "longitude": longitude,
            "is-closed": closed,
        }
    )
    return answer


def observed(name: str) -> Any:
    return json.loads((SPECS / f"{name}.response.json").read_text(encoding="utf-8"))


def schema(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        json.loads((SPECS / f"{name}.response.schema.json").read_text(encoding="utf-8"))
    )


class PochtaSimulator(SimulatedApi):
    def __init__(self) -> None:
        super().__init__(burst=50, interval_s=0.02)
        self.orders: dict[int, dict[str, Any]] = {}
        self.operations: dict[str, list[tuple[int, int, str, str, datetime]]] = {}
        self.unfaithful: list[str] = []  # answers that left the observed schema
        self.refusals: list[tuple[str, str]] = []
        self._ids = itertools.count(2_319_421_774)
        self._barcodes = itertools.count(80_085_400_000_001)
        self._schemas = {
            "tariff": schema("get-tariff-and-delivery-period"),
            "created": schema("create-orders"),
            "order": schema("find-order-by-id"),
            "search": schema("find-order-by-shop-id"),
            "batch": schema("create-batch"),
            "deleted": schema("delete-orders"),
            "offices": schema("search-post-office-by-address"),
            "office": schema("search-post-office-by-index-to"),
        }
        self.offices = list(OFFICES)  # a test may close some

    # ------------------------------------------------------------------ scripting

    def refuse_next_order(self, code: str, description: str) -> None:
        self.refusals.append((code, description))

    def operate(
        self, barcode: str, kind: int, attr: int, name: str, at: datetime, *, place: str = ""
    ) -> None:
        """The tracking service records an operation (OperType ``kind``, OperAttr ``attr``)."""
        with self.lock:
            self.operations.setdefault(barcode, []).append((kind, attr, name, place, at))

    # ------------------------------------------------------------------ vendor specifics

    def authorised(self, headers: dict[str, str]) -> bool:
        found = {k.lower(): v for k, v in headers.items()}
        basic = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
        return (
            found.get("authorization") == f"AccessToken {TOKEN}"
            and found.get("x-user-authorization") == f"Basic {basic}"
        )

    def error_body(self, status: int) -> Any:
        return {"code": str(status), "desc": "Ошибка"}

    def _validate(
        self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes
    ) -> str | None:
        body = json.loads(raw) if raw else None
        if path == "/1.0/tariff":
            if not isinstance(body, dict):
                return "tariff without a body"
            missing = [f for f in ("index-from", "index-to", "mass", "mail-type") if f not in body]
            return f"tariff without {missing}" if missing else None
        if path == "/1.0/user/backlog" and method == "PUT":
            if not isinstance(body, list) or not body:
                return "createOrders takes a list of orders"
            for order in body:
                missing = [f for f in ORDER_FIELDS if f not in order]
                if missing or not isinstance(order["index-to"], int):
                    return f"an order without {missing} or a text index-to"
            return None
        if path == "/postoffice/1.0/by-address" and not dict(parse_qsl(query)).get("address"):
            return "searchPostOfficeByAddress without an address"
        if path in ("/1.0/backlog", "/1.0/user/shipment") and not (
            isinstance(body, list) and all(isinstance(i, int) for i in body)
        ):
            return f"{path} takes a list of order ids"
        return None

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        if urlsplit(target).path != TRACKING_PATH:
            return super().answer(method, target, headers, raw)
        with self.lock:
            self.received.append(Received(method, TRACKING_PATH, "", headers, None, 0.0))
        return self._history(raw)

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        params = dict(parse_qsl(query))
        if path == "/1.0/tariff":
            return self._faithful("tariff", self._tariff(body))
        if path == "/1.0/user/backlog" and method == "PUT":
            return self._create(body)
        if path == "/1.0/backlog/search":
            found = [
                self._order(o) for o in self.orders.values() if o["order-num"] == params["query"]
            ]
            return self._faithful("search", found)
        if path.startswith("/1.0/backlog/") and method == "GET":
            order = self.orders.get(int(path.rsplit("/", 1)[1]))
            if order is None:
                return Answer(404, {"code": "404", "desc": "Заказ не найден"})
            return self._faithful("order", self._order(order))
        if path == "/1.0/backlog" and method == "DELETE":
            gone = [i for i in body if self.orders.pop(i, None) is not None]
            return self._faithful("deleted", {"result-ids": gone})
        if path == "/postoffice/1.0/by-address" and method == "GET":
            words = params.get("address", "").casefold()
            codes = [o[0] for o in self.offices if o[1].casefold() in words]
            codes = codes[: int(params.get("top", "50"))]
            return self._faithful("offices", {"is-matched": bool(codes), "postoffices": codes})
        if path.startswith("/postoffice/1.0/") and method == "GET":
            found = next((o for o in self.offices if o[0] == path.rsplit("/", 1)[1]), None)
            if found is None:
                return Answer(404, {"code": "404", "desc": "Отделение не найдено"})
            return self._faithful("office", _office(found))
        if path == "/1.0/user/shipment" and method == "POST":
            return self._batch(body, params.get("sending-date", ""))
        return Answer(404, {"code": "404", "desc": path})

    # ------------------------------------------------------------------ answers

    def _faithful(self, kind: str, body: Any, status: int = 200) -> Answer:
        for error in self._schemas[kind].iter_errors(body):
            self.unfaithful.append(f"{kind}: {error.message}")
        return Answer(status, body)

    def _tariff(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = observed("get-tariff-and-delivery-period")
        rate = 30_000 + int(body["mass"]) * 15  # kopecks
        answer["ground-rate"] = {"rate": rate, "vat": rate * 22 // 100}
        answer["total-rate"], answer["total-vat"] = rate, rate * 22 // 100
        far = str(body["index-to"])[:1] != str(body["index-from"])[:1]
        answer["delivery-time"] = {"max-days": 9 if far else 4, "min-days": 7 if far else 2}
        return answer

    def _create(self, body: list[dict[str, Any]]) -> Answer:
        ids: list[int] = []
        errors: list[dict[str, Any]] = []
        for position, order in enumerate(body):
            taken = any(o["order-num"] == order["order-num"] for o in self.orders.values())
            cod = _cash_on_delivery_problem(order)
            if self.refusals or taken or cod:
                if self.refusals:
                    code, words = self.refusals.pop(0)
                else:
                    code, words = cod or ("DUPLICATE_ORDER", "Дубль")
                errors.append(
                    {"error-codes": [{"code": code, "description": words}], "position": position}
                )
                continue
            order_id = next(self._ids)
            self.orders[order_id] = {
                **order,
                "id": order_id,
                "barcode": str(next(self._barcodes)),
            }
            ids.append(order_id)
        answer: dict[str, Any] = {"result-ids": ids}
        if errors:
            answer["errors"] = errors
            return Answer(200, answer)  # Почта answers 200 with the orders it refused
        return self._faithful("created", answer)

    def _order(self, order: dict[str, Any]) -> dict[str, Any]:
        answer = observed("find-order-by-id")
        rate = 30_000 + int(order["mass"]) * 15
        answer.update(
            {
                "id": order["id"],
                "barcode": order["barcode"],
                "order-num": order["order-num"],
                "index-to": order["index-to"],
                "str-index-to": str(order["index-to"]),
                "mass": order["mass"],
                "mail-type": order["mail-type"],
                "mail-category": order["mail-category"],
                "recipient-name": order["recipient-name"],
                "place-to": order.get("place-to", ""),
                "postoffice-code": order.get("postoffice-code", ""),
                "mass-rate": rate,
                "ground-rate": rate,
                "total-rate-wo-vat": rate,
                "total-vat": rate * 22 // 100,
                "delivery-time": {"max-days": 4, "min-days": 2},
            }
        )
        return answer

    def _batch(self, ids: list[int], sending_on: str) -> Answer:
        template = observed("create-batch")
        batch = copy.deepcopy(template["batches"][0])
        batch["batch-name"] = f"{sending_on.replace('-', '')}-{ids[0] % 1000}"
        batch["shipment-count"] = len(ids)
        batch["list-number-date"] = sending_on
        for order_id in ids:
            self.orders[order_id]["batch-name"] = batch["batch-name"]
        return self._faithful("batch", {"batches": [batch], "result-ids": ids})

    def _history(self, raw: bytes) -> Answer:
        envelope = ElementTree.fromstring(raw)
        barcode = envelope.findtext(f".//{{{DATA}}}Barcode") or ""
        login = envelope.findtext(f".//{{{DATA}}}login")
        password = envelope.findtext(f".//{{{DATA}}}password")
        if (login, password) != (TRACKING_LOGIN, TRACKING_PASSWORD):
            with self.lock:
                self.invalid.append("tracking: wrong login or password in the envelope")
            return Answer(500, _fault("Authorization failed"), {"Content-Type": _SOAP_TYPE})
        records = "".join(
            "<ns3:historyRecord>"
            "<ns3:AddressParameters><ns3:OperationAddress>"
            f"<ns3:Description>{escape(place)}</ns3:Description>"
            "</ns3:OperationAddress></ns3:AddressParameters>"
            "<ns3:OperationParameters>"
            f"<ns3:OperType><ns3:Id>{kind}</ns3:Id><ns3:Name>{escape(name)}</ns3:Name></ns3:OperType>"
            f"<ns3:OperAttr><ns3:Id>{attr}</ns3:Id><ns3:Name>{escape(name)}</ns3:Name></ns3:OperAttr>"
            f"<ns3:OperDate>{at.astimezone(UTC).isoformat()}</ns3:OperDate>"
            "</ns3:OperationParameters></ns3:historyRecord>"
            for kind, attr, name, place, at in self.operations.get(barcode, [])
        )
        body = (
            '<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Body>'
            '<ns7:getOperationHistoryResponse xmlns:ns3="http://russianpost.org/operationhistory/data"'
            ' xmlns:ns7="http://russianpost.org/operationhistory">'
            f"<ns3:OperationHistoryData>{records}</ns3:OperationHistoryData>"
            "</ns7:getOperationHistoryResponse></S:Body></S:Envelope>"
        )
        return Answer(200, body.encode(), {"Content-Type": _SOAP_TYPE})


_SOAP_TYPE = "application/soap+xml; charset=utf-8"


def _fault(reason: str) -> bytes:
    return (
        '<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Body><S:Fault>'
        f"<S:Reason><S:Text>{escape(reason)}</S:Text></S:Reason>"
        "</S:Fault></S:Body></S:Envelope>"
    ).encode()


def now() -> datetime:
    return datetime.now(UTC)


def _cash_on_delivery_problem(order: dict[str, Any]) -> tuple[str, str] | None:
    """Почта's rule for money collected on delivery («наложенный платёж»), from its
    published enums (no observed answer shows it): the category says so, and the money is
    no more than the declared value. The error code is the simulator's own."""
    payment = order.get("payment")
    if payment is None:
        return None
    if order.get("mail-category") != "WITH_DECLARED_VALUE_AND_CASH_ON_DELIVERY":
        return (
            "ILLEGAL_MAIL_CATEGORY",
            "Наложенный платёж требует категории с объявленной ценностью и наложенным платежом",
        )
    if int(order.get("insr-value") or 0) < int(payment):
        return ("ILLEGAL_PAYMENT", "Наложенный платёж больше объявленной ценности")
    return None
