"""Requests to change orders, shared by the API, the CLI, connectors and the worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from potok.domain.orders.model import Address, DeliveryMethod
from potok.domain.orders.states import HoldType, PaymentMethod, PaymentStatus
from potok.domain.quick_init import quick_init

MAX_LINES = 500
"""The most lines one order may have."""


@quick_init
@dataclass(frozen=True, slots=True)
class LineRequest:
    sku: str
    quantity: int
    unit_price: Decimal | None = None  # the catalogue price when omitted
    vat_rate: Decimal | None = None  # the product's rate when omitted


@quick_init
@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    method: DeliveryMethod
    address: Address | None = None
    pickup_point: str | None = None
    price: Decimal = Decimal("0.00")
    vat_rate: Decimal = Decimal("0")


@quick_init
@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Take an order from a channel: validate, deduplicate, reserve, confirm per policy."""

    channel: str
    lines: list[LineRequest]
    delivery: DeliveryRequest
    currency: str | None = None  # the channel's currency when omitted
    external_id: str | None = None
    customer_name: str = ""
    customer_phone: str | None = None
    customer_email: str | None = None
    priority: int = 0
    promised_at: datetime | None = None
    payment_status: PaymentStatus = PaymentStatus.PENDING
    payment_method: PaymentMethod | None = None  # the channel did not say when None
    comment: str = ""
    idempotency_key: str | None = None
    request_hash: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    ship_from: str | None = None  # the only location that may fulfil it (a marketplace's FBS)


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: int
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ConfirmOrder:
    order_id: int
    reason: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class PlaceHold:
    order_id: int
    type: HoldType
    reason: str
    expires_at: datetime | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ReleaseHold:
    order_id: int
    hold_no: int
    reason: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class RecordPayment:
    order_id: int
    status: PaymentStatus
    reason: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ReportShortage:
    """A picker did not find ``missing`` units of ``sku`` reserved for the order at
    ``warehouse``."""

    order_id: int
    warehouse: str
    sku: str
    missing: int
    lot: str | None = None
    note: str | None = None
