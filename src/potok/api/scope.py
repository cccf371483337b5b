"""What a limited caller may reach: a channel-bound API key its channel's orders, warehouse
staff the orders and stock of their warehouses. Out of reach is reported as not found, so
that nothing leaks about orders one may not see.

Every route declares its reach with ``reach(Reach...)`` beside its ``needs(...)``: what in
its path or answer belongs to one channel or warehouse. The reaches named by a path
parameter (an order, a shipment, a channel, a warehouse) and the network-wide records
that limited callers may not read are checked here, before the route runs; the others
name what the route itself narrows or checks. The authorisation test reads these
declarations from the route table, so a route without one fails the build, and calls
every route as a channel-bound key and a warehouse user with another channel's and
another warehouse's ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from typing import Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from potok.domain.access import Principal
from potok.domain.access.model import OutOfReach, OutOfScope
from potok.domain.alerts import Alert
from potok.domain.channels import ChannelNotFound
from potok.domain.fulfilment import Shipment, ShipmentNotFound, WaveNotFound
from potok.domain.kernel import WarehouseId
from potok.domain.network import WarehouseNotFound
from potok.domain.orders import Order, OrderNotFound, ReservationStatus
from potok.services import orders as order_service
from potok.services.fulfilment import reads as fulfilment_reads
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
    """The alerts of orders the caller may see, those of locations in its warehouses, and
    those of neither (the network's, seen by every reader of alerts); every alert for an
    unlimited caller."""
    if not limited(principal):
        return alerts
    return [a for a in alerts if _sees_alert(uow, principal, a)]


def _sees_alert(uow: UnitOfWork, principal: Principal, alert: Alert) -> bool:
    if alert.order_id is not None:
        return sees_order(uow, principal, alert.order_id)
    if alert.warehouse_id is None or principal.warehouses is None:
        return True
    return WarehouseId(alert.warehouse_id) in principal.warehouses


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


def own_warehouses(principal: Principal) -> tuple[str, ...] | None:
    """The warehouses whose stock a list may show: a warehouse user's own, else all (None)."""
    return principal.warehouse_codes if principal.warehouses is not None else None


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


def sees_shipment(uow: UnitOfWork, principal: Principal, shipment: Shipment) -> bool:
    """Whether the caller may see the shipment: its warehouse, its order's channel."""
    if principal.warehouses is not None and shipment.warehouse_id not in principal.warehouses:
        return False
    if principal.channel is not None:
        order = order_service.get_order(uow, shipment.order_id).order
        return order.channel_code == principal.channel
    return True


def ensure_shipment(uow: UnitOfWork, principal: Principal, shipment_id: int) -> Shipment:
    """The shipment, when the caller may see it; otherwise not found."""
    shipment = fulfilment_reads.get_shipment(uow, shipment_id).shipment
    if not sees_shipment(uow, principal, shipment):
        raise ShipmentNotFound(shipment_id=shipment_id)
    return shipment


def ensure_wave(uow: UnitOfWork, principal: Principal, number: str) -> None:
    """A wave is work at one warehouse for orders of many channels: warehouse staff see their
    warehouses' waves, a channel-bound key none."""
    wave = fulfilment_reads.get_wave(uow, number).wave
    if principal.channel is not None or (
        principal.warehouses is not None and wave.warehouse_id not in principal.warehouses
    ):
        raise WaveNotFound(wave=number)


def ensure_own_channel(principal: Principal, code: str) -> None:
    """A channel named in the path: a bound key's own, else not there for it."""
    if principal.channel is not None and code != principal.channel:
        raise ChannelNotFound(channel=code)


def ensure_own_warehouse(principal: Principal, code: str) -> None:
    """A warehouse named in the path: one of a warehouse user's own, else not there."""
    if principal.warehouses is not None and code not in principal.warehouse_codes:
        raise WarehouseNotFound(warehouse=code)


def ensure_unlimited(principal: Principal) -> None:
    """A record that spans channels and warehouses is not there for a limited caller."""
    if limited(principal):
        raise OutOfReach(who=f"{principal.kind.value} '{principal.name}'")


class Reach(StrEnum):
    """What of one channel or warehouse a route reaches, and so who of the limited
    callers may see it."""

    NETWORK = "network"  # nothing of one channel or warehouse: the same for every caller
    ORDER = "order"  # the order in the path: 404 unless the caller sees it (checked here)
    SHIPMENT = "shipment"  # the shipment in the path: its warehouse and order (checked here)
    CHANNEL = "channel"  # the channel in the path: a bound key's own only (checked here)
    WAREHOUSE = "warehouse"  # the warehouse in the path: a warehouse user's own (here)
    UNLIMITED = "unlimited"  # spans every channel and warehouse: limited callers get 404
    RECORD = "record"  # a numbered record: its owners are checked here by the route's finder
    LISTED = "listed"  # a list (or figures) the route narrows to what the caller may see
    NAMED = "named"  # a change whose body names channels or warehouses the route checks


CHECKED_HERE = {
    Reach.ORDER,
    Reach.SHIPMENT,
    Reach.CHANNEL,
    Reach.WAREHOUSE,
    Reach.UNLIMITED,
    Reach.RECORD,
}

Finder = Callable[[UnitOfWork, Principal, Any], object]
"""Finds a numbered record for a limited caller, raising its not-found when they may not see it."""


def _int_param(value: str) -> int | None:
    """A numeric path id as the route will parse it, or None (the route answers 422)."""
    try:
        found = int(value)
    except ValueError:
        return None
    return found if 1 <= found <= 2**63 - 1 else None


class ReachCheck:
    """A route's declared reach, enforced for the path's ids before the route runs."""

    def __init__(self, reach: Reach, param: str | None, finder: Finder | None = None) -> None:
        self.reach = reach
        self.param = param
        self.finder = finder

    async def __call__(self, request: Request) -> None:
        if self.reach not in CHECKED_HERE:
            return
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None or not limited(principal):
            return  # anonymous callers were refused (or the route is public); others see all
        if self.reach is Reach.UNLIMITED:
            ensure_unlimited(principal)
            return
        assert self.param is not None
        value = request.path_params.get(self.param)
        if not isinstance(value, str):
            return
        if self.reach is Reach.CHANNEL:
            ensure_own_channel(principal, value)
        elif self.reach is Reach.WAREHOUSE:
            ensure_own_warehouse(principal, value)
        elif self.param.endswith("_id"):
            number = _int_param(value)
            if number is not None:
                await run_in_threadpool(self._check_record, request, principal, number)
        else:
            await run_in_threadpool(self._check_record, request, principal, value)

    def _check_record(self, request: Request, principal: Principal, key: int | str) -> None:
        uow = request.app.state.potok.uow()
        if self.reach is Reach.ORDER:
            assert isinstance(key, int)
            ensure_visible(uow, principal, key)
        elif self.reach is Reach.SHIPMENT:
            assert isinstance(key, int)
            ensure_shipment(uow, principal, key)
        else:
            assert self.finder is not None
            self.finder(uow, principal, key)


DEFAULT_PARAMS = {
    Reach.ORDER: "order_id",
    Reach.SHIPMENT: "shipment_id",
    Reach.CHANNEL: "code",
    Reach.WAREHOUSE: "code",
}


def reach(kind: Reach, param: str | None = None, *, finder: Finder | None = None) -> Any:
    """For ``dependencies=[needs(...), reach(...)]``: what of one channel or warehouse the
    route reaches; ``param`` names the path parameter that identifies it, and a record's
    ``finder`` finds it for a limited caller (or says it is not there)."""
    if kind is Reach.RECORD and (param is None or finder is None):
        raise ValueError("a record's reach names its path parameter and its finder")
    return Depends(ReachCheck(kind, param or DEFAULT_PARAMS.get(kind), finder))


def reach_of(dependencies: list[Any]) -> ReachCheck | None:
    for dependency in dependencies:
        call = getattr(dependency, "dependency", None)
        if isinstance(call, ReachCheck):
            return call
    return None
