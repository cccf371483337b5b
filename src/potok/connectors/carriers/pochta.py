"""Почта России behind the carrier interface: «Отправка» (otpravka-api.pochta.ru) for prices,
orders and their cancellation, and the tracking service's single-access SOAP API
(``getOperationHistory``) for statuses.

Почта publishes no machine-readable description. What is built here follows the responses
observed from the live API (``../shared/specs/carriers/pochta/``): the tariff answer
(``total-rate`` + ``total-vat`` in kopecks, ``delivery-time.max-days``), ``result-ids`` of
created orders, the order with its ``barcode`` (the РПО, Potok's tracking number) and the
``errors`` of a refused request. The request bodies and the tracking service's SOAP
envelope follow Почта's published conventions and are **not verified** against a captured
exchange (docs/integrators.md lists what).

Auth: ``Authorization: AccessToken <token>`` and ``X-User-Authorization: Basic
<base64(login:password)>`` on «Отправка»; login and password inside the SOAP body for
tracking. Почта sends no webhooks: tracking is polled.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import httpx
from defusedxml import ElementTree

from potok.connectors.carriers.interface import (
    Booking,
    BookingRequest,
    CarrierRefused,
    CarrierUnavailable,
    PickupPoint,
    Quote,
    QuoteRequest,
    Tracked,
    TrackingEvent,
    TrackingStatus,
)

CODE = "pochta"
KOPECKS = Decimal("0.01")
CASH_ON_DELIVERY_CATEGORY = "WITH_DECLARED_VALUE_AND_CASH_ON_DELIVERY"
SOAP = "http://www.w3.org/2003/05/soap-envelope"
HISTORY = "http://russianpost.org/operationhistory"
DATA = "http://russianpost.org/operationhistory/data"

# the tracking service's operation types (OperType), as Почта's tracking page lists them
ACCEPTED, HANDED, RETURNED, NOT_HANDED, PROCESSED, FAILED_ATTEMPT = 1, 2, 3, 5, 8, 12
ARRIVED_FOR_HANDING = 2  # OperAttr of «Обработка»: «Прибыло в место вручения»


class PochtaCarrier:
    """Почта России through one «Отправка» account (and tracking credentials)."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        login: str,
        password: str,
        index_from: str,
        tracking_url: str,
        tracking_login: str,
        tracking_password: str,
        mail_type: str = "POSTAL_PARCEL",
        mail_category: str = "ORDINARY",
        storage_days: int = 15,
        point_cities: Sequence[str] = (),
        timeout_s: float = 20.0,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.index_from = index_from
        self.mail_type = mail_type
        self.mail_category = mail_category
        self.storage_days = storage_days
        self.point_cities = tuple(point_cities)  # whose post offices the directory keeps
        self.attempts = attempts
        self.tracking_url = tracking_url
        self._tracking_login = tracking_login
        self._tracking_password = tracking_password
        self._sleep = sleep
        basic = base64.b64encode(f"{login}:{password}".encode()).decode()
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            transport=transport,
            headers={
                "Authorization": f"AccessToken {token}",
                "X-User-Authorization": f"Basic {basic}",
                "Accept": "application/json;charset=UTF-8",
            },
        )
        self._lock = threading.Lock()

    @property
    def code(self) -> str:
        return CODE

    # ------------------------------------------------------------------ HTTP

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        safe: bool = True,
    ) -> Any:
        """An «Отправка» call's JSON answer; 5xx and timeouts tried again when ``safe``; an
        answer carrying ``errors`` or a 4xx raises :class:`CarrierRefused`."""
        last = ""
        for attempt in range(1, self.attempts + 1):
            try:
                answer = self._client.request(method, path, json=json, params=params)
            except httpx.TransportError as error:
                last = f"{method} {path}: {type(error).__name__} {error}".strip()
                if not safe or isinstance(error, httpx.ConnectError):
                    break
                self._pause(attempt)
                continue
            if answer.status_code == 429 or answer.status_code >= 500:
                last = f"{method} {path}: {answer.status_code}"
                if not safe and answer.status_code != 429:
                    break
                self._pause(attempt)
                continue
            body = _json(answer)
            if answer.status_code in (401, 403):
                raise CarrierUnavailable(
                    carrier=CODE, reason=f"Почта refused the credentials: {answer.status_code}"
                )
            if answer.status_code >= 400 or _errors(body):
                raise CarrierRefused(
                    carrier=CODE,
                    reason=f"{method} {path}: {_errors(body) or answer.status_code}",
                )
            return body
        raise CarrierUnavailable(carrier=CODE, reason=last or f"{method} {path}: no answer")

    def _pause(self, attempt: int) -> None:
        if attempt < self.attempts:
            self._sleep(min(0.5 * 2 ** (attempt - 1), 10.0))

    # ------------------------------------------------------------------ prices

    def quote(self, request: QuoteRequest) -> list[Quote]:
        index_to = request.postal_code or request.pickup_point
        if not index_to or not index_to.isdigit():
            return []  # Почта prices between postal codes only
        answer = self.call(
            "POST",
            "/1.0/tariff",
            json={
                "index-from": self.index_from,
                "index-to": index_to,
                "mail-category": self.mail_category,
                "mail-type": self.mail_type,
                "mass": max(request.weight_g, 1),
            },
        )
        price = (
            Decimal(int(answer.get("total-rate") or 0) + int(answer.get("total-vat") or 0))
            * KOPECKS
        )
        days = int((answer.get("delivery-time") or {}).get("max-days") or 0)
        return [Quote(self.mail_type, price.quantize(KOPECKS), days, _words(self.mail_type))]

    # ------------------------------------------------------------------ orders

    def book(self, request: BookingRequest) -> Booking:
        if not request.parcels:
            raise CarrierRefused(carrier=CODE, reason="a booking needs at least one parcel")
        if len(request.parcels) > 1:
            raise CarrierRefused(
                carrier=CODE, reason="Почта takes one parcel per order: split the shipment"
            )
        index_to = request.postal_code or request.pickup_point
        if not index_to or not index_to.isdigit():
            raise CarrierRefused(carrier=CODE, reason="Почта needs the recipient's postal code")
        earlier = self._find(request.reference)
        if earlier is not None:
            return self._booking(earlier)
        answer = self.call(
            "PUT", "/1.0/user/backlog", json=[self._order_body(request, index_to)], safe=False
        )
        ids = answer.get("result-ids") or []
        if not ids:
            raise CarrierRefused(carrier=CODE, reason="Почта created no order")
        return self._booking(self.call("GET", f"/1.0/backlog/{int(ids[0])}"))

    def _find(self, reference: str) -> dict[str, Any] | None:
        found = self.call("GET", "/1.0/backlog/search", params={"query": reference})
        for order in found if isinstance(found, list) else []:
            if str(order.get("order-num")) == reference and order.get("barcode"):
                return dict(order)
        return None

    def _booking(self, order: Mapping[str, Any]) -> Booking:
        total = int(order.get("total-rate-wo-vat") or order.get("mass-rate") or 0) + int(
            order.get("total-vat") or 0
        )
        return Booking(
            carrier_ref=str(order["id"]),
            tracking_number=str(order["barcode"]),
            label=f"pochta://backlog/{order['id']}",
            tariff=str(order.get("mail-type") or self.mail_type),
            days=int((order.get("delivery-time") or {}).get("max-days") or 0),
            price=(Decimal(total) * KOPECKS).quantize(KOPECKS),
        )

    def _order_body(self, request: BookingRequest, index_to: str) -> dict[str, Any]:
        parcel = request.parcels[0]
        surname, _, given = request.recipient_name.strip().partition(" ")
        body: dict[str, Any] = {
            "order-num": request.reference[:50],
            "address-type-to": "DEFAULT",
            "index-to": int(index_to),
            "postoffice-code": self.index_from,
            "mail-direct": 643,
            "mail-type": self.mail_type,
            "mail-category": self.mail_category,
            "mass": parcel.weight_g,
            "dimension": {
                "length": max(1, round(parcel.length_mm / 10)),
                "width": max(1, round(parcel.width_mm / 10)),
                "height": max(1, round(parcel.height_mm / 10)),
            },
            "recipient-name": request.recipient_name[:200] or "—",
            "surname": (surname or request.recipient_name)[:100],
            "given-name": given[:100],
            "place-to": (request.city or "")[:200],
            "region-to": (request.region or request.city or "")[:200],
            "street-to": (request.address or "")[:200],
            "transport-type": "SURFACE",
        }
        digits = "".join(c for c in request.recipient_phone or "" if c.isdigit())
        if digits:
            body["tel-address"] = int(digits[-11:])
        if request.declared_value:
            body["insr-value"] = _kopecks(request.declared_value)
        if request.cash_on_delivery > 0:
            # unverified: from Почта's published enums, not an observed answer - an order
            # the post office collects money for is "with declared value and cash on
            # delivery", the money (in kopecks) no more than the declared value
            body["mail-category"] = CASH_ON_DELIVERY_CATEGORY
            body["payment"] = _kopecks(request.cash_on_delivery)
            body["insr-value"] = max(body.get("insr-value", 0), body["payment"])
        return body

    def cancel(self, booking: Booking | Tracked) -> None:
        """Delete the order from the backlog (before it joined a batch)."""
        if not booking.carrier_ref or not booking.carrier_ref.isdigit():
            raise CarrierRefused(carrier=CODE, reason=f"no order id for {booking.tracking_number}")
        self.call("DELETE", "/1.0/backlog", json=[int(booking.carrier_ref)], safe=False)

    def form_batch(self, shipments: Sequence[Tracked], *, sending_on: str) -> list[str]:
        """Put booked orders into batches («партии») sent on ``sending_on`` (YYYY-MM-DD):
        the names of the batches Почта made."""
        ids = [int(s.carrier_ref) for s in shipments if s.carrier_ref and s.carrier_ref.isdigit()]
        if not ids:
            return []
        answer = self.call(
            "POST",
            "/1.0/user/shipment",
            json=ids,
            params={"sending-date": sending_on},
            safe=False,
        )
        return [str(b.get("batch-name")) for b in answer.get("batches") or []]

    # ------------------------------------------------------------------ tracking

    def track(self, shipments: Sequence[Tracked], now: datetime) -> list[TrackingEvent]:
        events: list[TrackingEvent] = []
        for shipment in shipments:
            events.extend(e for e in self.history(shipment.tracking_number) if e.occurred_at <= now)
        return events

    def history(self, barcode: str) -> list[TrackingEvent]:
        """A parcel's operations from the tracking service, in Potok's words."""
        envelope = (
            f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:oper="{HISTORY}" xmlns:data="{DATA}">'
            "<soap:Header/><soap:Body><oper:getOperationHistory>"
            "<data:OperationHistoryRequest>"
            f"<data:Barcode>{escape(barcode)}</data:Barcode>"
            "<data:MessageType>0</data:MessageType><data:Language>RUS</data:Language>"
            "</data:OperationHistoryRequest>"
            '<data:AuthorizationHeader soap:mustUnderstand="1">'
            f"<data:login>{escape(self._tracking_login)}</data:login>"
            f"<data:password>{escape(self._tracking_password)}</data:password>"
            "</data:AuthorizationHeader>"
            "</oper:getOperationHistory></soap:Body></soap:Envelope>"
        )
        try:
            answer = self._client.post(
                self.tracking_url,
                content=envelope.encode(),
                headers={"Content-Type": "application/soap+xml; charset=utf-8"},
            )
        except httpx.TransportError as error:
            raise CarrierUnavailable(carrier=CODE, reason=f"tracking: {error}") from None
        if answer.status_code >= 500 and b"Fault" not in answer.content:
            raise CarrierUnavailable(carrier=CODE, reason=f"tracking: {answer.status_code}")
        return read_history(barcode, answer.content)

    def read_webhook(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str] | None = None
    ) -> list[TrackingEvent]:
        raise CarrierRefused(carrier=CODE, reason="Почта sends no webhooks; it is polled")

    def pickup_points(self, *, city: str | None = None, limit: int = 100) -> list[PickupPoint]:
        """Post offices of a city (else of every city in ``point_cities``): their postal
        codes by ``GET /postoffice/1.0/by-address``, then each office by ``GET
        /postoffice/1.0/{postal code}``; closed ones are left out. Почта lists no offices
        country-wide, so only the cities named are synced."""
        points: list[PickupPoint] = []
        for name in [city] if city else list(self.point_cities):
            found = self.call(
                "GET", "/postoffice/1.0/by-address", params={"address": name, "top": "50"}
            )
            for index in found.get("postoffices") or []:
                if len(points) >= limit:
                    return points
                office = self.call("GET", f"/postoffice/1.0/{index}")
                point = post_office(office, self.storage_days)
                if point is not None:
                    points.append(point)
        return points


WEEKDAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")


def post_office(office: Mapping[str, Any], storage_days: int) -> PickupPoint | None:
    """A post office (searchPostOfficeByIndex's answer) as a pickup point; None when it is
    closed, or temporarily closed, or has no coordinates."""
    if office.get("is-closed") or office.get("is-temporary-closed"):
        return None
    try:
        latitude, longitude = float(office["latitude"]), float(office["longitude"])
        code = str(office["postal-code"])
    except (KeyError, TypeError, ValueError):
        return None
    days = []
    for number, day in enumerate(office.get("working-hours") or []):
        begin, end = str(day.get("begin-worktime") or ""), str(day.get("end-worktime") or "")
        if begin and end and number < len(WEEKDAYS):
            days.append(f"{WEEKDAYS[number]} {begin[:5]}-{end[:5]}")
    return PickupPoint(
        code=code,
        name=f"Отделение Почты России {code}",
        city=str(office.get("settlement") or "")[:120],
        address=str(office.get("address-source") or "")[:500],
        latitude=latitude,
        longitude=longitude,
        storage_days=storage_days,
        hours=", ".join(days)[:200],
        extra={
            "type": str(office.get("type-code") or "ОПС"),
            # unverified: Почта's answer says nothing of payments or weights; a post office
            # takes cash on delivery (наложенный платёж) and cards, and parcels up to 20 kg
            "allowed_cod": "true",
            "have_cashless": "true",
            "weight_max_kg": "20",
        },
    )


