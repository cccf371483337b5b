"""The one interface every marketplace connector implements, and the data that crosses it.

Plain Python: no database, no web framework. Potok's services call a connector outside any
transaction (read what is needed, call, record the answer) and keep its answers in terms
of their own: an :class:`IncomingOrder` becomes a Potok order, a :class:`StatusSeen` moves
one along.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from potok.domain.errors import Rejected, Unavailable
from potok.domain.marketplaces import Marketplace


class MarketplaceState(StrEnum):
    """Where a marketplace order stands, in Potok's words (each connector maps its own)."""

    NEW = "new"  # waiting for the seller
    IN_WORK = "in_work"  # the seller confirmed it / it is being assembled
    SHIPPED = "shipped"  # handed to the marketplace
    DELIVERED = "delivered"  # the customer has it
    CANCELLED = "cancelled"  # cancelled before it left the seller, stock goes back
    RETURNED = "returned"  # cancelled after it left (refused at pickup, defect)


class MarketplaceError(Exception):
    """Base of what a marketplace connector raises."""


class MarketplaceUnavailable(MarketplaceError, Unavailable):
    """The marketplace cannot be reached, answered 5xx or kept limiting the rate; the same
    request may be tried again later."""

    code = "marketplace-unavailable"
    title = "The marketplace cannot be reached"
    template = "{marketplace}: {reason}"


class MarketplaceRefused(MarketplaceError, Rejected):
    """The marketplace turned a request down (bad request, a state it does not allow)."""

    code = "marketplace-refused"
    title = "The marketplace refused the request"
    template = "{marketplace}: {reason}"


class CredentialsRefused(MarketplaceRefused):
    """The marketplace does not accept the token (revoked, expired, without the scope)."""

    code = "marketplace-credentials-refused"
    title = "The marketplace refused the credentials"
    template = "{marketplace}: {reason}"


@dataclass(frozen=True, slots=True)
class IncomingLine:
    """One article of a marketplace order, with everything that may name the Potok SKU."""

    article: str  # the seller's own article (vendor code)
    barcodes: tuple[str, ...]
    quantity: int
    unit_price: Decimal
    marketplace_sku: str = ""  # the marketplace's id of the item (WB chrtId, Ozon sku)
    name: str = ""


@dataclass(frozen=True, slots=True)
class IncomingAddress:
    city: str
    line: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class IncomingOrder:
    """A marketplace order as Potok imports it; ``external_id`` is unique per account."""

    external_id: str
    created_at: datetime
    warehouse: str  # the marketplace's id of the seller's warehouse it came to
    currency: str  # ISO 4217 letters
    lines: Sequence[IncomingLine]
    state: MarketplaceState = MarketplaceState.NEW
    status: str = "new"  # the marketplace's own words
    group: str | None = None  # one customer's basket (WB orderUid)
    address: IncomingAddress | None = None
    comment: str = ""
    ship_by: datetime | None = None
    required_meta: tuple[str, ...] = ()  # what must be sent at packing (sgtin, imei, ...)
    meta: Mapping[str, str] = field(default_factory=dict)  # known at import (WB: gtin)
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Malformed:
    """An order in the marketplace's answer that cannot be read; kept in the journal."""

    external_id: str
    reason: str
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StatusSeen:
    """What the marketplace says about an order now."""

    external_id: str
    state: MarketplaceState
    status: str  # the marketplace's own words, e.g. "confirm/waiting"


@dataclass(frozen=True, slots=True)
class PackedItem:
    """Units of one marketplace item packed for an order, with the codes scanned on them
    (one per unit and kind; Ozon wants them item by item)."""

    item: str  # the marketplace's id of the item (WB chrtId, Ozon sku)
    quantity: int
    marking_codes: tuple[str, ...] = ()
    imeis: tuple[str, ...] = ()
    uins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Packed:
    """An order packed in Potok, as the marketplace is told: its items and the unit codes
    scanned at packing (marking codes, IMEI, UIN)."""

    external_id: str
    items: Sequence[PackedItem]
    marking_codes: tuple[str, ...] = ()
    imeis: tuple[str, ...] = ()
    uins: tuple[str, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)  # what the order came with (gtin)


@dataclass
class PackOutcome:
    """What the marketplace took: the batch the orders joined (WB's supply), the orders
    it refused with its reason, and those it has not decided on yet (Ozon still checking
    the marking codes: they are sent again at the next poll, nobody needs to act)."""

    batch: str | None = None
    failed: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sticker:
    """The label the marketplace wants on an order's parcel (WB: one per assembly task), as
    it prints it: the file, its media type, and what is printed under the barcode."""

    external_id: str
    media_type: str
    file: bytes
    part_a: str = ""
    part_b: str = ""
    barcode: str = ""


@dataclass(frozen=True, slots=True)
class StockLevel:
    """How many units of an item the marketplace may sell from one of its warehouses."""

    sku: str  # Potok's, for reports
    key: str  # the marketplace's id of the item its stock method wants (WB chrtId, Ozon product_id)
    quantity: int


@dataclass
class StockOutcome:
    """What the marketplace took of a stock push: items accepted, items it refused (by
    Potok SKU, with its reason), items it asked to be sent again later (Ozon: one update of
    an item at a warehouse per 30 seconds), and requests sent."""

    accepted: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    later: dict[str, str] = field(default_factory=dict)
    requests: int = 0


