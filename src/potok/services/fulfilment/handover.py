"""Hand-over: the parcels leave with the carrier (or the customer at the counter); the
reservations are consumed, on-hand falls with a ledger entry per position (lot), serial
numbers become ``shipped``."""

from __future__ import annotations

from datetime import datetime, timedelta

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.fulfilment import Shipment
from potok.domain.inventory import MovementType
from potok.domain.kernel import Actor, Clock, StockId, utc_now
from potok.domain.orders import Order, OrderState
from potok.domain.orders.errors import OrderClosed
from potok.domain.sourcing.geo import distance_km
from potok.services.fulfilment.common import locked, roll_up_order
from potok.services.idempotency import Once, atomically_once
from potok.services.stock_postings import post_movement
from potok.services.unit_of_work import UnitOfWork

MAX_CARRIER = 32
MAX_TRACKING = 64


def take_off_books(
    uow: UnitOfWork, order: Order, shipment: Shipment, at: datetime, actor: str
) -> None:
    """The shipment's units leave stock: its reservations are consumed, each position
    (lot) loses them from reserved and on-hand with a ledger entry, serials are shipped."""
    assert order.id is not None
    assert shipment.id is not None
    consumed = order.consume_for_shipment(shipment.id, at)
    quantities: dict[StockId, int] = {}
    for reservation in consumed:
        quantities[reservation.stock_id] = (
            quantities.get(reservation.stock_id, 0) + reservation.quantity
        )
    expected: dict[StockId, int] = {}
    for item in shipment.items:
        if item.quantity:
            expected[item.stock_id] = expected.get(item.stock_id, 0) + item.quantity
    if quantities != expected:  # the order's books and the shipment's items must agree
        raise RuntimeError(
            f"shipment {shipment.number}: reservations {quantities} but items {expected}"
        )
    levels = uow.positions.lock_in_order(sorted(quantities))
    uow.stock.release(quantities, at)
    for stock_id in sorted(quantities):
        level = uow.positions.get(stock_id)
        assert level is not None
        assert stock_id in levels
        post_movement(
            uow,
            level,
            -quantities[stock_id],
            MovementType.SHIPMENT,
            reason=f"shipment {shipment.number}",
            reference=f"order {order.id}",
            at=at,
            actor=actor,
        )
    for item in shipment.items:
        if item.picked_serials:
            marked = uow.stock.ship_serials(order.id, item.stock_id, item.picked_serials, at)
            if marked != len(item.picked_serials):
                raise RuntimeError(f"serials of {item.sku} were not all set aside for the order")


def transit_days(uow: UnitOfWork, shipment: Shipment, order: Order) -> int | None:
    """Days in transit: the carrier's booked tariff's, else the shipping tariff table's from
    the warehouse to the order's destination (None when neither knows)."""
    for step in reversed(uow.shipments.steps(shipment.id or 0)):
        if step.action == "booked" and isinstance(step.details.get("days"), int):
            days: int = step.details["days"]
            return days
    destination = order.delivery.destination
    site = uow.warehouses.get_by_code(shipment.warehouse_code)
    if destination is None or site is None:
        return None
    address = order.delivery.address
    quote = uow.sourcing_setup().tariffs.quote(
        shipment.warehouse_code,
        km=distance_km((site.latitude, site.longitude), destination),
        weight_kg=shipment.weight_g / 1000,
        region=address.region if address and address.region else None,
    )
    return quote.days if quote is not None else None


def hand_over(
    uow: UnitOfWork,
    shipment_id: int,
    actor: Actor,
    *,
    carrier: str | None = None,
    tracking_number: str | None = None,
    clock: Clock = utc_now,
    once: Once[Shipment] | None = None,
) -> Shipment:
    """The carrier (or the customer) takes a packed shipment; refused while a unit lacks an
    identifier its product requires."""
    errors = []
    if carrier is not None and not 1 <= len(carrier) <= MAX_CARRIER:
        errors.append(FieldError("carrier", f"must be 1-{MAX_CARRIER} characters"))
    if tracking_number is not None and not 1 <= len(tracking_number) <= MAX_TRACKING:
        errors.append(FieldError("tracking_number", f"must be 1-{MAX_TRACKING} characters"))
    if errors:
        raise InvalidInput(errors)

    def work(uow: UnitOfWork) -> Shipment:
        at = clock()
        who = str(actor)
        order, shipment = locked(uow, shipment_id)
        if order.state is OrderState.CANCELLED:
            raise OrderClosed(
                order_id=order.id, order_status=order.status.value, action="handed over"
            )
        shipment.hand_over(at, who, carrier=carrier, tracking_number=tracking_number)
        days = transit_days(uow, shipment, order)
        if days is not None:
            shipment.eta_on = (at + timedelta(days=days)).date()
        take_off_books(uow, order, shipment, at, who)
        uow.shipments.save(shipment)
        by = f" to {shipment.carrier}" if shipment.carrier else ""
        roll_up_order(
            uow,
            order,
            at,
            who,
            "handed_over",
            f"shipment {shipment.number} handed over{by} at {shipment.warehouse_code}",
            shipment_id=shipment.id,
            tracking_number=shipment.tracking_number,
        )
        return shipment

    return atomically_once(uow, once, work)
