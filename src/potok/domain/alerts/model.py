"""Alerts for operators: exceptions Potok could not settle by itself, until a person has
seen them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from potok.domain.errors import Conflict, NotFound


class AlertKind(StrEnum):
    """What an alert is about."""

    ORDER_BACKORDERED_AFTER_REROUTING = "order_backordered_after_rerouting"
    LOCATION_SHIPS_WITHOUT_TARIFF = "location_ships_without_tariff"
    MARKETPLACE_ITEM_NOT_MAPPED = "marketplace_item_not_mapped"
    MARKETPLACE_STOCK_REFUSED = "marketplace_stock_refused"
    MARKETPLACE_UPDATE_REFUSED = "marketplace_update_refused"
    CARRIER_REFUSED_BOOKING = "carrier_refused_booking"
    CARRIER_BOOKING_FAILING = "carrier_booking_failing"  # retries kept failing: carrier down
    COD_SHORT_PAID = "cod_short_paid"  # a carrier remitted less than it was to collect
    RULE_SWITCHED_OFF = "rule_switched_off"  # an automation rule failed while it ran
    TASK_OVERDUE = "task_overdue"  # an operator's task outlived its queue's time (SLA)
    TASK_UNASSIGNABLE = "task_unassignable"  # no member of its queue has the skills it needs
    WEBHOOK_PAUSED = "webhook_paused"
    FISCAL_RECEIPT_FAILED = "fiscal_receipt_failed"  # the provider refused a receipt
    REFUND_REFUSED = "refund_refused"  # the payment gateway did not refund: still owed


class AlertState(StrEnum):
    """Which alerts a list shows."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ALL = "all"


class AlertNotFound(NotFound):
    code = "alert-not-found"
    title = "Alert not found"
    template = "There is no alert {alert_id}."


class AlertAlreadyAcknowledged(Conflict):
    code = "alert-already-acknowledged"
    title = "The alert is acknowledged already"
    template = "Alert {alert_id} was acknowledged by {by} at {at}."


@dataclass(frozen=True, slots=True)
class Alert:
    """Something an operator has to look at; open until acknowledged."""

    id: int
    raised_at: datetime
    kind: AlertKind
    order_id: int | None
    message: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    subject: str | None = None  # what it is about when not an order: "MSK-9 (tariffs v3)"
    warehouse_id: int | None = None  # the location it is about, when not an order

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None
