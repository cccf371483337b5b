"""The sandbox carrier: books at once and moves parcels through realistic events over time.

Nothing is stored: a tracking number carries what the timeline needs (courier or pickup
point, transit days, the hand-over second) and a digest of the seed and the shipment's
reference that decides the story - delivered; failed, tried again and delivered; collected at
the pickup point; not collected before the storage deadline and sent back. The same seed
gives the same stories at the same times, so the demo and the tests can rely on them.

Webhooks: :meth:`SandboxCarrier.webhook` builds the body and the ``X-Sandbox-Signature``
header (HMAC-SHA256 of the body with the webhook secret) that :meth:`read_webhook` checks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from potok.connectors.carriers.interface import (
    Booking,
    BookingRequest,
    CarrierRefused,
    PickupPoint,
    Quote,
    QuoteRequest,
    Tracked,
    TrackingEvent,
    TrackingStatus,
)
from potok.domain.sourcing.geo import distance_km
from potok.domain.sourcing.tariffs import built_in_tariffs

CODE = "sandbox"
SIGNATURE = "X-Sandbox-Signature"
PREFIX = "SBX"
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

POINTS = (
    ("SBX-MSK-1", "Песочница: Тверская", "Москва", "ул. Тверская, 12", 55.7634, 37.6064),
    ("SBX-MSK-2", "Песочница: Павелецкая", "Москва", "Павелецкая пл., 1", 55.7296, 37.6389),
    ("SBX-SPB-1", "Песочница: Невский", "Санкт-Петербург", "Невский пр., 28", 59.9358, 30.3259),
    ("SBX-KZN-1", "Песочница: Баумана", "Казань", "ул. Баумана, 44", 55.7887, 49.1221),
    ("SBX-EKB-1", "Песочница: Вайнера", "Екатеринбург", "ул. Вайнера, 9", 56.8368, 60.6009),
    ("SBX-NSK-1", "Песочница: Красный пр.", "Новосибирск", "Красный пр., 25", 55.0302, 82.9204),
)


@dataclass(frozen=True, slots=True)
class _Parcel:
    """What a sandbox tracking number tells."""

    pickup: bool
    days: int
    handed_over_at: datetime
    story: int  # 0..99, from the seed and the shipment's reference


class SandboxCarrier:
    """A pretend carrier with its own price list (distance bands), pickup points that keep
    parcels ``storage_days`` days, and stories that happen on a fixed schedule."""

    def __init__(self, *, secret: str, seed: int = 7, storage_days: int = 7) -> None:
        self.seed = seed
        self.secret = secret.encode()
        self.storage_days = storage_days
        self.tariffs = built_in_tariffs()

    @property
    def code(self) -> str:
        return CODE

    # ------------------------------------------------------------------ prices

    def quote(self, request: QuoteRequest) -> list[Quote]:
        if request.destination is None:
            return []
        km = distance_km(request.origin, request.destination)
        found = self.tariffs.quote("*", km=km, weight_kg=request.weight_g / 1000)
        if found is None:
            return []
        if request.pickup_point is not None:
            return [
                Quote(
                    "pickup",
                    (found.cost * Decimal("0.8")).quantize(Decimal("0.01")),
                    found.days,
                    "до пункта выдачи",
                )
            ]
        return [Quote("courier", found.cost, found.days, "курьером до двери")]

    # ------------------------------------------------------------------ bookings

    def book(self, request: BookingRequest) -> Booking:
        if not request.parcels:
            raise CarrierRefused(carrier=CODE, reason="a booking needs at least one parcel")
        if request.destination is None:
            raise CarrierRefused(carrier=CODE, reason="the destination has no coordinates")
        weight = sum(p.weight_g for p in request.parcels)
        quotes = self.quote(
            QuoteRequest(
                request.origin,
                request.destination,
                weight,
                city=request.city,
                pickup_point=request.pickup_point,
            )
        )
        if not quotes:
            raise CarrierRefused(carrier=CODE, reason="no tariff reaches the destination")
        quote = quotes[0]
        at = request.handed_over_at or datetime.now(UTC)
        seconds = int((at - EPOCH).total_seconds())
        kind = "P" if request.pickup_point else "C"
        digest = self._digest(request.reference)[:6]
        tracking = f"{PREFIX}{kind}{min(quote.days, 15):X}{seconds:09X}{digest}"
        return Booking(
            carrier_ref=f"{CODE}-{request.reference}",
            tracking_number=tracking.upper(),
            label=f"sandbox://labels/{tracking.upper()}.pdf",
            tariff=quote.tariff,
            days=quote.days,
            price=quote.price,
        )

    def cancel(self, booking: Booking | Tracked) -> None:
        """Nothing to call off in the sandbox; a parcel it never saw is refused."""
        if not booking.tracking_number.startswith(PREFIX):
            raise CarrierRefused(carrier=CODE, reason=f"unknown parcel {booking.tracking_number}")

    # ------------------------------------------------------------------ tracking

    def track(self, shipments: Sequence[Tracked], now: datetime) -> list[TrackingEvent]:
        events: list[TrackingEvent] = []
        for shipment in shipments:
            events.extend(e for e in self.story(shipment.tracking_number) if e.occurred_at <= now)
        return events

    def story(self, tracking_number: str) -> list[TrackingEvent]:
        """Every event this parcel will ever have, in order."""
        parcel = self._read(tracking_number)
        if parcel is None:
            return []
        start = parcel.handed_over_at
        arrival = start + timedelta(days=parcel.days)
        eta = arrival.date()
        steps: list[tuple[timedelta, TrackingStatus, str, date | None, datetime | None]] = [
            (
                timedelta(hours=3),
                TrackingStatus.IN_TRANSIT,
                "Принято в сортировочном центре",
                eta,
                None,
            ),
            (
                timedelta(hours=parcel.days * 12 + 2),
                TrackingStatus.IN_TRANSIT,
                "Прибыло в город получателя",
                None,
                None,
            ),
        ]
        if parcel.pickup:
            ready = timedelta(days=parcel.days, hours=-4)
            deadline = start + ready + timedelta(days=self.storage_days)
            steps.append(
                (ready, TrackingStatus.READY_FOR_PICKUP, "Прибыло в пункт выдачи", None, deadline)
            )
            if parcel.story < 75:
                collected = ready + timedelta(hours=6 + parcel.story % 48)
                steps.append((collected, TrackingStatus.DELIVERED, "Выдано получателю", None, None))
            else:
                late = deadline - start
                steps.append(
                    (late, TrackingStatus.FAILED_DELIVERY, "Срок хранения истёк", None, None)
                )
                steps.extend(self._back(late, parcel.days))
        else:
            due = timedelta(days=parcel.days)
            if parcel.story < 80:
                steps.append((due, TrackingStatus.DELIVERED, "Вручено получателю", None, None))
            else:
                steps.append(
                    (due, TrackingStatus.FAILED_DELIVERY, "Получатель отсутствовал", None, None)
                )
                again = due + timedelta(hours=52)  # tried again two days later
                steps.append(
                    (
                        again,
                        TrackingStatus.IN_TRANSIT,
                        "Повторная доставка",
                        (start + again + timedelta(days=1)).date(),
                        None,
                    )
                )
                second = again + timedelta(hours=8)
                if parcel.story < 90:
                    steps.append(
                        (second, TrackingStatus.DELIVERED, "Вручено получателю", None, None)
                    )
                else:
                    steps.append(
                        (second, TrackingStatus.FAILED_DELIVERY, "Отказ получателя", None, None)
                    )
                    steps.extend(self._back(second, parcel.days))
        return [
            TrackingEvent(
                tracking_number=tracking_number,
                status=status,
                occurred_at=start + offset,
                description=words,
                event_id=f"{tracking_number}-{index}",
                eta_on=new_eta,
                storage_until=until,
            )
            for index, (offset, status, words, new_eta, until) in enumerate(steps, start=1)
        ]

    @staticmethod
    def _back(
        after: timedelta, days: int
    ) -> list[tuple[timedelta, TrackingStatus, str, date | None, datetime | None]]:
        return [
            (
                after + timedelta(hours=2),
                TrackingStatus.RETURNING,
                "Возврат отправителю",
                None,
                None,
            ),
            (
                after + timedelta(days=days, hours=2),
                TrackingStatus.RETURNED_TO_SENDER,
                "Возвращено отправителю",
                None,
                None,
            ),
        ]

    def _read(self, tracking_number: str) -> _Parcel | None:
        text = tracking_number.upper()
        if not text.startswith(PREFIX) or len(text) != len(PREFIX) + 17:
            return None
        body = text[len(PREFIX) :]
        try:
            days = int(body[1], 16)
            seconds = int(body[2:11], 16)
            story = int(body[11:], 16) % 100  # the seed and the shipment decide, not the time
        except ValueError:
            return None
        return _Parcel(body[0] == "P", days, EPOCH + timedelta(seconds=seconds), story)

    def _digest(self, reference: str) -> str:
        return hashlib.sha256(f"{self.seed}:{reference}".encode()).hexdigest()

    # ------------------------------------------------------------------ webhooks

    def webhook(self, events: Sequence[TrackingEvent]) -> tuple[dict[str, str], bytes]:
        """The headers and body the sandbox sends to Potok's webhook for these events."""
        body = json.dumps(
            {
                "events": [
                    {
                        "tracking_number": e.tracking_number,
                        "status": e.status.value,
                        "occurred_at": e.occurred_at.isoformat(),
                        "description": e.description,
                        "event_id": e.event_id,
                        "location": e.location,
                        "eta_on": e.eta_on.isoformat() if e.eta_on else None,
                        "storage_until": e.storage_until.isoformat() if e.storage_until else None,
                    }
                    for e in events
                ]
            },
            ensure_ascii=False,
        ).encode()
        return {SIGNATURE: self._sign(body), "Content-Type": "application/json"}, body

    def read_webhook(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str] | None = None
    ) -> list[TrackingEvent]:
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE.lower()), "")
        if not hmac.compare_digest(given, self._sign(body)):
            raise CarrierRefused(carrier=CODE, reason="the webhook's signature does not match")
        try:
            data = json.loads(body)
            return [
                TrackingEvent(
                    tracking_number=str(e["tracking_number"]),
                    status=TrackingStatus(e["status"]),
                    occurred_at=_moment(e["occurred_at"]),
                    description=str(e.get("description") or "")[:255],
                    event_id=str(e["event_id"])[:128],
                    location=e.get("location"),
                    eta_on=date.fromisoformat(e["eta_on"]) if e.get("eta_on") else None,
                    storage_until=_moment(e["storage_until"]) if e.get("storage_until") else None,
                )
                for e in data["events"][:1000]
            ]
        except (KeyError, TypeError, ValueError) as error:
            raise CarrierRefused(
                carrier=CODE, reason=f"the webhook's body is not valid: {error}"
            ) from None

    def _sign(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    # ------------------------------------------------------------------ pickup points

    def pickup_points(self, *, city: str | None = None, limit: int = 100) -> list[PickupPoint]:
        return [
            PickupPoint(code, name, town, address, lat, lon, self.storage_days, "10:00-21:00")
            for code, name, town, address, lat, lon in POINTS
            if city is None or town.lower() == city.lower()
        ][:limit]


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"'{text}' has no time zone")
    return moment.astimezone(UTC)
