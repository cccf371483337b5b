"""The fields a rule's condition may read, their kinds, and how they are read from an
order and what Potok knows around it (:class:`OrderFacts`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from potok.domain.orders import HoldType, Order, OrderStatus, PaymentMethod, PaymentStatus
from potok.domain.orders.model import DeliveryMethod


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    FLAG = "flag"
    TEXTS = "list of texts"
    NUMBERS = "list of numbers"
    NULL = "null"


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """An order and what a condition may ask about it beyond the order itself."""

    order: Order
    at: datetime  # when the rule looks (the time of day it sees)
    customer_orders: int  # orders of the same customer, this one included
    customer_returns: int  # returns the customer opened before
    tags: frozenset[str]
    queues: frozenset[str] = frozenset()  # queues holding an unfinished task of the order
    categories: frozenset[str] = frozenset()  # of its products, and every one above them

    def values(self, names: frozenset[str] | None = None) -> dict[str, Any]:
        """The values a condition sees (only ``names`` when given)."""
        return read_fields(self, names)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: Kind
    about: str
    read: Callable[[OrderFacts], Any]
    choices: frozenset[str] = frozenset()
    optional: bool = False


def _values(enum: type[StrEnum]) -> frozenset[str]:
    return frozenset(e.value for e in enum)


def _hours_to_promise(facts: OrderFacts) -> Decimal | None:
    promised = facts.order.promised_at
    if promised is None:
        return None
    return Decimal(int((promised - facts.at).total_seconds() // 60)) / 60


def _age_hours(facts: OrderFacts) -> Decimal:
    return Decimal(int((facts.at - facts.order.created_at).total_seconds() // 60)) / 60


def _region(facts: OrderFacts) -> str:
    address = facts.order.delivery.address
    return address.region if address is not None else ""


def _city(facts: OrderFacts) -> str:
    address = facts.order.delivery.address
    return address.city if address is not None else ""


_FIELDS = (
    Field("channel", Kind.TEXT, "the channel's code", lambda f: f.order.channel_code),
    Field("total", Kind.NUMBER, "the order's total with delivery", lambda f: f.order.total.amount),
    Field("currency", Kind.TEXT, "ISO 4217 code of the order's money", lambda f: f.order.currency),
    Field("lines", Kind.NUMBER, "how many lines", lambda f: Decimal(len(f.order.lines))),
    Field(
        "items",
        Kind.NUMBER,
        "how many units over all lines",
        lambda f: Decimal(sum(line.quantity for line in f.order.lines)),
    ),
    Field(
        "skus",
        Kind.TEXTS,
        "the SKUs ordered",
        lambda f: frozenset(line.sku for line in f.order.lines),
    ),
    Field(
        "items.categories",
        Kind.TEXTS,
        "the categories of the ordered products, and every category above them "
        "('kettles' in items.categories holds for a kettle and for anything below kettles)",
        lambda f: f.categories,
    ),
    Field(
        "status",
        Kind.TEXT,
        "the order's status",
        lambda f: f.order.status.value,
        _values(OrderStatus),
    ),
    Field("priority", Kind.NUMBER, "the order's priority", lambda f: Decimal(f.order.priority)),
    Field(
        "payment.status",
        Kind.TEXT,
        "the payment's state",
        lambda f: f.order.payment_status.value,
        _values(PaymentStatus),
    ),
    Field(
        "payment.method",
        Kind.TEXT,
        "how the customer pays (null when the channel did not say)",
        lambda f: f.order.payment_method.value if f.order.payment_method else None,
        _values(PaymentMethod),
        optional=True,
    ),
    Field(
        "delivery.method",
        Kind.TEXT,
        "courier or pickup",
        lambda f: f.order.delivery.method.value,
        _values(DeliveryMethod),
    ),
    Field("delivery.region", Kind.TEXT, "the address's region ('' for pickup)", _region),
    Field("delivery.city", Kind.TEXT, "the address's city ('' for pickup)", _city),
    Field(
        "delivery.price",
        Kind.NUMBER,
        "what the customer pays for delivery",
        lambda f: f.order.delivery.price,
    ),
    Field(
        "promised_in_hours",
        Kind.NUMBER,
        "hours until the promised date (negative when late; null when none was promised)",
        _hours_to_promise,
        optional=True,
    ),
    Field(
        "age_hours",
        Kind.NUMBER,
        "hours since the order was taken (for rules on a schedule: 'age_hours > 24')",
        _age_hours,
    ),
    Field(
        "holds",
        Kind.TEXTS,
        "the types of the order's active holds",
        lambda f: frozenset(h.type.value for h in f.order.active_holds),
        _values(HoldType),
    ),
    Field("tags", Kind.TEXTS, "the order's tags", lambda f: f.tags),
    Field(
        "queues",
        Kind.TEXTS,
        "the task queues holding an unfinished task about the order",
        lambda f: f.queues,
    ),
    Field(
        "customer.orders",
        Kind.NUMBER,
        "the customer's orders, this one included (1: a new customer)",
        lambda f: Decimal(f.customer_orders),
    ),
    Field(
        "customer.returns",
        Kind.NUMBER,
        "returns the customer opened",
        lambda f: Decimal(f.customer_returns),
    ),
    Field(
        "customer.new",
        Kind.FLAG,
        "whether this is the customer's first order",
        lambda f: f.customer_orders <= 1,
    ),
    Field(
        "hour",
        Kind.NUMBER,
        "the hour of the day (UTC) the rule runs at",
        lambda f: Decimal(f.at.hour),
    ),
    Field(
        "weekday",
        Kind.NUMBER,
        "the day of the week (UTC) the rule runs on, 1 Monday to 7 Sunday",
        lambda f: Decimal(f.at.isoweekday()),
    ),
)

FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}
"""Every field a condition may name."""


def read_fields(facts: OrderFacts, names: frozenset[str] | None = None) -> dict[str, Any]:
    """The values a condition sees (only ``names`` when given)."""
    return {
        name: field.read(facts) for name, field in FIELDS.items() if names is None or name in names
    }


class LazyValues(dict[str, Any]):
    """The values a condition sees, each read from the facts the first time a condition
    asks for it (most rules ask about two or three fields, and some fields - the total,
    the units - cost a walk over the lines)."""

    __slots__ = ("facts",)

    def __init__(self, facts: OrderFacts) -> None:
        super().__init__()
        self.facts = facts

    def __missing__(self, name: str) -> Any:
        value = self[name] = FIELDS[name].read(self.facts)
        return value

    def after(self, facts: OrderFacts, touched: frozenset[str] | None) -> LazyValues:
        """The values of the facts after an action that may have changed the ``touched``
        fields (None: any): the others, read already, are kept."""
        fresh = LazyValues(facts)
        if touched is not None:
            fresh.update((name, value) for name, value in self.items() if name not in touched)
        return fresh