@dataclass(frozen=True, slots=True)
class ListedItem:
    """One of the seller's items as the marketplace's catalogue lists it: what Potok needs to
    map a SKU to it without anyone typing ids."""

    article: str  # the seller's own article (Ozon offer_id)
    item: str  # the id orders name (Ozon sku)
    product: str  # the product card (Ozon product_id, what its stock method wants)
    barcodes: tuple[str, ...] = ()


@dataclass
class CallStats:
    """What talking to the marketplace cost: requests, and waits for its rate limit."""

    requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0


@dataclass(frozen=True, slots=True)
class MirroredLine:
    """A line of a Potok order as a CRM keeps it (``key`` names it across edits)."""

    key: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal


@dataclass(frozen=True, slots=True)
class MirroredOrder:
    """A Potok order of another channel as a CRM is told it, whole, each time it changes
    (so telling it twice, or out of order, leaves the CRM right)."""

    external_id: str  # Potok's order number: the order's id in the CRM's eyes
    number: str
    channel: str
    created_at: datetime
    status: str  # Potok's status (the connector maps it to the CRM's)
    payment_status: str
    total: Decimal
    customer_name: str
    phone: str | None
    email: str | None
    city: str | None
    address: str | None
    delivery_price: Decimal
    lines: tuple[MirroredLine, ...]
    customer: str | None = None  # the CRM customer's external id, when it was told it


@dataclass(frozen=True, slots=True)
class MirroredCustomer:
    """A Potok customer as a CRM is told it (named by Potok's customer id)."""

    external_id: str
    name: str
    phone: str | None
    email: str | None
    created_at: datetime


@dataclass
class CustomersOutcome:
    """What a CRM took of the customers it was told, each by its external id."""

    created: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)  # it had them already
    refused: dict[str, str] = field(default_factory=dict)
    requests: int = 0


@dataclass(frozen=True, slots=True)
class HistoryChange:
    """One record of a CRM's order history: a field of an order changed there (by a
    manager, or another integration - never by Potok's own key)."""

    record: int  # the history record's id: the cursor's unit
    order: int  # the CRM's id of the order
    external_id: str | None  # the order's external id (Potok's order id when Potok told it)
    field: str  # the CRM's name of the field: status, phone, delivery_address.city, ...
    new: Any  # the value it has now (status: the status code)


@dataclass
class MirrorOutcome:
    """What a CRM took of the orders it was told: each order by its external id."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # external id -> the CRM's reason
    requests: int = 0


class OrderMirror(Protocol):
    """A CRM that keeps a copy of Potok's orders (RetailCRM)."""

    def mirror_orders(
        self, new: Sequence[MirroredOrder], changed: Sequence[MirroredOrder]
    ) -> MirrorOutcome:
        """Create ``new`` orders and bring ``changed`` ones up to date (an order the CRM
        does not have yet is created, one it has already is updated, whichever list it
        came in); an order the CRM refuses is in the outcome, not raised."""
        ...

    def mirror_customers(self, customers: Sequence[MirroredCustomer]) -> CustomersOutcome:
        """Create the customers the CRM does not have yet (one it has is left as it is)."""
        ...


class MarketplaceClient(Protocol):
    """A marketplace account as Potok uses it."""

    @property
    def marketplace(self) -> Marketplace: ...

    @property
    def stats(self) -> CallStats: ...

    @property
    def cursor(self) -> str | None:
        """Where the next poll reads the marketplace's changes from (RetailCRM's history
        record id); None for marketplaces that list what waits each time (WB, Ozon)."""
        ...

    def resume(self, cursor: str | None, pending: Sequence[str]) -> None:
        """Start after ``cursor`` (what the last complete poll left), and offer the orders
        kept aside before (``pending``) again: a cursor never shows them twice."""
        ...

    def new_orders(self) -> list[IncomingOrder | Malformed]:
        """Orders waiting for the seller; the same order may come again and again."""
        ...

    def statuses(
        self, external_ids: Sequence[str], *, changed_since: datetime | None = None
    ) -> list[StatusSeen]:
        """What the marketplace says about these orders now (those whose status changed
        since ``changed_since`` at least, when the marketplace can tell)."""
        ...

    def pack(self, orders: Sequence[Packed], batch: str | None) -> PackOutcome:
        """Tell the marketplace these orders are packed (WB: into the open supply ``batch``,
        a new one when None, with their codes; Ozon: collected, then checked)."""
        ...

    def hand_over(self, batch: str | None, external_ids: Sequence[str]) -> None:
        """The orders left the seller (WB: the supply goes to delivery)."""
        ...

    def cancel(self, external_id: str) -> None:
        """The seller cancels the order on the marketplace."""
        ...

    def stickers(self, external_ids: Sequence[str]) -> list[Sticker]:
        """The marketplace's stickers of these packed orders (WB's assembly task stickers);
        an empty list where the marketplace has none of its own."""
        ...

    def push_stock(self, warehouse: str, levels: Sequence[StockLevel]) -> StockOutcome:
        """Set the quantities the marketplace may sell from its warehouse ``warehouse``,
        in as few requests as its batch size allows; an item it refuses is reported in the
        outcome, not raised."""
        ...

    def catalogue(self) -> list[ListedItem]:
        """The seller's items on the marketplace (not archived), for mapping them to SKUs;
        raises :class:`MarketplaceRefused` where Potok cannot read the catalogue yet."""
        ...

    def close(self) -> None: ...
