"""What a limited caller may reach: a channel-bound API key its channel's orders, warehouse
staff the orders and stock of their warehouses. Out of reach is reported as not found, so
that nothing leaks about orders one may not see."""

from __future__ import annotations

from dataclasses import replace

from potok.domain.access import Principal
from potok.domain.access.model import OutOfScope
from potok.domain.alerts import Alert
from potok.domain.orders import Order, OrderNotFound, ReservationStatus
from potok.services import orders as order_service
from potok.services.read_models import OrderFilter
from potok.services.unit_of_work import UnitOfWork

NOTHING = "#none"  # no channel or warehouse code starts with "#" (nor holds NUL: PostgreSQL)


def limited(principal: Principal) -> bool:
    return principal.channel is not None or principal.warehouses is not None


def visible(principal: Principal, order: Order) -> bool:
    if principal.channel is not None and order.channel_code != principal.channel:
        return False
    if principal.warehouses is not None:
        held = {
            r.warehouse_id
            for r in order.reservations
            if r.status in (ReservationStatus.OPEN, ReservationStatus.CONSUMED)
        }
        if not held & principal.warehouses:
            return False
    return True


def ensure_visible(uow: UnitOfWork, principal: Principal, order_id: int) -> None:
    if limited(principal) and not visible(principal, order_service.get_order(uow, order_id).order):
        raise OrderNotFound(order_id=order_id)


def sees_order(uow: UnitOfWork, principal: Principal, order_id: int | None) -> bool:
    """Whether a limited caller may see the order (an alert's, say); unknown ones are not seen."""
    if order_id is None:
        return False
    try:
        return visible(principal, order_service.get_order(uow, order_id).order)
    except OrderNotFound:
        return False


def visible_alerts(uow: UnitOfWork, principal: Principal, alerts: list[Alert]) -> list[Alert]:
    """The alerts of orders the caller may see (every alert for an unlimited caller)."""
    if not limited(principal):
        return alerts
    return [a for a in alerts if sees_order(uow, principal, a.order_id)]


def narrow(principal: Principal, flt: OrderFilter) -> OrderFilter:
    """The filter limited to what the caller may see."""
    if principal.channel is not None:
        channels = (
            [c for c in flt.channels if c == principal.channel]
            if flt.channels
            else [principal.channel]
        )
        flt = replace(flt, channels=channels or [NOTHING])
    if principal.warehouses is not None:
        allowed = set(principal.warehouse_codes)
        wanted = [w for w in flt.warehouses if w in allowed] if flt.warehouses else sorted(allowed)
        flt = replace(flt, warehouses=wanted or [NOTHING])
    return flt


def ensure_channel(principal: Principal, channel: str) -> None:
    if principal.channel is not None and channel != principal.channel:
        raise OutOfScope(
            who=f"key '{principal.name}'",
            why=f"may take orders of channel '{principal.channel}' only",
        )


def ensure_warehouses(principal: Principal, codes: set[str]) -> None:
    if principal.warehouses is None:
        return
    outside = sorted(codes - set(principal.warehouse_codes))
    if outside:
        raise OutOfScope(
            who=f"user '{principal.name}'",
            why=f"works at {', '.join(principal.warehouse_codes)}, not at {', '.join(outside)}",
        )
