"""СДЭК's API v2 as a local server, answering in the formats of its OpenAPI document
(``specs/cdek-v2-subset.json``, cut from ``../shared/specs/carriers/cdek/``): OAuth tokens
that expire, tariffs by distance and weight, orders registered asynchronously (the first
reads say ACCEPTED, then SUCCESSFUL with a СДЭК number, or INVALID with the reason),
labels printed asynchronously as PDF, cancellation and refusal, statuses moved by the test
and posted to the subscribed webhook URLs as СДЭК's ``ORDER_STATUS`` bodies, delivery
points, cash-on-delivery registries paid on a day (``/v2/registries``), its error bodies and
its 200-a-second limit."""

from __future__ import annotations

import io
import itertools
import math
import uuid as uuids
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from reportlab.pdfgen import canvas

from tests.simulators.base import Answer, SimulatedApi

SPEC = Path(__file__).parent / "specs" / "cdek-v2-subset.json"
CLIENT_ID = "wqGwiQx0gg8mLtiEKsUinjVSICCjtTEP"  # СДЭК's published test account
CLIENT_SECRET = "RmAmgvSgSl1yirlz9QupbzOJVqhCxcP5"

# code, name, delivery mode (Приложение 15), price factor
TARIFFS = (
    (136, "Посылка склад-склад", 4, 1.0),
    (137, "Посылка склад-дверь", 3, 1.3),
    (138, "Посылка дверь-склад", 2, 1.2),
    (139, "Посылка дверь-дверь", 1, 1.5),
    (366, "Посылка дверь-постамат", 6, 1.15),
    (368, "Посылка склад-постамат", 7, 0.95),
)
MAX_WEIGHT_G = 30_000

# code, city, city code, address, latitude, longitude, type
LOCKER_CELLS = [  # a parcel locker's cells, in cm (OfficeCellDimensionsDto)
    {"width": 40, "height": 10, "depth": 60},
    {"width": 40, "height": 20, "depth": 60},
    {"width": 40, "height": 40, "depth": 60},
]
OFFICES = (
    ("MSK123", "Москва", 44, "ул. Тверская, 7", 55.7580, 37.6140, "PVZ"),
    ("MSK456", "Москва", 44, "ул. Большая Якиманка, 26", 55.7350, 37.6120, "PVZ"),
    ("MSK789", "Москва", 44, "Ленинградский пр., 36", 55.7930, 37.5590, "POSTAMAT"),
    ("SPB12", "Санкт-Петербург", 137, "Невский пр., 60", 59.9340, 30.3360, "PVZ"),
    ("TVR3", "Тверь", 245, "ул. Советская, 20", 56.8590, 35.9060, "PVZ"),
)


