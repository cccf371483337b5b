"""The order's small state machines, each a table of allowed transitions in one place."""

from __future__ import annotations

from enum import StrEnum

from potok.domain.machine import StateMachine


class OrderState(StrEnum):
    """The commercial life of an order."""

    NEW = "new"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    NOT_REQUIRED = "not_required"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"


class PaymentMethod(StrEnum):
    """How the customer pays: before the parcel leaves, or to the carrier when it arrives."""

    ONLINE = "online"  # by card, SBP or a wallet at the checkout, before shipping
    CASH_ON_DELIVERY = "cash_on_delivery"  # in cash to the courier or at the pickup point
    CARD_ON_DELIVERY = "card_on_delivery"  # by card to the courier or at the pickup point
    INVOICE = "invoice"  # a bank transfer against Potok's invoice (companies)
    MARKETPLACE = "marketplace"  # to the marketplace the order came from
    IN_STORE = "in_store"  # at the store's till


class HoldType(StrEnum):
    PAYMENT = "payment"
    FRAUD = "fraud"
    ADDRESS = "address"
    MANUAL = "manual"


class HoldState(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"


class AllocationState(StrEnum):
    """Whether the order's lines have stock set aside for them."""

    UNALLOCATED = "unallocated"
    RESERVED = "reserved"
    BACKORDERED = "backordered"


ORDER = StateMachine[OrderState](
    "order",
    {
        OrderState.NEW: frozenset({OrderState.CONFIRMED, OrderState.CANCELLED}),
        OrderState.CONFIRMED: frozenset({OrderState.CANCELLED}),
        OrderState.CANCELLED: frozenset(),
    },
)

PAYMENT = StateMachine[PaymentStatus](
    "payment",
    {
        PaymentStatus.NOT_REQUIRED: frozenset(),
        PaymentStatus.PENDING: frozenset(
            {PaymentStatus.AUTHORIZED, PaymentStatus.PAID, PaymentStatus.FAILED}
        ),
        PaymentStatus.AUTHORIZED: frozenset({PaymentStatus.PAID, PaymentStatus.FAILED}),
        PaymentStatus.FAILED: frozenset(
            {PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.PAID}
        ),
        PaymentStatus.PAID: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
        PaymentStatus.PARTIALLY_REFUNDED: frozenset(
            {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
        ),
        PaymentStatus.REFUNDED: frozenset(),
    },
)

HOLD = StateMachine[HoldState](
    "hold",
    {
        HoldState.ACTIVE: frozenset({HoldState.RELEASED, HoldState.EXPIRED}),
        HoldState.RELEASED: frozenset(),
        HoldState.EXPIRED: frozenset(),
    },
)

ALLOCATION = StateMachine[AllocationState](
    "allocation",
    {
        AllocationState.UNALLOCATED: frozenset(
            {AllocationState.RESERVED, AllocationState.BACKORDERED}
        ),
        AllocationState.BACKORDERED: frozenset(
            {AllocationState.RESERVED, AllocationState.UNALLOCATED}
        ),
        # a reserved order gives its stock back (UNALLOCATED) before it can wait for more
        AllocationState.RESERVED: frozenset({AllocationState.UNALLOCATED}),
    },
)

PAID_ENOUGH = frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.PAID, PaymentStatus.NOT_REQUIRED})
"""Payment states in which an order no longer waits for money."""

ON_DELIVERY = frozenset({PaymentMethod.CASH_ON_DELIVERY, PaymentMethod.CARD_ON_DELIVERY})
"""Payment methods the carrier collects when it delivers (cash on delivery, наложенный
платёж): such an order ships unpaid, and its carrier is told the amount to collect."""
