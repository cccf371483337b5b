"""Tasks Potok opens by itself when something needs a person: a failed delivery, a
return to inspect, a backordered order to decide about, a connector's refusal. Each goes
to a queue of a fixed code, when the shop has set such a queue up (no queue: no task)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from potok.domain.alerts import AlertKind


@dataclass(frozen=True, slots=True)
class SystemTask:
    """A task to open: in which queue, about which order (if any), saying what."""

    queue: str
    order_id: int | None
    title: str


FAILED_DELIVERY = "failed-delivery"
RETURN_INSPECTION = "return-inspection"
BACKORDERS = "backorders"
CONNECTOR_ERRORS = "connector-errors"

SYSTEM_QUEUES: Mapping[str, str] = {
    "shipment.delivery_failed": FAILED_DELIVERY,
    "return.received": RETURN_INSPECTION,
    "order.created": BACKORDERS,  # taken without the stock for it
    "order.backordered": BACKORDERS,  # left without stock later (re-sourcing)
    "alert.raised": CONNECTOR_ERRORS,
}
"""The events that may open a task, and the code of the queue it goes to."""

CONNECTOR_ALERTS = frozenset(
    {
        AlertKind.MARKETPLACE_ITEM_NOT_MAPPED,
        AlertKind.MARKETPLACE_STOCK_REFUSED,
        AlertKind.MARKETPLACE_UPDATE_REFUSED,
        AlertKind.CARRIER_REFUSED_BOOKING,
        AlertKind.CARRIER_BOOKING_FAILING,
        AlertKind.FISCAL_RECEIPT_FAILED,
        AlertKind.REFUND_REFUSED,
    }
)
"""Alerts about a marketplace, carrier, cash-register provider or payment gateway refusing
Potok: a connector error to look into."""


def system_task(event_type: str, payload: Mapping[str, Any]) -> SystemTask | None:
    """The task an event calls for, or None."""
    queue = SYSTEM_QUEUES.get(event_type)
    if queue is None:
        return None
    order_id = payload.get("order_id")
    order = int(order_id) if order_id is not None else None
    if queue == FAILED_DELIVERY:
        carrier = payload.get("carrier") or "the carrier"
        what = payload.get("event") or "delivery failed"
        title = f"Failed delivery of shipment {payload.get('shipment_id')} ({carrier}: {what})"
        return SystemTask(queue, order, title)
    if queue == RETURN_INSPECTION:
        return SystemTask(queue, order, f"Inspect return {payload.get('number')}")
    if queue == BACKORDERS:
        if event_type == "order.created":
            if payload.get("allocation") != "backordered":
                return None
            return SystemTask(queue, order, "Taken without the stock for it: wait, split or cancel")
        short = ", ".join(sorted({str(s.get("sku")) for s in payload.get("shortages") or []}))
        return SystemTask(queue, order, f"Backordered ({short or 'stock'}): wait, split or cancel")
    if payload.get("kind") not in {k.value for k in CONNECTOR_ALERTS}:
        return None
    return SystemTask(queue, order, str(payload.get("message") or payload.get("kind")))
