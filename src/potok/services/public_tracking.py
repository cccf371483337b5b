"""The customer's public tracking page: each order's unguessable token, and what the page
may show - the status timeline, the parcels (carrier, tracking number, expected date, the
pickup point with its opening hours and storage deadline) and the returns - with no
personal data beyond the delivery city and the customer's first name."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from potok.domain.errors import NotFound
from potok.domain.fulfilment.states import SHIPPED, ShipmentStatus
from potok.domain.kernel import Clock, utc_now
from potok.domain.orders import DeliveryMethod, OrderNotFound
from potok.services.pickup_places import pickup_place
from potok.services.unit_of_work import UnitOfWork, atomically, reading

TOKEN_BYTES = 24  # 192 random bits, 32 URL-safe characters

MILESTONES = {
    "shipment_ready_for_pickup": "ready_for_pickup",
    "return_received": "return_received",
    "refund_paid": "refund_paid",
}
"""History actions shown as steps of their own besides the status changes."""


class TrackingPageNotFound(NotFound):
    code = "tracking-page-not-found"
    title = "No such tracking page"
    template = "This tracking link is not known."


def ensure_token(uow: UnitOfWork, order_id: int, at: datetime) -> str:
    """The order's token, made now if it has none (inside the caller's write transaction)."""
    token = uow.tracking_links.token_of(order_id)
    if token is None:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        uow.tracking_links.add(order_id, token, at)
    return token


def tracking_token(uow: UnitOfWork, order_id: int, *, clock: Clock = utc_now) -> str:
    """The order's tracking token (the same every time)."""

    def work(uow: UnitOfWork) -> str:
        if uow.orders.get(order_id) is None:
            raise OrderNotFound(order_id=order_id)
        return ensure_token(uow, order_id, clock())

    return atomically(uow, work)


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    what: str  # a status, or a milestone (ready_for_pickup, return_received, refund_paid)


@dataclass(frozen=True, slots=True)
class ParcelView:
    number: str
    status: str
    carrier: str | None
    tracking_number: str | None
    eta_on: date | None
    storage_until: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReturnView:
    number: str
    status: str
    refund_status: str
    refund_amount: Decimal


@dataclass(frozen=True, slots=True)
class TrackingView:
    """Everything the public page shows, and nothing more."""

    order_id: int
    status: str
    first_name: str
    city: str
    currency: str
    pickup: bool
    pickup_point: str | None = None
    pickup_address: str | None = None
    pickup_hours: str | None = None  # from the carriers' pickup-point directory
    steps: list[Step] = field(default_factory=list)
    parcels: list[ParcelView] = field(default_factory=list)
    returns: list[ReturnView] = field(default_factory=list)

    @property
    def eta_on(self) -> date | None:
        """The latest expected date of the parcels still on their way."""
        open_etas = [p.eta_on for p in self.parcels if p.eta_on and p.delivered_at is None]
        return max(open_etas) if open_etas else None


def public_view(uow: UnitOfWork, token: str) -> TrackingView:
    """What the tracking page of ``token`` shows; unknown tokens are not found."""
    if not 20 <= len(token) <= 64:
        raise TrackingPageNotFound()

    def work(uow: UnitOfWork) -> TrackingView:
        order_id = uow.tracking_links.order_of(token)
        order = uow.orders.get(order_id) if order_id is not None else None
        if order is None or order.id is None:
            raise TrackingPageNotFound()
        steps: list[Step] = []
        for entry in uow.orders.history(order.id):
            changed = entry.to_status if entry.from_status != entry.to_status else None
            for what in (changed, MILESTONES.get(entry.action)):
                if what is not None and (not steps or steps[-1].what != what):
                    steps.append(Step(entry.occurred_at, what))
        parcels = [
            ParcelView(
                s.number,
                s.status.value,
                s.carrier,
                s.tracking_number,
                s.eta_on,
                s.storage_until,
                s.delivered_at,
            )
            for s in uow.shipments.for_order(order.id)
            if s.status in SHIPPED or s.status is ShipmentStatus.PICKING
        ]
        returns = [
            ReturnView(r.number, r.status.value, r.refund_status.value, r.refund_amount)
            for r in uow.returns.for_order(order.id)
        ]
        delivery = order.delivery
        point = None
        if delivery.method is DeliveryMethod.PICKUP and delivery.pickup_point_code:
            carrier = next((p.carrier for p in parcels if p.carrier), None)
            point = pickup_place(uow, delivery.pickup_point_code, carrier)
        city = (
            point.city
            if point is not None
            else (delivery.address.city if delivery.address is not None else "")
        )
        return TrackingView(
            order_id=order.id,
            status=order.status.value,
            first_name=(order.contact.name or "").split(" ")[0],
            city=city,
            currency=order.currency,
            pickup=delivery.method is DeliveryMethod.PICKUP,
            pickup_point=point.name if point else None,
            pickup_address=point.where if point else None,
            pickup_hours=point.hours if point and point.hours else None,
            steps=steps,
            parcels=parcels,
            returns=returns,
        )

    return reading(uow, work)
