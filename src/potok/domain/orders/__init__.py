"""Orders: the aggregate, its state machines, the derived status, events and commands."""

from potok.domain.orders.errors import OrderNotFound
from potok.domain.orders.model import (
    Address,
    Contact,
    Delivery,
    DeliveryMethod,
    HistoryEntry,
    Hold,
    Order,
    OrderLine,
    Reservation,
    ReservationStatus,
    Shortage,
)
from potok.domain.orders.states import (
    AllocationState,
    HoldState,
    HoldType,
    OrderState,
    PaymentMethod,
    PaymentStatus,
)
from potok.domain.orders.status import NEEDS_ACTION, OrderStatus, derive_status

__all__ = [
    "NEEDS_ACTION",
    "Address",
    "AllocationState",
    "Contact",
    "Delivery",
    "DeliveryMethod",
    "HistoryEntry",
    "Hold",
    "HoldState",
    "HoldType",
    "Order",
    "OrderLine",
    "OrderNotFound",
    "OrderState",
    "OrderStatus",
    "PaymentMethod",
    "PaymentStatus",
    "Reservation",
    "ReservationStatus",
    "Shortage",
    "derive_status",
]
