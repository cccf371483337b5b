"""СДЭК behind the carrier interface, in the formats of its API v2 OpenAPI document
(``../shared/specs/carriers/cdek/``).

- prices: ``POST /v2/calculator/tarifflist``, the tariffs of the right delivery mode
  (to the door or to a point; from the warehouse's door or a СДЭК office), cheapest first;
  remembered ``quote_ttl_s``; while СДЭК is down a remembered price, else Potok's own
  tariff table, both marked not live;
- booking: ``POST /v2/orders`` answers at once with the order's uuid and registers it
  asynchronously; the order is then read (``GET /v2/orders/{uuid}``) until it is
  registered (its СДЭК number is the tracking number) or refused (the reason kept). A
  reference booked before is found by its number (``GET /v2/orders?im_number=``);
- labels: ``POST /v2/print/barcodes``, read until ready, then its PDF;
- cancel (``DELETE /v2/orders/{uuid}``) before hand-over, refusal after;
- cash on delivery remitted: ``GET /v2/registries?date=`` lists the registries СДЭК paid
  that day, each parcel with what was collected, withheld and transferred;
- tracking: the ``ORDER_STATUS`` webhook (authenticated by a secret in its URL: СДЭК signs
  nothing) and polling of ``GET /v2/orders/{uuid}`` (and of its return order), both giving
  the same event ids, so either may come first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from potok.connectors.carriers.cdek_http import CODE, CdekHttp, errors_in
from potok.connectors.carriers.cdek_statuses import describe, tracking_status
from potok.connectors.carriers.interface import (
    Booking,
    BookingRequest,
    CarrierRefused,
    CarrierUnavailable,
    Parcel,
    ParcelItem,
    PickupPoint,
    Quote,
    QuoteRequest,
    Remittance,
    Tracked,
    TrackingEvent,
    TrackingStatus,
)
from potok.domain.kernel import vat_included
from potok.domain.sourcing.geo import distance_km
from potok.domain.sourcing.tariffs import built_in_tariffs

ONLINE_SHOP = 1  # СДЭК's order type «интернет-магазин»
TO_DOOR = {False: (1,), True: (3,)}  # from an office? -> delivery modes (Приложение 15)
TO_POINT = {False: (2, 6), True: (4, 7)}
WEBHOOK_SECRET = "secret"  # noqa: S105 - the name of the webhook URL's query parameter
MAX_EVENTS = 1000
PAGE = 1000  # delivery points per page
KOPECK = Decimal("0.01")
SIDES = ("depth", "width", "height")
FIRST_CHECK_S = 0.25  # the first look at a request СДЭК handles asynchronously


class CdekCarrier:
    """СДЭК through one account."""

    def __init__(
        self,
        http: CdekHttp,
        *,
        webhook_secret: str = "",
        shipment_point: str = "",
        sender_name: str = "Potok",
        booking_wait_s: float = 30.0,
        check_every_s: float = 2.0,
        quote_ttl_s: float = 600.0,
        storage_days: int = 7,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.webhook_secret = webhook_secret
        self.shipment_point = shipment_point
        self.sender_name = sender_name
        self.booking_wait_s = booking_wait_s
        self.check_every_s = check_every_s
        self.quote_ttl_s = quote_ttl_s
        self.storage_days = storage_days
        self._sleep = sleep
        self._clock = clock
        self._quotes: dict[tuple[Any, ...], tuple[float, list[Quote]]] = {}
        self._lock = threading.Lock()
        self.tariffs = built_in_tariffs()

    @property
    def code(self) -> str:
        return CODE

    # ------------------------------------------------------------------ prices

    def quote(self, request: QuoteRequest) -> list[Quote]:
        key = (
            request.origin,
            request.destination,
            request.weight_g,
            request.city,
            request.pickup_point,
            tuple((p.weight_g, p.length_mm, p.width_mm, p.height_mm) for p in request.parcels),
        )
        with self._lock:
            cached = self._quotes.get(key)
        if cached is not None and self._clock() - cached[0] < self.quote_ttl_s:
            return cached[1]
        try:
            found = self._live_quotes(request)
        except CarrierUnavailable:
            if cached is not None:
                return [_not_live(q, "remembered") for q in cached[1]]
            return self._table_quote(request)
        with self._lock:
            self._quotes[key] = (self._clock(), found)
        return found

    def _live_quotes(self, request: QuoteRequest) -> list[Quote]:
        body: dict[str, Any] = {
            "type": ONLINE_SHOP,
            "from_location": _location(request.origin, None),
            "to_location": _location(request.destination, request.city),
            "packages": [
                {
                    "weight": max(p.weight_g, 1),
                    "length": _cm(p.length_mm),
                    "width": _cm(p.width_mm),
                    "height": _cm(p.height_mm),
                }
                for p in request.parcels
            ]
            or [{"weight": max(request.weight_g, 1)}],  # before packing: the weight alone
        }
        if self.shipment_point:
            body["shipment_point"] = self.shipment_point
        if request.pickup_point:
            body["delivery_point"] = request.pickup_point
        answer = self.http.call("POST", "/v2/calculator/tarifflist", json=body).json()
        modes = (TO_POINT if request.pickup_point else TO_DOOR)[bool(self.shipment_point)]
        offered = [
            Quote(
                tariff=str(t["tariff_code"]),
                price=Decimal(str(t["delivery_sum"])).quantize(Decimal("0.01")),
                days=int(t.get("period_max") or t.get("period_min") or 0),
                description=str(t.get("tariff_name") or "")[:255],
            )
            for t in answer.get("tariff_codes") or []
            if int(t.get("delivery_mode") or 0) in modes
        ]
        return sorted(offered, key=lambda q: (q.price, q.days, q.tariff))

    def _table_quote(self, request: QuoteRequest) -> list[Quote]:
        """Potok's own tariff table while СДЭК cannot be asked."""
        if request.destination is None:
            return []
        km = distance_km(request.origin, request.destination)
        found = self.tariffs.quote("*", km=km, weight_kg=request.weight_g / 1000)
        if found is None:
            return []
        return [Quote("table", found.cost, found.days, "Potok's tariff table", live=False)]

    # ------------------------------------------------------------------ bookings

    def book(self, request: BookingRequest) -> Booking:
        if not request.parcels:
            raise CarrierRefused(carrier=CODE, reason="a booking needs at least one parcel")
        earlier = self._find(request.reference)
        if earlier is not None:
            return earlier
        tariff, quote = self._tariff_for(request)
        answer = self.http.call(
            "POST", "/v2/orders", json=self._order_body(request, tariff), safe=False
        ).json()
        uuid = str((answer.get("entity") or {}).get("uuid") or "")
        if not uuid:
            raise CarrierRefused(carrier=CODE, reason=errors_in(answer) or "no order uuid")
        order = self._registered(uuid)
        return Booking(
            carrier_ref=uuid,
            tracking_number=str(order["cdek_number"]),
            label=f"cdek://orders/{uuid}/barcode.pdf",
            tariff=tariff,
            days=quote.days if quote else 0,
            price=quote.price if quote else Decimal("0.00"),
        )

    def _find(self, reference: str) -> Booking | None:
        """The live order booked before under this reference, if any."""
        try:
            answer = self.http.call("GET", "/v2/orders", params={"im_number": reference}).json()
        except CarrierRefused:
            return None  # СДЭК answers an unknown number with an error
        order = answer.get("entity") or {}
        removed = any(s.get("code") == "REMOVED" for s in order.get("statuses") or [])
        if not order.get("cdek_number") or removed:
            return None
        return Booking(
            carrier_ref=str(order["uuid"]),
            tracking_number=str(order["cdek_number"]),
            label=f"cdek://orders/{order['uuid']}/barcode.pdf",
            tariff=str(order.get("tariff_code") or ""),
            days=0,
            price=Decimal(str((order.get("delivery_detail") or {}).get("delivery_sum") or 0)),
        )

    def _tariff_for(self, request: BookingRequest) -> tuple[str, Quote | None]:
        weight = sum(p.weight_g for p in request.parcels)
        quotes = self._live_quotes(
            QuoteRequest(
                request.origin,
                request.destination,
                weight,
                city=request.city,
                pickup_point=request.pickup_point,
                parcels=tuple(request.parcels),
            )
        )
        if request.tariff:
            chosen = next((q for q in quotes if q.tariff == request.tariff), None)
            return request.tariff, chosen
        if not quotes:
            raise CarrierRefused(carrier=CODE, reason="no СДЭК tariff reaches the destination")
        return quotes[0].tariff, quotes[0]

    def _order_body(self, request: BookingRequest, tariff: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": ONLINE_SHOP,
            "number": request.reference[:40],
            "tariff_code": int(tariff),
            "comment": f"Potok {request.reference}"[:255],
            "sender": {"name": self.sender_name[:255]},
            "recipient": {
                "name": request.recipient_name[:255] or "—",
                "phones": [{"number": request.recipient_phone[:24]}]
                if request.recipient_phone
                else [],
            },
            "packages": [
                {
                    "number": f"{request.reference}-{index}"[:30],
                    "weight": parcel.weight_g,
                    "length": _cm(parcel.length_mm),
                    "width": _cm(parcel.width_mm),
                    "height": _cm(parcel.height_mm),
                    "items": items,
                }
                for index, (parcel, items) in enumerate(_package_items(request), start=1)
            ],
        }
        if request.delivery_to_collect > 0:  # the delivery charge, collected with the goods
            body["delivery_recipient_cost"] = _money(
                request.delivery_to_collect, request.delivery_vat_rate
            )
        if self.shipment_point:
            body["shipment_point"] = self.shipment_point
        else:
            body["from_location"] = {
                **_location(request.origin, None),
                "address": request.from_warehouse[:255],
            }
        if request.pickup_point:
            body["delivery_point"] = request.pickup_point[:255]
        else:
            body["to_location"] = {
                **_location(request.destination, request.city),
                "address": (request.address or request.city or "")[:255],
            }
        return body

    def _registered(self, uuid: str) -> dict[str, Any]:
        """Read the order until СДЭК registered it (its number given) or refused it."""
        deadline = self._clock() + self.booking_wait_s
        for pause in self._pauses():
            self._sleep(pause)
            answer = self.http.call("GET", f"/v2/orders/{uuid}").json()
            order = answer.get("entity") or {}
            states = [r.get("state") for r in answer.get("requests") or []]
            if "INVALID" in states:
                raise CarrierRefused(
                    carrier=CODE, reason=errors_in(answer) or "СДЭК refused the order"
                )
            if order.get("cdek_number"):
                return dict(order)
            if self._clock() >= deadline:
                raise CarrierUnavailable(
                    carrier=CODE,
                    reason=f"СДЭК has not registered order {uuid} within "
                    f"{self.booking_wait_s:g} s; booking again finds it",
                )
        raise AssertionError("unreachable: the pauses never end")  # pragma: no cover

    def _pauses(self, *, at_once: bool = False) -> Iterator[float]:
        """The waits before each check of a request СДЭК handles asynchronously: none
        (``at_once``) or a short one first - it usually answers within a second -, then
        doubling up to ``check_every_s``: a booking no longer waits a whole interval before
        its first look, nor between its first looks."""
        if at_once:
            yield 0.0
        pause = min(FIRST_CHECK_S, self.check_every_s)
        while True:
            yield pause
            pause = min(pause * 2, self.check_every_s)

    def cancel(self, booking: Booking | Tracked) -> None:
        """Delete the order at СДЭК (before it reached СДЭК's warehouse)."""
        uuid = booking.carrier_ref
        if not uuid:
            raise CarrierRefused(
                carrier=CODE, reason=f"no order uuid for {booking.tracking_number}"
            )
        try:
            self.http.call("DELETE", f"/v2/orders/{uuid}", safe=False)
        except CarrierRefused:
            order = self.http.call("GET", f"/v2/orders/{uuid}").json().get("entity") or {}
            if any(s.get("code") == "REMOVED" for s in order.get("statuses") or []):
                return  # called off before: a second call-off is nothing
            raise

    def refuse(self, shipment: Tracked) -> None:
        """The customer refuses a parcel already with СДЭК: it goes back to the sender."""
        if not shipment.carrier_ref:
            raise CarrierRefused(
                carrier=CODE, reason=f"no order uuid for {shipment.tracking_number}"
            )
        self.http.call("POST", f"/v2/orders/{shipment.carrier_ref}/refusal", safe=False)

    # ------------------------------------------------------------------ labels

    def label_pdf(self, shipment: Tracked) -> bytes:
        if not shipment.carrier_ref:
            raise CarrierRefused(
                carrier=CODE, reason=f"no order uuid for {shipment.tracking_number}"
            )
        answer = self.http.call(
            "POST",
            "/v2/print/barcodes",
            json={"orders": [{"order_uuid": shipment.carrier_ref}], "format": "A6"},
        ).json()
        uuid = str((answer.get("entity") or {}).get("uuid") or "")
        if not uuid:
            raise CarrierRefused(carrier=CODE, reason=errors_in(answer) or "no label uuid")
        deadline = self._clock() + self.booking_wait_s
        for pause in self._pauses(at_once=True):
            if pause:
                self._sleep(pause)
            printed = self.http.call("GET", f"/v2/print/barcodes/{uuid}").json()
            codes = [s.get("code") for s in (printed.get("entity") or {}).get("statuses") or []]
            if "INVALID" in codes or "REMOVED" in codes:
                raise CarrierRefused(
                    carrier=CODE, reason=errors_in(printed) or "СДЭК could not print the label"
                )
            if "READY" in codes:
                break
            if self._clock() >= deadline:
                raise CarrierUnavailable(carrier=CODE, reason=f"label {uuid} is not ready yet")
        return self.http.call("GET", f"/v2/print/barcodes/{uuid}.pdf").content

    # ------------------------------------------------------------------ tracking

    def track(self, shipments: Sequence[Tracked], now: datetime) -> list[TrackingEvent]:
        events: list[TrackingEvent] = []
        for shipment in shipments:
            if not shipment.carrier_ref:
                continue
            try:
                answer = self.http.call("GET", f"/v2/orders/{shipment.carrier_ref}").json()
            except CarrierRefused:
                continue  # an order СДЭК no longer knows; the webhook may still tell
            order = answer.get("entity") or {}
            events.extend(_order_events(order, shipment.tracking_number, is_return=False, now=now))
            for related in answer.get("related_entities") or []:
                if related.get("type") != "return_order" or not related.get("uuid"):
                    continue
                back = self.http.call("GET", f"/v2/orders/{related['uuid']}").json()
                events.extend(
                    _order_events(
                        back.get("entity") or {}, shipment.tracking_number, is_return=True, now=now
                    )
                )
        return events

    def read_webhook(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str] | None = None
    ) -> list[TrackingEvent]:
        given = (query or {}).get(WEBHOOK_SECRET, "")
        if not self.webhook_secret or not hmac.compare_digest(
            given.encode(), self.webhook_secret.encode()
        ):
            raise CarrierRefused(carrier=CODE, reason="the webhook URL's secret does not match")
        try:
            data = json.loads(body)
            if data.get("type") != "ORDER_STATUS":
                return []  # print forms, office changes, ...: nothing for tracking
            attributes = data["attributes"]
            is_return = bool(attributes.get("is_return"))
            number = str(attributes["cdek_number"])
            if is_return:  # the return order has its own number: follow it to the parcel's
                for related in attributes.get("related_entities") or []:
                    if related.get("type") == "direct_order" and related.get("cdek_number"):
                        number = str(related["cdek_number"])
            event = _event(
                order_uuid=str(data["uuid"]),
                tracking_number=number,
                code=str(attributes["code"]),
                name=None,
                moment=str(attributes.get("status_date_time") or data["date_time"]),
                city=attributes.get("city_name"),
                is_return=is_return,
                storage_until=None,
            )
            if event is not None and event.status is TrackingStatus.READY_FOR_PICKUP:
                # the webhook tells no deadline: the point's usual storage period, until a
                # poll reads СДЭК's own (keep_free_until) and corrects it
                until = event.occurred_at + timedelta(days=self.storage_days)
                event = replace(event, storage_until=until, storage_estimated=True)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CarrierRefused(
                carrier=CODE, reason=f"the webhook's body is not valid: {error}"
            ) from None
        return [event] if event is not None else []

    # ------------------------------------------------------------------ cash remitted

    def remittances(self, day: date) -> list[Remittance]:
        """The parcels of every cash-on-delivery registry СДЭК paid on ``day``
        (``RegistriesResponseDto``): collected from the buyer (``payment_sum``), kept as
        СДЭК's fee (``agent_commission_sum``), transferred (``transfer_sum``)."""
        answer = self.http.call("GET", "/v2/registries", params={"date": day.isoformat()}).json()
        found = []
        for registry in answer.get("registries") or []:
            number = str(registry.get("registry_number") or "")
            paid_on = registry.get("payment_date")
            payment_order = registry.get("payment_order_number")
            for parcel in registry.get("orders") or []:
                if not number or not parcel.get("cdek_number"):
                    continue
                if (parcel.get("basis_type") or "ORDER") != "ORDER":
                    continue  # fulfilment services sold through СДЭК, not a parcel's cash
                found.append(
                    Remittance(
                        registry_number=number,
                        tracking_number=str(parcel["cdek_number"]),
                        collected=_amount(parcel.get("payment_sum")),
                        commission=_amount(parcel.get("agent_commission_sum")),
                        transferred=_amount(parcel.get("transfer_sum")),
                        paid_on=date.fromisoformat(str(paid_on)[:10]) if paid_on else None,
                        payment_order=str(payment_order)[:40] if payment_order else None,
                    )
                )
        return found

    # ------------------------------------------------------------------ webhooks, points

    def subscribe(self, url: str) -> str:
        """Subscribe ``url`` (with the secret in it) to ORDER_STATUS webhooks, once: an
        existing subscription of the same URL is kept. Returns its uuid."""
        existing = self.http.call("GET", "/v2/webhooks").json()
        for hook in existing if isinstance(existing, list) else []:
            if hook.get("type") == "ORDER_STATUS" and hook.get("url") == url:
                return str(hook.get("uuid"))
        answer = self.http.call(
            "POST", "/v2/webhooks", json={"type": "ORDER_STATUS", "url": url}
        ).json()
        return str((answer.get("entity") or {}).get("uuid") or "")

    def pickup_points(self, *, city: str | None = None, limit: int = 100) -> list[PickupPoint]:
        """СДЭК's offices and lockers that hand parcels out, page by page."""
        found: list[PickupPoint] = []
        page = 0
        while len(found) < limit:
            # not ``is_handout=true``: its document gives the flag no type, so the offices
            # that cannot hand out are left out here instead
            answer = self.http.call(
                "GET",
                "/v2/deliverypoints",
                params={"type": "ALL", "size": PAGE, "page": page},
            ).json()
            offices = answer if isinstance(answer, list) else []
            for office in offices:
                point = office_point(office, self.storage_days)
                if point is not None and (city is None or point.city.lower() == city.lower()):
                    found.append(point)
            if len(offices) < PAGE:
                break
            page += 1
        return found[:limit]


