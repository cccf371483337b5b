"""What an orders file changes in the order's own cells of an order Potok has: the delivery,
the customer's contact and the payment state change through the order-edit use case (as
``PATCH /api/v1/orders/{id}`` changes them); cells that cannot change - or that the order's
status no longer lets change - are problems of their row and column, never passed over.

A cell left empty keeps what the order has; a column the file lacks keeps it too (an export
carries only some of the order's cells)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from potok.domain.customers import normalise_email, normalise_phone
from potok.domain.orders import Address, DeliveryMethod, OrderStatus, PaymentStatus
from potok.domain.orders.commands import DeliveryRequest
from potok.domain.orders.edits import Change, allows
from potok.domain.orders.model import Contact, Delivery
from potok.domain.orders.states import PAYMENT
from potok.services.file_imports import RowProblem, parse_moment
from potok.services.order_edits import ContactChange
from potok.services.order_files import METHODS, PAYMENTS, FileOrder

DELIVERY_CELLS = (
    "delivery_method",
    "pickup_point",
    "city",
    "address",
    "address_line2",
    "region",
    "postal_code",
    "latitude",
    "longitude",
    "delivery_price",
    "delivery_vat_rate",
)
CONTACT_CELLS = ("customer_name", "customer_phone", "customer_email")
ADDRESS_CELLS = ("city", "address", "address_line2", "region", "postal_code")

Problem = Callable[[str, str], None]
"""Records a problem of the order's first row: its column and what is wrong."""


@dataclass(frozen=True, slots=True)
class KnownHead:
    """The order's own cells as Potok has them."""

    status: OrderStatus
    currency: str
    delivery: Delivery
    contact: Contact
    payment_status: PaymentStatus
    priority: int
    promised_at: datetime | None
    comment: str


@dataclass(slots=True)
class HeadChanges:
    """What the file changes in an order's own cells, and the problems of its cells."""

    problems: list[RowProblem] = field(default_factory=list)
    delivery: DeliveryRequest | None = None
    contact: ContactChange | None = None
    payment_status: PaymentStatus | None = None

    @property
    def any(self) -> bool:
        return any(x is not None for x in (self.delivery, self.contact, self.payment_status))


def head_changes(order: FileOrder, order_id: int, had: KnownHead) -> HeadChanges:
    """Compare the file's order cells with the order's (see the module's description)."""
    given = dict(order.given)
    found = HeadChanges()
    row = order.first_row

    def problem(column: str, message: str) -> None:
        found.problems.append(RowProblem(row, column, message, given.get(column, "")))

    _fixed(given, had, problem)
    payment = given.get("payment_status")
    if payment is not None:
        status = PAYMENTS.get(payment.lower())
        if status is None:
            problem("payment_status", "must be pending, authorized, paid, not_required, ...")
        elif status is not had.payment_status:
            if PAYMENT.allows(had.payment_status, status):
                found.payment_status = status
            else:
                problem(
                    "payment_status",
                    f"the payment of order {order_id} cannot go from "
                    f"{had.payment_status.value} to {status.value}",
                )
    found.contact = _contact(given, had, problem)
    if found.contact is not None and not allows(had.status, Change.CONTACT):
        column = next(c for c in CONTACT_CELLS if c in given)
        problem(
            column, f"order {order_id} is {had.status.value}: its customer can no longer change"
        )
        found.contact = None
    found.delivery = _delivery(given, had, problem)
    if found.delivery is not None and not allows(had.status, Change.DELIVERY):
        column = next(c for c in DELIVERY_CELLS if c in given)
        problem(
            column, f"order {order_id} is {had.status.value}: its delivery can no longer change"
        )
        found.delivery = None
    return found


def _fixed(given: dict[str, str], had: KnownHead, problem: Problem) -> None:
    """Cells no edit changes: a file that says otherwise is refused there."""
    currency = given.get("currency")
    if currency is not None and currency.upper() != had.currency:
        problem("currency", f"the order is in {had.currency}; an order's currency never changes")
    priority = given.get("priority")
    if priority is not None and priority != str(had.priority):
        problem("priority", f"the order's priority is {had.priority}; a file does not change it")
    promised = given.get("promised_at")
    if promised is not None and parse_moment(promised) != had.promised_at:
        problem("promised_at", "the promised time of an order Potok has does not change by file")
    comment = given.get("comment")
    if comment is not None and comment != had.comment:
        problem("comment", "the customer's comment on an order Potok has does not change")


def _contact(given: dict[str, str], had: KnownHead, problem: Problem) -> ContactChange | None:
    name = given.get("customer_name", had.contact.name)
    phone, email = had.contact.phone, had.contact.email
    if "customer_phone" in given:
        phone = normalise_phone(given["customer_phone"])
        if phone is None:
            problem("customer_phone", "is not a phone number (7-15 digits, e.g. +7 916 123-45-67)")
            return None
    if "customer_email" in given:
        email = normalise_email(given["customer_email"])
        if email is None:
            problem("customer_email", "is not an e-mail address")
            return None
    if (name.strip(), phone, email) == (had.contact.name, had.contact.phone, had.contact.email):
        return None
    return ContactChange(name, phone, email)


def _number(given: dict[str, str], name: str, problem: Problem) -> Decimal | None:
    text = given.get(name)
    if text is None:
        return None
    try:
        return Decimal(text.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        problem(name, f"'{text}' is not a number")
        return None


def _delivery(given: dict[str, str], had: KnownHead, problem: Problem) -> DeliveryRequest | None:
    """The delivery as the file wants it, when it differs from the order's."""
    if not any(c in given for c in DELIVERY_CELLS):
        return None
    now = had.delivery
    method = now.method
    if "delivery_method" in given:
        chosen = METHODS.get(given["delivery_method"].lower())
        if chosen is None:
            problem("delivery_method", "must be courier or pickup (курьер, самовывоз)")
            return None
        method = chosen
    price = _number(given, "delivery_price", problem)
    vat = _number(given, "delivery_vat_rate", problem)
    latitude = _number(given, "latitude", problem)
    longitude = _number(given, "longitude", problem)
    if method is DeliveryMethod.PICKUP:
        for column in (*ADDRESS_CELLS, "latitude", "longitude"):
            if column in given:
                problem(column, "an order picked up has no address; say delivery_method courier")
                return None
        point = given.get("pickup_point", now.pickup_point_code if now.pickup_point_code else "")
        address = None
    else:
        if "pickup_point" in given:
            problem(
                "pickup_point", "a courier order has no pickup point; say delivery_method pickup"
            )
            return None
        base = now.address or Address("", "")
        address = Address(
            city=given.get("city", base.city),
            line1=given.get("address", base.line1),
            line2=given.get("address_line2", base.line2),
            region=given.get("region", base.region),
            postal_code=given.get("postal_code", base.postal_code),
            country=base.country,
            latitude=float(latitude) if latitude is not None else base.latitude,
            longitude=float(longitude) if longitude is not None else base.longitude,
        )
        point = ""
    wanted = DeliveryRequest(
        method,
        address=address,
        pickup_point=point or None,
        price=price if price is not None else now.price,
        vat_rate=vat if vat is not None else now.vat_rate,
    )
    current = DeliveryRequest(
        now.method,
        address=now.address if now.method is DeliveryMethod.COURIER else None,
        pickup_point=now.pickup_point_code,
        price=now.price,
        vat_rate=now.vat_rate,
    )
    return None if wanted == current else wanted
