"""The events after which a CRM is told an order of another channel again."""

from __future__ import annotations

CRM_ORDER_EVENTS = (
    "order.created",  # a new order: the CRM creates it
    "order.status_changed",  # confirmed, reserved, shipped, delivered, cancelled, returned...
    "order.payment_changed",
    "order.edited",  # lines or delivery
)