def office_point(office: Mapping[str, Any], storage_days: int) -> PickupPoint | None:
    """A СДЭК office (``OfficeDto``) as a pickup point; None when it cannot hand out."""
    location = office.get("location") or {}
    if office.get("status", "ACTIVE") != "ACTIVE" or not office.get("is_handout", True):
        return None
    try:
        latitude, longitude = float(location["latitude"]), float(location["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    extra = {
        "type": str(office.get("type") or ""),
        "allowed_cod": str(bool(office.get("allowed_cod"))).lower(),
        "have_cashless": str(bool(office.get("have_cashless"))).lower(),
    }
    if office.get("weight_max") is not None:
        extra["weight_max_kg"] = str(office["weight_max"])
    cells = [  # a locker's cells (OfficeCellDimensionsDto, in cm)
        f"{int(c['depth']) * 10}x{int(c['width']) * 10}x{int(c['height']) * 10}"
        for c in office.get("dimensions") or []
        if isinstance(c, Mapping) and all(isinstance(c.get(k), int) for k in SIDES)
    ]
    if cells:
        extra["cells_mm"] = ";".join(cells)
    return PickupPoint(
        code=str(office["code"]),
        name=str(office.get("name") or office["code"])[:200],
        city=str(location.get("city") or "")[:120],
        address=str(location.get("address_full") or location.get("address") or "")[:500],
        latitude=latitude,
        longitude=longitude,
        storage_days=storage_days,
        hours=str(office.get("work_time") or "")[:200],
        extra=extra,
    )


def _order_events(
    order: Mapping[str, Any], tracking_number: str, *, is_return: bool, now: datetime
) -> list[TrackingEvent]:
    storage = _moment(order["keep_free_until"]) if order.get("keep_free_until") else None
    events = []
    for status in order.get("statuses") or []:
        event = _event(
            order_uuid=str(order.get("uuid") or ""),
            tracking_number=tracking_number,
            code=str(status.get("code") or ""),
            name=status.get("name"),
            moment=str(status.get("date_time") or ""),
            city=status.get("city"),
            is_return=is_return,
            storage_until=storage,
        )
        if event is not None and event.occurred_at <= now:
            events.append(event)
    return events[:MAX_EVENTS]


def _event(
    *,
    order_uuid: str,
    tracking_number: str,
    code: str,
    name: str | None,
    moment: str,
    city: str | None,
    is_return: bool,
    storage_until: datetime | None,
) -> TrackingEvent | None:
    status = tracking_status(code, is_return=is_return)
    if status is None:
        return None
    at = _moment(moment)
    digest = hashlib.sha256(f"{order_uuid}|{code}|{at.isoformat()}".encode()).hexdigest()
    return TrackingEvent(
        tracking_number=tracking_number,
        status=status,
        occurred_at=at,
        description=describe(code, name)[:255],
        event_id=f"cdek-{digest[:40]}",
        location=str(city)[:120] if city else None,
        storage_until=storage_until if status is TrackingStatus.READY_FOR_PICKUP else None,
    )


def _moment(text: str) -> datetime:
    """СДЭК's times (``2023-11-28T07:44:45+0000``) in UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"'{text}' has no time zone")
    return moment.astimezone(UTC)


def _location(point: tuple[float, float] | None, city: str | None) -> dict[str, Any]:
    where: dict[str, Any] = {}
    if point is not None:
        where["latitude"], where["longitude"] = point
    if city:
        where["city"] = city[:255]
    return where


CDEK_VAT_RATES = frozenset({0, 5, 7, 10, 16, 22})  # what СДЭК's MoneyDto.vat_rate takes


def _package_items(request: BookingRequest) -> list[tuple[Parcel, list[dict[str, Any]]]]:
    """Each box with the goods in it as СДЭК lists them («товары»): the products Potok
    packed, each unit's value and what is collected for it; a box packed without its
    contents stands as one item carrying its share of the value and of the money to collect,
    the shares adding up to the kopeck."""
    values = _split(request.declared_value, len(request.parcels))
    collect = _split(request.cash_on_delivery - request.delivery_to_collect, len(request.parcels))
    packed = []
    for index, parcel in enumerate(request.parcels, start=1):
        if parcel.items:
            items = [_item(i) for i in parcel.items]
        else:
            items = [
                {
                    "name": f"Заказ {request.reference}, место {index}"[:255],
                    "ware_key": f"{request.reference}-{index}"[:50],
                    "payment": _money(collect[index - 1], None),
                    "cost": _number(values[index - 1]),
                    "weight": parcel.weight_g,
                    "amount": 1,
                }
            ]
        packed.append((parcel, items))
    return packed


def _item(item: ParcelItem) -> dict[str, Any]:
    return {
        "name": item.name[:255] or item.sku[:255],
        "ware_key": item.sku[:50],
        "payment": _money(item.unit_to_collect, item.vat_rate),
        "cost": _number(item.unit_value),
        "weight": max(item.unit_weight_g, 1),
        "amount": item.quantity,
    }


def _money(value: Decimal, vat_rate: Decimal | None) -> dict[str, Any]:
    """СДЭК's ``MoneyDto``: an amount with the VAT in it, when the rate is one it knows."""
    money: dict[str, Any] = {"value": _number(value)}
    if value > 0 and vat_rate is not None and vat_rate in CDEK_VAT_RATES:
        money["vat_rate"] = int(vat_rate)
        money["vat_sum"] = _number(vat_included(value, vat_rate))
    return money


def _amount(value: Any) -> Decimal:
    """One of СДЭК's float sums, to the kopeck."""
    return Decimal(str(value or 0)).quantize(KOPECK)


def _cm(mm: int) -> int:
    """A side in whole centimetres, as СДЭК takes them (at least one)."""
    return max(1, round(mm / 10))


def _number(amount: Decimal) -> float:
    """Roubles and kopecks as the JSON number СДЭК's document asks for: the float nearest
    the Decimal prints back as the same two decimals (under 2^53 kopecks)."""
    return float(amount.quantize(KOPECK))


def _split(total: Decimal, parts: int) -> list[Decimal]:
    """``total`` in ``parts`` shares to the kopeck, adding up to it exactly (the first
    shares take the odd kopecks)."""
    kopecks = int((total / KOPECK).to_integral_value())
    share, odd = divmod(kopecks, max(parts, 1))
    return [(share + (1 if n < odd else 0)) * KOPECK for n in range(max(parts, 1))]


def _not_live(quote: Quote, why: str) -> Quote:
    return Quote(quote.tariff, quote.price, quote.days, f"{quote.description} ({why})", False)
