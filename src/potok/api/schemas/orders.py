"""Bodies of the orders endpoints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from potok.api.schemas.common import (
    JSON_INTEGER,
    AwareDatetime,
    Code,
    Country,
    Currency,
    Latitude,
    Longitude,
    MissingKey,
    MoneyIn,
    MoneyOut,
    Out,
    Page,
    PersonalDataState,
    Quantity,
    RateIn,
    Schema,
)
from potok.domain.kernel import vat_included
from potok.domain.orders import (
    Address,
    DeliveryMethod,
    HistoryEntry,
    HoldType,
    Order,
    OrderState,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    ReservationStatus,
)
from potok.domain.orders.commands import MAX_LINES, DeliveryRequest, LineRequest, PlaceOrder
from potok.security.masking import mask_email, mask_name, mask_phone, mask_text
from potok.services.read_models import OrderSummary

# ---------------------------------------------------------------------- in


Priority = Annotated[int, Field(ge=0, le=9), JSON_INTEGER]


class AddressIn(Schema):
    city: str = Field(max_length=120, examples=["Москва"])
    line1: str = Field(max_length=255, examples=["ул. Тверская, д. 7, кв. 12"])
    line2: str = Field(default="", max_length=255)
    region: str = Field(default="", max_length=120)
    postal_code: str = Field(default="", max_length=20, examples=["125009"])
    country: Country = "RU"
    latitude: Latitude | None = Field(default=None, examples=[55.7602])
    longitude: Longitude | None = Field(default=None, examples=[37.6085])


class DeliveryIn(Schema):
    method: DeliveryMethod = Field(description="`courier` to an address, `pickup` at a point")
    address: AddressIn | None = Field(default=None, description="Required for `courier`.")
    pickup_point: Code | None = Field(
        default=None, description="Code of a store or pickup point; required for `pickup`."
    )
    price: MoneyIn = Decimal("0.00")
    vat_rate: RateIn = Decimal("0")


class CustomerIn(Schema):
    name: str = Field(default="", max_length=255, examples=["Анна Смирнова"])
    phone: str | None = Field(default=None, max_length=40, examples=["+7 916 123-45-67"])
    email: str | None = Field(default=None, max_length=254, examples=["anna@example.ru"])


class LineIn(Schema):
    sku: str = Field(min_length=1, max_length=64, examples=["KET-001"])
    quantity: Quantity = Field(examples=[2], description="Units; 1 to 1,000,000,000.")
    unit_price: MoneyIn | None = Field(
        default=None, description="VAT-inclusive; the catalogue price when omitted."
    )
    vat_rate: RateIn | None = Field(default=None, description="The product's rate when omitted.")


class OrderIn(Schema):
    channel: Code = Field(examples=["web"], description="Code of the sales channel.")
    external_id: str | None = Field(
        default=None,
        max_length=128,
        description="The channel's own order number; an order is taken once per channel.",
        examples=["SHOP-100234"],
    )
    currency: Currency | None = Field(
        default=None, description="Must match the channel's currency (ISO 4217)."
    )
    customer: CustomerIn = CustomerIn()
    delivery: DeliveryIn
    lines: list[LineIn] = Field(
        min_length=1, max_length=MAX_LINES, description="At least one line; at most 500."
    )
    priority: Priority = Field(default=0, description="0 (normal) to 9 (most urgent).")
    promised_at: AwareDatetime | None = Field(
        default=None, description="When the customer was promised the order."
    )
    payment_status: Literal["pending", "authorized", "paid", "not_required"] = "pending"
    payment_method: PaymentMethod | None = Field(
        default=None,
        description="How the customer pays; one the channel takes. `cash_on_delivery` and "
        "`card_on_delivery`: the carrier collects the order's amount when it delivers "
        "(the order ships unpaid).",
    )
    comment: str = Field(default="", max_length=2000)

    def to_command(self, idempotency_key: str | None, request_hash: str | None) -> PlaceOrder:
        address = self.delivery.address
        return PlaceOrder(
            channel=self.channel,
            currency=self.currency,
            external_id=self.external_id,
            lines=[
                LineRequest(li.sku, li.quantity, li.unit_price, li.vat_rate) for li in self.lines
            ],
            delivery=DeliveryRequest(
                method=self.delivery.method,
                address=Address(**address.model_dump()) if address else None,
                pickup_point=self.delivery.pickup_point,
                price=self.delivery.price,
                vat_rate=self.delivery.vat_rate,
            ),
            customer_name=self.customer.name,
            customer_phone=self.customer.phone,
            customer_email=self.customer.email,
            priority=self.priority,
            promised_at=self.promised_at,
            payment_status=PaymentStatus(self.payment_status),
            payment_method=self.payment_method,
            comment=self.comment,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )


class ReasonIn(Schema):
    reason: str | None = Field(default=None, max_length=1000)


class CancellationIn(Schema):
    reason: str = Field(min_length=1, max_length=1000, examples=["the customer changed their mind"])


class HoldIn(Schema):
    type: HoldType
    reason: str = Field(min_length=1, max_length=500, examples=["checking the address by phone"])
    expires_at: AwareDatetime | None = Field(
        default=None, description="The hold ends by itself at this moment."
    )


class PaymentIn(Schema):
    status: PaymentStatus
    reason: str | None = Field(default=None, max_length=500)


# ---------------------------------------------------------------------- out


class AddressOut(Out):
    city: str
    line1: str
    line2: str
    region: str
    postal_code: str
    country: str
    latitude: float | None
    longitude: float | None


class DeliveryOut(Out):
    method: str
    address: AddressOut | None
    pickup_point: str | None
    price: MoneyOut
    vat_rate: Decimal


class CustomerOut(Out):
    id: int | None
    name: str
    phone: str | None
    email: str | None


class LineOut(Out):
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: MoneyOut
    vat_rate: Decimal
    total: MoneyOut
    vat_amount: MoneyOut
    reserved_quantity: int
    short_quantity: int


class ReservationOut(Out):
    line_no: int
    warehouse: str
    sku: str
    quantity: int
    status: str
    created_at: datetime
    expires_at: datetime | None
    ended_at: datetime | None
    lot: str | None = Field(default=None, description="The lot, for products kept by lot.")
    serials: list[str] = Field(
        default_factory=list, description="Serial numbers set aside, for serialised products."
    )


class HoldOut(Out):
    hold_no: int
    type: str
    state: str
    reason: str
    placed_at: datetime
    placed_by: str
    expires_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None


class HistoryOut(Out):
    occurred_at: datetime
    actor: str
    action: str
    reason: str | None
    from_status: str | None
    to_status: str
    details: dict[str, Any]


class TotalsOut(Out):
    subtotal: MoneyOut
    delivery: MoneyOut
    vat: MoneyOut
    total: MoneyOut


class ShortageOut(Out):
    line_no: int
    sku: str
    requested: int
    available: int


class SourcingOut(Out):
    explanation: str | None = Field(description="Why the stock comes from where it comes from.")
    shortages: list[ShortageOut] = Field(description="Lines the network could not cover.")


class OrderOut(Out):
    id: int = Field(description="Potok's order number.")
    external_id: str | None
    channel: str
    status: OrderStatus = Field(description="The status an operator sees, derived from the states.")
    state: str
    allocation: str
    payment_status: str
    payment_method: PaymentMethod | None = Field(
        description="How the customer pays (none: the channel did not say)."
    )
    priority: int
    currency: str
    customer: CustomerOut
    delivery: DeliveryOut
    lines: list[LineOut]
    totals: TotalsOut
    reservations: list[ReservationOut]
    holds: list[HoldOut]
    sourcing: SourcingOut
    promised_at: datetime | None
    ship_from: str | None = Field(
        description="The only location that may fulfil the order: for a marketplace's FBS "
        "order, the Potok location mapped to the marketplace warehouse it came to."
    )
    payment_due_at: datetime | None
    comment: str
    version: int
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    history: list[HistoryOut]


class OrderSummaryOut(Out):
    id: int
    external_id: str | None
    channel: str
    status: str
    allocation: str
    payment_status: str
    payment_method: str | None = None
    priority: int
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    currency: str
    total: MoneyOut
    line_count: int
    warehouses: list[str]
    promised_at: datetime | None
    created_at: datetime
    updated_at: datetime
    personal_data: PersonalDataState = "available"
    missing_key: MissingKey = None


class OrderPageOut(Page):
    items: list[OrderSummaryOut]


# ---------------------------------------------------------------------- rendering


def render_order(
    order: Order, history: list[HistoryEntry], *, mask: bool = False
) -> dict[str, Any]:
    """The order as the API shows it (the shape of :class:`OrderOut`), ready for orjson.

    Built as plain data rather than through the model: this is on the hottest path, and a
    test checks that every rendered order validates against ``OrderOut``.
    """
    delivery = order.delivery
    address = delivery.address
    contact = order.contact
    explanation, shortages = _sourcing(order, history)
    hide: Callable[[str | None], str | None] = mask_text if mask else _same
    cancelled = order.state is OrderState.CANCELLED
    reserved_by_line: dict[int, int] = {}
    for r in order.reservations:
        if r.status is ReservationStatus.OPEN:
            reserved_by_line[r.line_no] = reserved_by_line.get(r.line_no, 0) + r.quantity
    lines = []
    for line in order.lines:
        reserved = reserved_by_line.get(line.line_no, 0)
        total = line.total
        lines.append(
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "vat_rate": str(line.vat_rate),
                "total": _money(total),
                "vat_amount": _money(vat_included(total, line.vat_rate)),
                "reserved_quantity": reserved,
                "short_quantity": 0 if cancelled else line.quantity - reserved,
            }
        )
    subtotal, vat_total, order_total = order.amounts()
    return {  # enums by `_value_`: `value` is slow on Python 3.11
        "id": order.id or 0,
        "external_id": order.external_id,
        "channel": order.channel_code,
        "status": order.status._value_,
        "state": order.state._value_,
        "allocation": order.allocation._value_,
        "payment_status": order.payment_status._value_,
        "payment_method": order.payment_method._value_ if order.payment_method else None,
        "priority": order.priority,
        "currency": order.currency,
        "customer": {
            "id": order.customer_id,
            "name": mask_name(contact.name) if mask else contact.name,
            "phone": mask_phone(contact.phone) if mask else contact.phone,
            "email": mask_email(contact.email) if mask else contact.email,
        },
        "delivery": {
            "method": delivery.method._value_,
            "address": None
            if address is None
            else {
                "city": address.city,
                "line1": hide(address.line1),
                "line2": hide(address.line2),
                "region": address.region,
                "postal_code": hide(address.postal_code),
                "country": address.country,
                "latitude": address.latitude,
                "longitude": address.longitude,
            },
            "pickup_point": delivery.pickup_point_code,
            "price": _money(delivery.price),
            "vat_rate": str(delivery.vat_rate),
        },
        "lines": lines,
        "totals": {
            "subtotal": _money(subtotal),
            "delivery": _money(delivery.price),
            "vat": _money(vat_total),
            "total": _money(order_total),
        },
        "reservations": [
            {
                "line_no": r.line_no,
                "warehouse": r.warehouse_code,
                "sku": r.sku,
                "quantity": r.quantity,
                "status": r.status._value_,
                "created_at": r.created_at,
                "expires_at": r.expires_at,
                "ended_at": r.ended_at,
                "lot": r.lot,
                "serials": list(r.serials),
            }
            for r in order.reservations
        ],
        "holds": [
            {
                "hold_no": h.hold_no,
                "type": h.type.value,
                "state": h.state.value,
                "reason": h.reason,
                "placed_at": h.placed_at,
                "placed_by": h.placed_by,
                "expires_at": h.expires_at,
                "ended_at": h.ended_at,
                "ended_by": h.ended_by,
                "end_reason": h.end_reason,
            }
            for h in order.holds
        ],
        "sourcing": {"explanation": explanation, "shortages": shortages},
        "promised_at": order.promised_at,
        "ship_from": order.ship_from_code,
        "payment_due_at": order.payment_due_at,
        "comment": order.comment,
        "version": order.version,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "confirmed_at": order.confirmed_at,
        "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason,
        "history": [
            {
                "occurred_at": h.occurred_at,
                "actor": h.actor,
                "action": h.action,
                "reason": h.reason,
                "from_status": h.from_status,
                "to_status": h.to_status,
                "details": h.details,
            }
            for h in history
        ],
    }


def _same(value: str | None) -> str | None:
    return value


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _sourcing(order: Order, history: list[HistoryEntry]) -> tuple[str | None, list[dict[str, Any]]]:
    """The latest sourcing outcome, as the history recorded it."""
    for entry in reversed(history):
        if entry.action in ("reserved", "replanned"):
            return entry.reason, []
        if entry.action == "backordered":
            if order.allocation.value != "backordered":
                return None, []
            return entry.reason, list(entry.details.get("shortages", []))
    return None, []


def render_summary(summary: OrderSummary, *, mask: bool = False) -> OrderSummaryOut:
    out = OrderSummaryOut.model_validate(summary)
    if mask:
        out.customer_name = mask_name(out.customer_name) or ""
        out.customer_phone = mask_phone(out.customer_phone)
        out.customer_email = mask_email(out.customer_email)
    return out
