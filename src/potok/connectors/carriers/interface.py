"""The one interface every carrier adapter implements, and the data that crosses it.

Plain Python: no database, no web framework. Potok's services call a carrier outside any
transaction (``book`` before the hand-over is recorded, ``track`` from the polling job,
``read_webhook`` from the webhook route) and record what it answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from potok.domain.errors import Rejected, Unavailable


class TrackingStatus(StrEnum):
    """What a carrier's event means for the shipment (the shipment machine's own words)."""

    IN_TRANSIT = "in_transit"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    FAILED_DELIVERY = "failed_delivery"
    RETURNING = "returning"
    RETURNED_TO_SENDER = "returned_to_sender"


class CarrierError(Exception):
    """Base of what a carrier adapter raises."""


class CarrierRefused(CarrierError, Rejected):
    """The carrier turned the request down (an address it does not serve, a cancelled
    booking it cannot cancel)."""

    code = "carrier-refused"
    title = "The carrier refused the request"
    template = "{carrier}: {reason}"


class CarrierUnavailable(CarrierError, Unavailable):
    """The carrier cannot be reached or answered nonsense; the same request may be retried."""

    code = "carrier-unavailable"
    title = "The carrier cannot be reached"
    template = "{carrier}: {reason}"


class CashOnDeliveryRefused(CarrierRefused):
    """Potok will not ask a carrier to collect money the order's channel does not let it
    collect (the channel stopped taking payment on delivery after the order came)."""

    code = "cash-on-delivery-refused"
    title = "Cash on delivery is not allowed for this order"


class PointCannotTakeParcels(CarrierRefused):
    """Potok will not send boxes to a carrier's pickup point that cannot take them as packed
    (heavier than its limit, or bigger than every cell of a locker)."""

    code = "point-cannot-take-parcels"
    title = "The pickup point cannot take the parcels as packed"


@dataclass(frozen=True, slots=True)
class ParcelItem:
    """Units of one product in a box, as the carrier's papers and its receipt list them."""

    sku: str
    name: str
    quantity: int
    unit_value: Decimal  # the declared value of one unit (its price, VAT included)
    unit_to_collect: Decimal = Decimal("0.00")  # what the carrier collects for one unit
    vat_rate: Decimal | None = None  # percent; None: no VAT
    unit_weight_g: int = 0


@dataclass(frozen=True, slots=True)
class Parcel:
    """One box as the carrier sees it (with its contents, when Potok packed it)."""

    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    items: tuple[ParcelItem, ...] = ()


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """From where to where, how heavy, and how (courier to an address, or a pickup point)."""

    origin: tuple[float, float]
    destination: tuple[float, float] | None
    weight_g: int
    region: str | None = None
    city: str | None = None
    pickup_point: str | None = None  # the carrier's code of the point, when delivered there
    postal_code: str | None = None  # the recipient's (Почта prices by postal codes)
    parcels: tuple[Parcel, ...] = ()  # the boxes as packed, when they are: their sizes count


@dataclass(frozen=True, slots=True)
class Quote:
    """A tariff the carrier offers: its code, price and days in transit."""

    tariff: str
    price: Decimal
    days: int
    description: str = ""
    live: bool = True  # False: a remembered price, or Potok's own table while it is down


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """Everything a carrier needs to take a shipment."""

    reference: str  # Potok's shipment number, e.g. "42-1"; the same booking twice is one
    from_warehouse: str
    origin: tuple[float, float]
    destination: tuple[float, float] | None
    recipient_name: str
    recipient_phone: str | None
    address: str | None  # the courier's address, when delivered to one
    city: str | None
    pickup_point: str | None
    parcels: Sequence[Parcel]
    declared_value: Decimal
    cash_on_delivery: Decimal = Decimal("0.00")  # all the carrier collects, delivery included
    delivery_to_collect: Decimal = Decimal("0.00")  # of which the delivery charge
    delivery_vat_rate: Decimal | None = None
    tariff: str | None = None
    handed_over_at: datetime | None = None  # when the parcels leave (now, usually)
    postal_code: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Booking:
    """The carrier took the shipment: its own reference, the tracking number, the label."""

    carrier_ref: str
    tracking_number: str
    label: str  # where the label can be fetched (a URL), or its content's name
    tariff: str
    days: int  # transit days from hand-over, for the expected date
    price: Decimal


@dataclass(frozen=True, slots=True)
class Tracked:
    """A shipment to ask the carrier about (for polling)."""

    tracking_number: str
    carrier_ref: str | None = None


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One thing that happened to a parcel, in Potok's terms with the carrier's words kept."""

    tracking_number: str
    status: TrackingStatus
    occurred_at: datetime
    description: str  # the carrier's own wording ("Вручено", "Прибыло в пункт выдачи")
    event_id: str  # the carrier's id of the event (or a digest of it): replays are skipped
    location: str | None = None
    eta_on: date | None = None  # a new expected delivery date, when the carrier gives one
    storage_until: datetime | None = None  # at a pickup point: to be collected before
    storage_estimated: bool = False  # storage_until is Potok's guess, not the carrier's word


@dataclass(frozen=True, slots=True)
class PickupPoint:
    """A place where customers collect parcels."""

    code: str
    name: str
    city: str
    address: str
    latitude: float
    longitude: float
    storage_days: int = 7
    hours: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


class Carrier(Protocol):
    """A carrier as Potok uses it."""

    @property
    def code(self) -> str:
        """Potok's short name of the carrier (``sandbox``, ``cdek``, ``pochta``)."""
        ...

    def quote(self, request: QuoteRequest) -> list[Quote]:
        """The tariffs that can take the shipment, cheapest first; none when it cannot."""
        ...

    def book(self, request: BookingRequest) -> Booking:
        """Register the shipment with the carrier: a tracking number and a label. Booking
        the same ``reference`` again returns the first booking."""
        ...

    def cancel(self, booking: Booking | Tracked) -> None:
        """Call off a booking that has not been handed over."""
        ...

    def track(self, shipments: Sequence[Tracked], now: datetime) -> list[TrackingEvent]:
        """Every event the carrier knows for these shipments up to ``now`` (polling);
        Potok skips the ones it has already applied."""
        ...

    def read_webhook(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str] | None = None
    ) -> list[TrackingEvent]:
        """The events of a webhook call, after checking it comes from the carrier (by a
        signature in ``headers``, or a secret in the URL's ``query`` for carriers that sign
        nothing); a call that does not is refused with :class:`CarrierRefused`."""
        ...

    def pickup_points(self, *, city: str | None = None, limit: int = 100) -> list[PickupPoint]:
        """The carrier's pickup points (in a city)."""
        ...


@runtime_checkable
class LabelPrinter(Protocol):
    """A carrier that prints its own labels (its barcode on every parcel)."""

    def label_pdf(self, shipment: Tracked) -> bytes:
        """The carrier's label of every parcel of a booked shipment, as PDF."""
        ...


@dataclass(frozen=True, slots=True)
class Remittance:
    """One parcel of a carrier's cash-on-delivery registry: what it collected from the
    buyer, kept as its fee and transferred to the shop, under which registry and when."""

    registry_number: str
    tracking_number: str
    collected: Decimal
    commission: Decimal
    transferred: Decimal
    paid_on: date | None = None
    payment_order: str | None = None  # the bank's payment order the registry was paid by


@runtime_checkable
class RemittanceReader(Protocol):
    """A carrier that lists the cash on delivery it remitted (its payment registries)."""

    def remittances(self, day: date) -> list[Remittance]:
        """Every parcel of the registries the carrier paid on ``day``."""
        ...
