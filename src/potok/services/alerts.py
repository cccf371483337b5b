"""Alerts for operators: raised where Potok could not settle something by itself (an order
re-routing left without stock, a location shipping without a tariff), listed, and
acknowledged by a person."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from potok.domain.alerts import (
    Alert,
    AlertAlreadyAcknowledged,
    AlertKind,
    AlertNotFound,
    AlertState,
)
from potok.domain.alerts.events import AlertAcknowledged, AlertRaised
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.orders import Order
from potok.domain.sourcing import SourcingRecord
from potok.services.read_models import OrderFilter
from potok.services.unit_of_work import UnitOfWork, atomically, reading

MAX_MESSAGE = 2000


@dataclass(frozen=True, slots=True)
class AlertPage:
    items: list[Alert]
    next_cursor: str | None


def raise_alert(
    uow: UnitOfWork, kind: AlertKind, order_id: int | None, message: str, at: datetime
) -> Alert:
    """An alert for operators, with its event in the same transaction (the message cut to
    what an alert keeps)."""
    message = message[:MAX_MESSAGE]
    alert = uow.alerts.add(kind, order_id, message, at)
    _announce(uow, alert, at)
    return alert


def raise_alert_once(
    uow: UnitOfWork,
    kind: AlertKind,
    subject: str,
    message: str,
    at: datetime,
    *,
    order_id: int | None = None,
    warehouse_id: int | None = None,
) -> Alert | None:
    """An alert about ``subject`` (a location, a marketplace item...) unless one of this kind
    about it was ever raised, with its event in the same transaction; None when one was
    (the subject and the message cut to what an alert keeps)."""
    message = message[:MAX_MESSAGE]
    alert = uow.alerts.add_once(
        kind, subject[:255], order_id, message, at, warehouse_id=warehouse_id
    )
    if alert is None:
        return None
    _announce(uow, alert, at)
    return alert


def _announce(uow: UnitOfWork, alert: Alert, at: datetime) -> None:
    """The alert's event, in the transaction that raised it."""
    uow.record(
        AlertRaised(
            occurred_at=at,
            alert_id=alert.id,
            kind=alert.kind.value,
            order_id=alert.order_id,
            message=alert.message,
        )
    )


def raise_alerts(uow: UnitOfWork, orders: Iterable[Order], at: datetime, why: str) -> list[Alert]:
    """Re-routing left these orders backordered: tell the operators, saying why and what is
    short. ``why`` names the trigger ("warehouse MSK-1 deactivated")."""
    raised: list[Alert] = []
    for order in orders:
        assert order.id is not None
        message = f"order {order.id}: re-routing after {why} found no stock for {_short(order)}"
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        raised.append(
            raise_alert(uow, AlertKind.ORDER_BACKORDERED_AFTER_REROUTING, order.id, message, at)
        )
    return raised


def alert_estimated_tariffs(
    uow: UnitOfWork, order: Order, record: SourcingRecord, at: datetime
) -> list[Alert]:
    """The order ships (or brings units by transfer) from locations the tariff table does
    not price, at the built-in bands' estimate: tell the operators once per location and
    tariff table version, however many orders follow."""
    codes = {s.code for s in record.shipments if s.estimate}
    codes.update(t.from_code for t in record.transfers if t.estimate)
    raised: list[Alert] = []
    locations = uow.warehouses.ids_for(sorted(codes))
    for code in sorted(codes):
        version = record.tariffs_version
        message = (
            f"{code} ships orders without a shipping tariff (tariff table version {version} "
            f"has no row for it): they are priced by the built-in distance bands, marked as "
            f"an estimate in their sourcing records (first: order {order.id}). Import a tariff "
            f"table that prices {code}."
        )
        alert = raise_alert_once(  # about the location; the order (maybe not stored yet)
            uow,  # is named in words
            AlertKind.LOCATION_SHIPS_WITHOUT_TARIFF,
            f"{code} (tariffs {version})",
            message,
            at,
            warehouse_id=locations.get(code),
        )
        if alert is not None:
            raised.append(alert)
    return raised


def _short(order: Order) -> str:
    """The lines the last backordering found short, as "SKU-1 (needs 2, has 0)"."""
    for entry in reversed(order.history):
        if entry.action == "backordered":
            shortages = entry.details.get("shortages") or []
            named = [
                f"{s['sku']} (needs {s['requested']}, has {s['available']})" for s in shortages
            ]
            if named:
                return ", ".join(named)
    return ", ".join(line.sku for line in order.lines)


def list_alerts(
    uow: UnitOfWork,
    *,
    state: AlertState = AlertState.OPEN,
    order_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
    within: OrderFilter | None = None,
) -> AlertPage:
    """Alerts newest first: open ones by default; ``within`` (a limited caller's channel and
    warehouses) keeps those of its orders and those of no order."""

    def work(uow: UnitOfWork) -> AlertPage:
        items, next_cursor = uow.alerts.list_page(
            state=state, order_id=order_id, cursor=cursor, limit=limit, within=within
        )
        return AlertPage(items, next_cursor)

    return reading(uow, work)


def get_alert(uow: UnitOfWork, alert_id: int) -> Alert:
    def work(uow: UnitOfWork) -> Alert:
        alert = uow.alerts.get(alert_id)
        if alert is None:
            raise AlertNotFound(alert_id=alert_id)
        return alert

    return reading(uow, work)


def acknowledge_alert(
    uow: UnitOfWork, alert_id: int, actor: Actor, *, clock: Clock = utc_now
) -> Alert:
    """Someone has seen the alert and takes it from here; it leaves the open list."""

    def work(uow: UnitOfWork) -> Alert:
        at = clock()
        alert = uow.alerts.get(alert_id, lock=True)
        if alert is None:
            raise AlertNotFound(alert_id=alert_id)
        if alert.acknowledged_at is not None:
            raise AlertAlreadyAcknowledged(
                alert_id=alert_id,
                by=alert.acknowledged_by,
                at=alert.acknowledged_at.isoformat(),
            )
        uow.alerts.acknowledge(alert_id, at, str(actor))
        uow.record(AlertAcknowledged(occurred_at=at, alert_id=alert_id, acknowledged_by=str(actor)))
        found = uow.alerts.get(alert_id)
        assert found is not None
        return found

    return atomically(uow, work)
