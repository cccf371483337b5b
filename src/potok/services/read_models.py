"""Read models: what lists, searches and reports return, independent of how they are stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class OrderFilter:
    statuses: Sequence[str] = ()
    channels: Sequence[str] = ()
    warehouses: Sequence[str] = ()
    payment_statuses: Sequence[str] = ()
    payment_methods: Sequence[str] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class OrderSummary:
    id: int
    external_id: str | None
    channel: str
    status: str
    state: str
    allocation: str
    payment_status: str
    priority: int
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    currency: str
    total: Decimal
    line_count: int
    warehouses: list[str]
    promised_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = 0  # for If-Match on actions taken from a list
    personal_data: str = "available"  # "unavailable": sealed under a key this process lacks
    missing_key: str | None = None  # the key it was sealed under, when unavailable
    payment_method: str | None = None  # how it is paid; None: the order did not say


@dataclass(frozen=True, slots=True)
class OrderCount:
    """How many orders are in one status of one channel."""

    status: str
    channel: str
    count: int


@dataclass(frozen=True, slots=True)
class OrderPage:
    items: list[OrderSummary]
    next_cursor: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrderLineExport:
    """One line of an order as a file export shows it, with its order's columns."""

    order_id: int
    external_id: str | None
    channel: str
    status: str
    payment_status: str
    created_at: datetime
    currency: str
    delivery_method: str
    city: str | None
    delivery_price: Decimal
    order_total: Decimal
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal
    line_total: Decimal
    version: int = 1  # the order's, which an edit by file must still find
    customer_name: str | None = None  # only when the export asks for personal data
    customer_phone: str | None = None
    customer_email: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerOrder:
    """One of a customer's orders with the personal data it carries, for an export."""

    id: int
    external_id: str | None
    channel: str
    status: str
    currency: str
    total: Decimal
    created_at: datetime
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    delivery_method: str
    address_country: str | None
    address_region: str | None
    address_city: str | None
    address_postal_code: str | None
    address_line1: str | None
    address_line2: str | None
    comment: str
    personal_data: str = "available"  # "unavailable": sealed under a key this process lacks
    missing_key: str | None = None


@dataclass(frozen=True, slots=True)
class Rewrapped:
    """One batch of key rotation: rows looked at, values encrypted afresh, the last row's id."""

    rows: int
    values: int
    last_id: int


@dataclass(frozen=True, slots=True)
class LevelRow:
    warehouse: str
    sku: str
    on_hand: int
    reserved: int
    available: int
    updated_at: datetime
    incoming: int = 0  # on its way here: shipped transfers, open purchase orders
    unavailable: int = 0  # on hand but not sellable: expired, damaged, in quality check
    lot: str | None = None
    expires_on: date | None = None
    location: str | None = None  # the bin the position lies in


@dataclass(frozen=True, slots=True)
class LevelPage:
    items: list[LevelRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class WarehouseAvailability:
    warehouse: str
    name: str
    type: str
    city: str
    active: bool
    on_hand: int
    reserved: int
    available: int
    safety_stock: int = 0  # held back from what channels are told (the warehouse's stock rule)
    unavailable: int = 0  # on hand but not sellable: expired, damaged, in quality check


@dataclass(frozen=True, slots=True)
class ChannelPromise:
    channel: str
    available_to_promise: int
    safety_buffer: int
    warehouses: list[str]


@dataclass(frozen=True, slots=True)
class MovementRow:
    id: int
    warehouse: str
    sku: str
    type: str
    quantity: int
    on_hand_after: int
    reason: str
    reference: str | None
    actor: str
    occurred_at: datetime
    lot: str | None = None
    unavailable_change: int = 0


@dataclass(frozen=True, slots=True)
class MovementPage:
    items: list[MovementRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Drift:
    """A stock position whose counters disagree with the ledger or the reservations."""

    stock_id: int
    warehouse: str
    sku: str
    on_hand: int
    ledger_on_hand: int
    reserved: int
    open_reservations: int

    @property
    def on_hand_drift(self) -> int:
        return self.on_hand - self.ledger_on_hand

    unavailable: int = 0
    ledger_unavailable: int = 0  # the ledger's sum of unavailable changes
    serials: int | None = None  # serialised positions: units in stock or reserved by serial

    @property
    def reserved_drift(self) -> int:
        return self.reserved - self.open_reservations

    @property
    def unavailable_drift(self) -> int:
        return self.unavailable - self.ledger_unavailable

    @property
    def serial_drift(self) -> int:
        return 0 if self.serials is None else self.on_hand - self.serials


@dataclass(frozen=True, slots=True)
class ExpiringLot:
    """A lot that expires soon or has expired, at one warehouse."""

    warehouse: str
    sku: str
    lot: str
    expires_on: date
    days_left: int  # negative once expired
    on_hand: int
    reserved: int
    unavailable: int


@dataclass(frozen=True, slots=True)
class Incoming:
    """Stock on its way to a warehouse: how much, and the earliest date it is expected."""

    quantity: int
    expected_on: date | None


@dataclass(frozen=True, slots=True)
class IncomingSource:
    """One document that brings stock: a shipped transfer or an open purchase order."""

    kind: str  # transfer, purchase_order
    number: str
    quantity: int
    expected_on: date | None
    origin: str  # the source warehouse of a transfer, the supplier of a purchase order


@dataclass(frozen=True, slots=True)
class IncomingRow:
    """Incoming stock of one SKU at one warehouse, with the documents that bring it."""

    warehouse: str
    sku: str
    quantity: int
    expected_on: date | None
    sources: list[IncomingSource]


@dataclass(frozen=True, slots=True)
class PickLine:
    """One reservation of an order as a picker walks to it: where, what, how many."""

    warehouse: str
    location: str | None
    zone: str | None
    pick_sequence: int | None
    sku: str
    name: str
    lot: str | None
    expires_on: date | None
    line_no: int
    quantity: int


@dataclass(frozen=True, slots=True)
class CountSummary:
    number: str
    warehouse: str
    zone: str | None
    status: str
    lines: int
    counted: int
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None


@dataclass(frozen=True, slots=True)
class CountPage:
    items: list[CountSummary]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ShortLine:
    """One line of a waiting order that the network could not cover when it went short."""

    line_no: int
    sku: str
    name: str
    requested: int
    available: int  # what the network had for it then

    @property
    def missing(self) -> int:
        return max(self.requested - self.available, 0)


@dataclass(frozen=True, slots=True)
class ShortOrder:
    """An order waiting for stock: what it lacks, since when, where it holds its other units,
    and the transfers and purchase orders bringing the SKUs it lacks."""

    order_id: int
    external_id: str | None
    channel: str
    priority: int
    promised_at: datetime | None
    since: datetime  # when it went short (the latest backorder of the order)
    why: str
    lines: list[ShortLine]
    holds_at: list[str]  # warehouses where it holds or has picked its other units
    expected: list[IncomingRow]  # per warehouse and short SKU, earliest first


@dataclass(frozen=True, slots=True)
class ShortOrderPage:
    items: list[ShortOrder]
    next_cursor: str | None