def read_history(barcode: str, xml: bytes) -> list[TrackingEvent]:
    """The ``historyRecord`` elements of a getOperationHistory answer as events; a SOAP
    fault (an unknown barcode) is no event."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as error:
        raise CarrierUnavailable(
            carrier=CODE, reason=f"tracking answered nonsense: {error}"
        ) from None
    events: list[TrackingEvent] = []
    returning = False
    for record in root.iter(f"{{{DATA}}}historyRecord"):
        kind = _int(record, "OperationParameters/OperType/Id")
        attr = _int(record, "OperationParameters/OperAttr/Id")
        name = _text(record, "OperationParameters/OperAttr/Name") or _text(
            record, "OperationParameters/OperType/Name"
        )
        when = _text(record, "OperationParameters/OperDate")
        if kind is None or not when:
            continue
        at = datetime.fromisoformat(when).astimezone(UTC)
        if kind == RETURNED:
            returning = True
        status = _status(kind, attr, returning=returning)
        digest = hashlib.sha256(f"{barcode}|{kind}|{attr}|{at.isoformat()}".encode()).hexdigest()
        events.append(
            TrackingEvent(
                tracking_number=barcode,
                status=status,
                occurred_at=at,
                description=f"{name or kind} ({kind}.{attr if attr is not None else 0})"[:255],
                event_id=f"pochta-{digest[:40]}",
                location=(_text(record, "AddressParameters/OperationAddress/Description") or None),
            )
        )
    return events


def _status(kind: int, attr: int | None, *, returning: bool) -> TrackingStatus:
    if kind == HANDED:
        return TrackingStatus.RETURNED_TO_SENDER if returning else TrackingStatus.DELIVERED
    if kind == RETURNED:
        return TrackingStatus.RETURNING
    if kind in (NOT_HANDED, FAILED_ATTEMPT):
        return TrackingStatus.FAILED_DELIVERY
    if returning:
        return TrackingStatus.RETURNING
    if kind == PROCESSED and attr == ARRIVED_FOR_HANDING:
        return TrackingStatus.READY_FOR_PICKUP
    return TrackingStatus.IN_TRANSIT  # accepted, sorted, left, arrived, customs, ...


def _kopecks(amount: Decimal) -> int:
    """Roubles as Почта's whole kopecks, exactly."""
    return int((amount / KOPECKS).to_integral_value())


def _text(record: Any, path: str) -> str:
    node = record.find("/".join(f"{{{DATA}}}{part}" for part in path.split("/")))
    return (node.text or "").strip() if node is not None else ""


def _int(record: Any, path: str) -> int | None:
    text = _text(record, path)
    return int(text) if text.isdigit() else None


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _errors(body: Any) -> str:
    """The words of an «Отправка» answer's errors (``errors[].code/description``, or the
    per-order ``errors[].error-codes[]``)."""
    if not isinstance(body, dict):
        return ""
    found = []
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        for item in [error, *(error.get("error-codes") or [])]:
            if isinstance(item, dict) and (item.get("description") or item.get("code")):
                found.append(f"{item.get('description') or ''} ({item.get('code')})".strip())
    return "; ".join(found)[:300]


def _words(mail_type: str) -> str:
    return {
        "POSTAL_PARCEL": "Посылка «нестандартная»",
        "ONLINE_PARCEL": "Посылка онлайн",
        "ECOM": "ЕКОМ",
    }.get(mail_type, mail_type)