def stamp(moment: datetime) -> str:
    """СДЭК's way of writing a time: ``2023-11-28T07:44:45+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


@dataclass
class SimOrder:
    uuid: str
    body: dict[str, Any]
    reads_left: int  # reads answered ACCEPTED before the order is decided
    refusal: tuple[str, str] | None = None
    state: str = "ACCEPTED"
    cdek_number: str | None = None
    statuses: list[dict[str, Any]] = field(default_factory=list)
    is_return: bool = False
    related: list[dict[str, Any]] = field(default_factory=list)
    keep_free_until: str | None = None


class CdekSimulator(SimulatedApi):
    spec_path = str(SPEC)
    spec_host = "https://api.cdek.ru"

    def __init__(self, *, token_life_s: int = 3600, reads_before_registered: int = 1) -> None:
        super().__init__(burst=200, interval_s=0.005)
        self.token_life_s = token_life_s
        self.reads_before_registered = reads_before_registered
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.orders: dict[str, SimOrder] = {}
        self.barcodes: dict[str, dict[str, Any]] = {}
        self.webhooks: list[dict[str, str]] = []
        self.posted: list[tuple[str, int]] = []  # webhook URL, Potok's answer
        self.refusals: list[tuple[str, str]] = []  # the next orders are refused so
        self.offices = list(OFFICES)  # a test may close some
        self.numbered: dict[str, SimOrder] = {}  # by СДЭК number, once registered
        self.by_reference: dict[str, list[SimOrder]] = {}  # by the shop's number, oldest first
        self._numbers = itertools.count(1_100_285_492)
        self.registries: dict[date, list[dict[str, Any]]] = {}  # paid on a day
        self._registry_numbers = itertools.count(4_200_001)

    # ------------------------------------------------------------------ scripting

    def expire_tokens(self) -> None:
        """Every token given so far stops working (as after its hour)."""
        with self.lock:
            self.tokens.clear()

    def refuse_next_order(self, code: str, message: str) -> None:
        """The next order registered is found INVALID for this reason."""
        with self.lock:
            self.refusals.append((code, message))

    def by_number(self, cdek_number: str) -> SimOrder:
        with self.lock:
            return self.numbered[cdek_number]

    def advance(
        self,
        cdek_number: str,
        code: str,
        *,
        at: datetime | None = None,
        city: str = "Москва",
        reason_code: str | None = None,
        post: bool = True,
    ) -> dict[str, Any]:
        """The order reaches status ``code``; subscribers are told (the ORDER_STATUS body
        is returned too, for replays)."""
        moment = at or datetime.now(UTC)
        with self.lock:
            order = self.numbered[cdek_number]
            status = {
                "code": code,
                "name": code,
                "date_time": stamp(moment),
                "city": city,
                "deleted": False,
            }
            if reason_code:
                status["reason_code"] = reason_code
            order.statuses.append(status)
            if code in ("ACCEPTED_AT_PICK_UP_POINT", "POSTOMAT_POSTED"):
                order.keep_free_until = stamp(moment + timedelta(days=7))
            body = self.webhook_body(order, status)
            urls = [h["url"] for h in self.webhooks if h["type"] == "ORDER_STATUS"]
        if post:
            for url in urls:
                self.post(url, body)
        return body

    def keep_until(self, cdek_number: str, until: datetime) -> None:
        """СДЭК keeps the parcel at its point until ``until`` (the point's own period, or an
        extension the recipient asked for); its webhooks never say so, its order does."""
        with self.lock:
            order = self.numbered[cdek_number]
            order.keep_free_until = stamp(until)

    def remit(
        self,
        paid_on: date,
        parcels: dict[str, Decimal | None],
        *,
        commission_pct: Decimal = Decimal("3"),
    ) -> str:
        """СДЭК pays a registry of cash on delivery on ``paid_on``: for each parcel (by its
        СДЭК number) what it collected - the order's own cash on delivery when None, less
        for a short payment -, less its fee. Returns the registry's number."""
        number = next(self._registry_numbers)
        lines = []
        with self.lock:
            for cdek_number, given in parcels.items():
                order = self.numbered[cdek_number]
                collected = _to_collect(order.body) if given is None else given
                fee = (collected * commission_pct / 100).quantize(Decimal("0.01"))
                lines.append(
                    {
                        "cdek_number": cdek_number,
                        "payment_sum": float(collected),
                        "agent_commission_sum": float(fee),
                        "total_sum_without_agent": float(collected),
                        "transfer_sum": float(collected - fee),
                        "basis_type": "ORDER",
                    }
                )
            self.registries.setdefault(paid_on, []).append(
                {
                    "registry_number": number,
                    "payment_date": paid_on.isoformat(),
                    "sum": float(sum(Decimal(str(o["transfer_sum"])) for o in lines)),
                    "payment_order_number": f"ПП-{number}",
                    "orders": lines,
                    "date_created": stamp(datetime.combine(paid_on, datetime.min.time(), UTC)),
                }
            )
        return str(number)

    def send_back(self, cdek_number: str, *, at: datetime | None = None) -> str:
        """The customer did not take the parcel: NOT_DELIVERED, and a return order that
        carries it back (its СДЭК number is returned)."""
        moment = at or datetime.now(UTC)
        self.advance(cdek_number, "NOT_DELIVERED", at=moment, reason_code="11")
        with self.lock:
            direct = self.numbered[cdek_number]
            back = SimOrder(str(uuids.uuid4()), dict(direct.body), 0, is_return=True)
            back.state = "SUCCESSFUL"
            back.cdek_number = str(next(self._numbers))
            self.numbered[back.cdek_number] = back
            back.related = [
                {"type": "direct_order", "uuid": direct.uuid, "cdek_number": cdek_number}
            ]
            direct.related.append(
                {"type": "return_order", "uuid": back.uuid, "cdek_number": back.cdek_number}
            )
            self._keep(back)
        return back.cdek_number

    def webhook_body(self, order: SimOrder, status: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "ORDER_STATUS",
            "date_time": status["date_time"],
            "uuid": order.uuid,
            "attributes": {
                "is_return": order.is_return,
                "is_reverse": False,
                "is_client_return": False,
                "cdek_number": order.cdek_number,
                "number": order.body.get("number"),
                "related_entities": order.related,
                "code": status["code"],
                "status_code": "0",
                "status_reason_code": status.get("reason_code"),
                "status_date_time": status["date_time"],
                "city_name": status.get("city"),
                "city_code": "44",
                "deleted": False,
            },
        }

    def post(self, url: str, body: dict[str, Any]) -> int:
        """POST a webhook body to ``url`` as СДЭК does; Potok's answer status is kept."""
        answer = httpx.post(url, json=body, timeout=30)
        with self.lock:
            self.posted.append((url, answer.status_code))
        return answer.status_code

    # ------------------------------------------------------------------ vendor specifics

    def _validate(
        self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes
    ) -> str | None:
        # openapi-core reads ``/v2/print/barcodes/{uuid}.pdf`` as ``/v2/print/barcodes/{uuid}``
        # with "<uuid>.pdf" as the uuid; the download is checked by hand as the document says
        if method == "GET" and path.startswith("/v2/print/barcodes/") and path.endswith(".pdf"):
            tail = path.removeprefix("/v2/print/barcodes/").removesuffix(".pdf")
            bearer = any(
                k.lower() == "authorization" and v.startswith("Bearer ") for k, v in headers.items()
            )
            try:
                uuids.UUID(tail)
            except ValueError:
                return f"{method} {path}: the uuid is not a uuid"
            return None if bearer and not raw else f"{method} {path}: no bearer token"
        return super()._validate(method, path, query, headers, raw)

    def authorised(self, headers: dict[str, str]) -> bool:
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if given is None:
            return True  # only the token request goes without; the document checks the rest
        return given.removeprefix("Bearer ") in self.tokens

    def error_body(self, status: int, code: str = "", message: str = "") -> Any:
        text = {
            400: ("v2_bad_request", "Bad request"),
            401: ("v2_token_expired", "Token is expired or invalid"),
            429: ("v2_too_many_requests", "Too many requests"),
            500: ("v2_internal_error", "Internal error"),
            503: ("v2_service_unavailable", "Service unavailable"),
        }.get(status, ("v2_error", "Error"))
        return {
            "requests": [
                {
                    "request_uuid": str(uuids.uuid4()),
                    "type": "GET",
                    "date_time": stamp(datetime.now(UTC)),
                    "state": "INVALID",
                    "errors": [{"code": code or text[0], "message": message or text[1]}],
                }
            ]
        }

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        params = dict(parse_qsl(query))
        if path == "/v2/oauth/token" and method == "POST":
            return self._token(params)
        if path == "/v2/calculator/tarifflist":
            return Answer(200, self._tariffs(body))
        if path == "/v2/orders" and method == "POST":
            return self._create(body)
        if path == "/v2/orders" and method == "GET":
            return self._find(params.get("im_number", ""))
        if path.startswith("/v2/orders/"):
            parts = path.split("/")
            order = self.orders.get(parts[3])
            if order is None:
                return Answer(400, self.error_body(400, "v2_entity_not_found", "Order not found"))
            if len(parts) == 5 and parts[4] == "refusal":
                return self._refuse(order)
            if method == "DELETE":
                return self._delete(order)
            return Answer(200, self._order_answer(order, read=True))
        if path == "/v2/print/barcodes" and method == "POST":
            return self._print(body)
        if path.startswith("/v2/print/barcodes/"):
            return self._barcode(path.removeprefix("/v2/print/barcodes/"))
        if path == "/v2/webhooks":
            return self._webhooks(method, body)
        if path == "/v2/deliverypoints":
            return Answer(200, self._offices(params))
        if path == "/v2/registries":
            paid = self.registries.get(date.fromisoformat(params["date"]), [])
            return Answer(200, {"registries": paid})
        return Answer(404, self.error_body(404, "v2_not_found", path))

    # ------------------------------------------------------------------ answers

    def _token(self, params: dict[str, str]) -> Answer:
        if (params.get("client_id"), params.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return Answer(401, {"error": "invalid_client", "error_description": "Bad credentials"})
        token = uuids.uuid4().hex
        self.tokens.add(token)
        self.tokens_issued += 1
        return Answer(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_life_s,
                "scope": "order:all payment:all",
                "jti": uuids.uuid4().hex,
            },
        )

    def _tariffs(self, body: dict[str, Any]) -> dict[str, Any]:
        start, end = body.get("from_location") or {}, body.get("to_location") or {}
        point = body.get("delivery_point")
        if point:
            office = next((o for o in self.offices if o[0] == point), None)
            if office is None:
                return {"tariff_codes": [], "errors": [_error("v2_pvz_not_found", point)]}
            end = {"latitude": office[4], "longitude": office[5]}
        if "latitude" not in end or "latitude" not in start:
            return {"tariff_codes": [], "errors": [_error("v2_location_not_found", "Куда?")]}
        km = _km(start, end)
        if sum(float(p.get("weight") or 0) for p in body["packages"]) > MAX_WEIGHT_G:
            return {"tariff_codes": [], "errors": [_error("v2_weight_limit", "> 30 кг")]}
        weight_kg = sum(_charged_kg(p) for p in body["packages"])
        if weight_kg * 1000 > MAX_WEIGHT_G * 2:
            return {"tariff_codes": [], "errors": [_error("v2_weight_limit", "> 30 кг")]}
        days = 1 + int(km // 700)
        base = 190 + km * 0.08 + max(0.0, weight_kg - 1) * 45
        return {
            "tariff_codes": [
                {
                    "tariff_code": code,
                    "tariff_name": name,
                    "tariff_description": name,
                    "delivery_mode": mode,
                    "delivery_sum": round(base * factor, 2),
                    "period_min": days,
                    "period_max": days + 1,
                    "calendar_min": days,
                    "calendar_max": days + 1,
                }
                for code, name, mode, factor in TARIFFS
            ]
        }

    def _create(self, body: dict[str, Any]) -> Answer:
        order = SimOrder(str(uuids.uuid4()), body, self.reads_before_registered)
        if self.refusals:
            order.refusal = self.refusals.pop(0)
        elif sum(int(p["weight"]) for p in body["packages"]) > MAX_WEIGHT_G:
            order.refusal = ("v2_weight_limit", "Вес заказа превышает допустимый для тарифа")
        elif body.get("delivery_point") and body["delivery_point"] not in {
            o[0] for o in self.offices
        }:
            order.refusal = ("v2_pvz_not_found", f"ПВЗ {body['delivery_point']} не найден")
        elif _collects(body) and body.get("delivery_point") in {
            o[0] for o in self.offices if o[6] != "PVZ"
        }:  # lockers take no cash on delivery (the offices' allowed_cod)
            order.refusal = (
                "v2_cod_not_allowed",
                f"Наложенный платеж запрещен для ПВЗ {body['delivery_point']}",
            )
        elif any(
            o.state != "INVALID" and not _gone(o)
            for o in self.by_reference.get(str(body.get("number")), ())
        ):
            order.refusal = (
                "error_validate_im_dep_number_has_already_had_integration",
                "Заказ с таким номером ИМ уже существует",
            )
        self._keep(order)
        return Answer(
            202, {"entity": {"uuid": order.uuid}, "requests": [_request(order, "CREATE")]}
        )

    def _decide(self, order: SimOrder) -> None:
        if order.state != "ACCEPTED":
            return
        if order.reads_left > 0:
            order.reads_left -= 1
            return
        if order.refusal is not None:
            order.state = "INVALID"
            return
        order.state = "SUCCESSFUL"
        order.cdek_number = str(next(self._numbers))
        self.numbered[order.cdek_number] = order
        order.statuses.append(
            {"code": "CREATED", "name": "Создан", "date_time": stamp(datetime.now(UTC))}
        )

    def _order_answer(self, order: SimOrder, *, read: bool) -> dict[str, Any]:
        if read:
            self._decide(order)
        body = order.body
        entity: dict[str, Any] = {
            "uuid": order.uuid,
            "type": body.get("type", 1),
            "is_return": order.is_return,
            "is_reverse": False,
            "is_client_return": False,
            "number": body.get("number"),
            "tariff_code": body.get("tariff_code"),
            "delivery_point": body.get("delivery_point"),
            "shipment_point": body.get("shipment_point"),
            "sender": body.get("sender"),
            "recipient": body.get("recipient"),
            "from_location": body.get("from_location") or {},
            "to_location": body.get("to_location") or {},
            "packages": body.get("packages"),
            "statuses": list(reversed(order.statuses)),  # СДЭК lists the newest first
        }
        if order.cdek_number:
            entity["cdek_number"] = order.cdek_number
        if order.keep_free_until:
            entity["keep_free_until"] = order.keep_free_until
        return {
            "entity": entity,
            "requests": [_request(order, "CREATE")],
            "related_entities": order.related,
        }

    def _keep(self, order: SimOrder) -> None:
        self.orders[order.uuid] = order
        self.by_reference.setdefault(str(order.body.get("number")), []).append(order)

    def _find(self, number: str) -> Answer:
        for order in reversed(self.by_reference.get(number, [])):
            if not order.is_return:
                return Answer(200, self._order_answer(order, read=True))
        return Answer(
            400, self.error_body(400, "v2_entity_not_found_im_number", f"Заказ {number} не найден")
        )

    def _delete(self, order: SimOrder) -> Answer:
        moved = [s for s in order.statuses if s["code"] not in ("CREATED", "ACCEPTED")]
        if moved or order.state != "SUCCESSFUL":
            return Answer(
                400,
                self.error_body(400, "v2_order_not_deletable", "Заказ уже передан в СДЭК"),
            )
        order.statuses.append(
            {"code": "REMOVED", "name": "Удален", "date_time": stamp(datetime.now(UTC))}
        )
        return Answer(
            202, {"entity": {"uuid": order.uuid}, "requests": [_request(order, "DELETE")]}
        )

    def _refuse(self, order: SimOrder) -> Answer:
        return Answer(
            202, {"entity": {"uuid": order.uuid}, "requests": [_request(order, "UPDATE")]}
        )

    def _print(self, body: dict[str, Any]) -> Answer:
        wanted = [o.get("order_uuid") for o in body.get("orders") or []]
        if not all(w in self.orders and self.orders[w].cdek_number for w in wanted):
            return Answer(400, self.error_body(400, "v2_entity_not_found", "Заказ не найден"))
        print_uuid = str(uuids.uuid4())
        self.barcodes[print_uuid] = {"orders": wanted, "reads": 0}
        return Answer(202, {"entity": {"uuid": print_uuid}, "requests": []})

    def _barcode(self, tail: str) -> Answer:
        pdf = tail.endswith(".pdf")
        found = self.barcodes.get(tail.removesuffix(".pdf"))
        if found is None:
            return Answer(400, self.error_body(400, "v2_entity_not_found", "Нет такой формы"))
        if pdf:
            numbers = [self.orders[u].cdek_number or "" for u in found["orders"]]
            return Answer(200, _label(numbers), {"Content-Type": "application/pdf"})
        found["reads"] += 1
        now = stamp(datetime.now(UTC))
        statuses = [{"code": "ACCEPTED", "name": "Принят", "date_time": now}]
        if found["reads"] > 1:
            statuses.append({"code": "READY", "name": "Сформирован", "date_time": now})
        entity = {
            "uuid": tail,
            "orders": [{"order_uuid": u} for u in found["orders"]],
            "format": "A6",
            "statuses": statuses,
        }
        if found["reads"] > 1:
            entity["url"] = f"{self.url}/v2/print/barcodes/{tail}.pdf"
        return Answer(200, {"entity": entity, "requests": [], "related_entities": []})

    def _webhooks(self, method: str, body: Any) -> Answer:
        if method == "GET":
            return Answer(200, list(self.webhooks))
        hook = {"uuid": str(uuids.uuid4()), "type": body["type"], "url": body["url"]}
        self.webhooks.append(hook)
        return Answer(200, {"entity": {"uuid": hook["uuid"]}, "requests": []})

    def _offices(self, params: dict[str, str]) -> list[dict[str, Any]]:
        size, page = int(params.get("size", 1000)), int(params.get("page", 0))
        found = [
            {
                "code": code,
                "uuid": str(uuids.uuid5(uuids.NAMESPACE_URL, code)),
                "work_time": "Пн-Пт 10:00-20:00, Сб-Вс 10:00-18:00",
                "phones": [{"number": "+78002500405"}],
                "type": kind,
                "owner_code": "CDEK",
                "take_only": False,
                "is_handout": True,
                "is_reception": kind == "PVZ",
                "is_dressing_room": kind == "PVZ",
                "have_cashless": True,
                "have_cash": kind == "PVZ",
                "have_fast_payment_system": True,
                "allowed_cod": kind == "PVZ",
                "weight_min": 0,
                "weight_max": 30 if kind == "PVZ" else 15,
                **({} if kind == "PVZ" else {"dimensions": LOCKER_CELLS}),
                "status": "ACTIVE",
                "work_time_list": [{"day": d, "time": "10:00/20:00"} for d in range(1, 6)],
                "location": {
                    "country_code": "RU",
                    "region_code": 81,
                    "region": city,
                    "city_code": city_code,
                    "city": city,
                    "longitude": lon,
                    "latitude": lat,
                    "address": address,
                    "address_full": f"{city}, {address}",
                },
            }
            for code, city, city_code, address, lat, lon, kind in self.offices
            if "city_code" not in params or str(city_code) == params["city_code"]
        ]
        return found[page * size : (page + 1) * size]


def _charged_kg(package: dict[str, Any]) -> float:
    """What СДЭК charges a box for: its weight, or its volume weight (length × width ×
    height in cm / 5000) when that is more."""
    weight = float(package.get("weight") or 0) / 1000
    sides = [package.get(k) for k in ("length", "width", "height")]
    if all(isinstance(side, int) for side in sides):
        length, width, height = (int(side) for side in sides)  # type: ignore[arg-type]
        return max(weight, length * width * height / 5000)
    return weight


def _to_collect(body: dict[str, Any]) -> Decimal:
    """The money the order asks СДЭК to collect: its items' and the delivery charge."""
    goods = sum(
        (
            Decimal(str((item.get("payment") or {}).get("value") or 0)) * int(item["amount"])
            for package in body.get("packages") or []
            for item in package.get("items") or []
        ),
        Decimal("0"),
    )
    charge = Decimal(str((body.get("delivery_recipient_cost") or {}).get("value") or 0))
    return (goods + charge).quantize(Decimal("0.01"))


def _collects(body: dict[str, Any]) -> bool:
    """Whether the order asks СДЭК to collect money from the recipient."""
    goods = any(
        float((item.get("payment") or {}).get("value") or 0) > 0
        for package in body.get("packages") or []
        for item in package.get("items") or []
    )
    return goods or float((body.get("delivery_recipient_cost") or {}).get("value") or 0) > 0


def _request(order: SimOrder, kind: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "request_uuid": str(uuids.uuid4()),
        "type": kind,
        "date_time": stamp(datetime.now(UTC)),
        "state": order.state if kind == "CREATE" else "SUCCESSFUL",
    }
    if kind == "CREATE" and order.state == "INVALID" and order.refusal:
        request["errors"] = [_error(*order.refusal)]
    return request


def _error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _gone(order: SimOrder) -> bool:
    return any(s["code"] == "REMOVED" for s in order.statuses)


def _km(start: dict[str, Any], end: dict[str, Any]) -> float:
    lat1, lon1 = math.radians(float(start["latitude"])), math.radians(float(start["longitude"]))
    lat2, lon2 = math.radians(float(end["latitude"])), math.radians(float(end["longitude"]))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371 * 2 * math.asin(math.sqrt(a))


def _label(numbers: list[str]) -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=(298, 420))  # A6 in points
    for number in numbers:
        sheet.setFont("Helvetica-Bold", 20)
        sheet.drawString(20, 380, "CDEK")
        sheet.setFont("Helvetica", 14)
        sheet.drawString(20, 350, number)
        sheet.showPage()
    sheet.save()
    return out.getvalue()
