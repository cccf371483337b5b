"""The order aggregate: lines, delivery, holds, reservations and the history of every change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from potok.domain.events import DomainEvent
from potok.domain.fulfilment.states import FulfilmentProgress
from potok.domain.kernel import (
    ChannelId,
    CustomerId,
    Money,
    OrderId,
    ProductId,
    StockId,
    WarehouseId,
    round_money,
    vat_included,
)
from potok.domain.orders import events as ev
from potok.domain.orders.errors import (
    HoldAlreadyActive,
    HoldNotFound,
    OrderClosed,
    OrderNotReserved,
    OrderOnHold,
)
from potok.domain.orders.states import (
    ALLOCATION,
    HOLD,
    ON_DELIVERY,
    ORDER,
    PAID_ENOUGH,
    PAYMENT,
    AllocationState,
    HoldState,
    HoldType,
    OrderState,
    PaymentMethod,
    PaymentStatus,
)
from potok.domain.orders.status import OrderStatus, derive_status
from potok.domain.quick_init import quick_init
from potok.domain.returns.states import ReturnProgress
from potok.domain.sourcing.explanation import SourcingRecord


class DeliveryMethod(StrEnum):
    COURIER = "courier"
    PICKUP = "pickup"


class ReservationStatus(StrEnum):
    OPEN = "open"
    RELEASED = "released"
    EXPIRED = "expired"
    CONSUMED = "consumed"


MAX_REASON = 1000
"""The longest reason a history entry keeps (what its column holds)."""


@quick_init
@dataclass(frozen=True, slots=True)
class Address:
    city: str
    line1: str
    line2: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = "RU"
    latitude: float | None = None
    longitude: float | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Delivery:
    """Where the order goes: a courier address or a pickup point of the network."""

    method: DeliveryMethod
    address: Address | None = None
    pickup_point_id: WarehouseId | None = None
    pickup_point_code: str | None = None
    price: Decimal = Decimal("0.00")
    vat_rate: Decimal = Decimal("0")
    latitude: float | None = None
    longitude: float | None = None

    @property
    def destination(self) -> tuple[float, float] | None:
        """The point the parcel travels to, when known."""
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)


@quick_init
@dataclass(frozen=True, slots=True)
class Contact:
    """The customer's contact as the order gave it (a snapshot, not the customer record)."""

    name: str = ""
    phone: str | None = None
    email: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class OrderLine:
    line_no: int
    product_id: ProductId
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal

    @property
    def total(self) -> Decimal:
        return round_money(self.unit_price * self.quantity)

    @property
    def vat_amount(self) -> Decimal:
        return vat_included(self.total, self.vat_rate)


@dataclass(slots=True)
class Reservation:
    """Stock set aside at one warehouse for (part of) one order line."""

    line_no: int
    stock_id: StockId
    warehouse_id: WarehouseId
    warehouse_code: str
    product_id: ProductId
    sku: str
    quantity: int
    status: ReservationStatus
    created_at: datetime
    expires_at: datetime | None = None
    ended_at: datetime | None = None
    id: int | None = None
    lot: str | None = None  # the lot number, for products kept by lot
    serials: tuple[str, ...] = ()  # the units set aside, for serialised products
    shipment_id: int | None = None  # the started shipment picking (or that shipped) it

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "line_no": self.line_no,
            "warehouse": self.warehouse_code,
            "sku": self.sku,
            "quantity": self.quantity,
        }
        if self.lot is not None:
            summary["lot"] = self.lot
        if self.serials:
            summary["serials"] = list(self.serials)
        return summary


@dataclass(slots=True)
class Hold:
    hold_no: int
    type: HoldType
    state: HoldState
    reason: str
    placed_at: datetime
    placed_by: str
    expires_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of the order: when, who, what, why (at most ``MAX_REASON`` characters:
    a longer one is cut, its details keep the rest), and the status before and after."""

    occurred_at: datetime
    actor: str
    action: str
    reason: str | None
    from_status: str | None
    to_status: str
    details: dict[str, Any] = field(default_factory=dict)


@quick_init
@dataclass(frozen=True, slots=True)
class Shortage:
    """A line the network could not cover, with what the network had for it."""

    line_no: int
    sku: str
    requested: int
    available: int

    def summary(self) -> dict[str, Any]:
        return {
            "line_no": self.line_no,
            "sku": self.sku,
            "requested": self.requested,
            "available": self.available,
        }


@quick_init
@dataclass(frozen=True, slots=True)
class SourcingNote:
    """A sourcing decision taken for the order, to keep with its full record."""

    decided_at: datetime
    actor: str
    outcome: str  # reserved or backordered
    trigger: str  # what made the order be sourced: intake, a correction, a deactivation, ...
    warehouses: tuple[str, ...]
    record: SourcingRecord


@dataclass(slots=True)
class Changes:
    """What changed since the order was loaded, for the repository to write."""

    history: list[HistoryEntry] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    new_reservations: list[Reservation] = field(default_factory=list)
    ended_reservations: list[Reservation] = field(default_factory=list)
    new_holds: list[Hold] = field(default_factory=list)
    ended_holds: list[Hold] = field(default_factory=list)
    expiry_changed: bool = False
    decisions: list[SourcingNote] = field(default_factory=list)
    claimed: list[Reservation] = field(default_factory=list)  # shipment_id set or cleared
    resized: list[Reservation] = field(default_factory=list)  # fewer units, or released
    lines_changed: bool = False  # the lines are written afresh

    def __bool__(self) -> bool:
        return bool(self.history or self.claimed or self.resized)


@dataclass(slots=True, eq=False)
class Order:
    """An order from one channel; every change goes through a method that records history."""

    id: OrderId | None
    channel_id: ChannelId
    channel_code: str
    external_id: str | None
    currency: str
    contact: Contact
    delivery: Delivery
    lines: list[OrderLine]
    state: OrderState
    allocation: AllocationState
    payment_status: PaymentStatus
    created_at: datetime
    updated_at: datetime
    customer_id: CustomerId | None = None
    priority: int = 0
    promised_at: datetime | None = None
    payment_due_at: datetime | None = None
    comment: str = ""
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    version: int = 1
    holds: list[Hold] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    announced_status: OrderStatus | None = None
    in_intake: bool = False
    fulfilment: FulfilmentProgress = FulfilmentProgress.NONE  # rolled up from its shipments
    ship_from: WarehouseId | None = None  # the only location that may fulfil it (FBS)
    ship_from_code: str | None = None  # that location's code, as people read it
    returned: ReturnProgress = ReturnProgress.NONE  # rolled up from its returns
    payment_method: PaymentMethod | None = None  # None: the channel did not say

    # ----------------------------------------------------------------- reading

    @property
    def status(self) -> OrderStatus:
        return derive_status(
            self.state,
            self.allocation,
            on_hold=bool(self.active_holds),
            progress=self.fulfilment,
            returned=self.returned,
        )

    @property
    def active_holds(self) -> list[Hold]:
        return [h for h in self.holds if h.state is HoldState.ACTIVE]

    @property
    def open_reservations(self) -> list[Reservation]:
        return [r for r in self.reservations if r.status is ReservationStatus.OPEN]

    @property
    def subtotal(self) -> Money:
        return Money(sum((line.total for line in self.lines), Decimal("0.00")), self.currency)

    @property
    def total(self) -> Money:
        return Money(self.subtotal.amount + self.delivery.price, self.currency)

    @property
    def lines_vat(self) -> Money:
        """The VAT inside the lines (the subtotal's VAT), each line at its own rate."""
        return Money(sum((line.vat_amount for line in self.lines), Decimal("0.00")), self.currency)

    @property
    def vat_total(self) -> Money:
        delivery_vat = vat_included(self.delivery.price, self.delivery.vat_rate)
        return Money(self.lines_vat.amount + delivery_vat, self.currency)

    def amounts(self) -> tuple[Decimal, Decimal, Decimal]:
        """The subtotal, the VAT and the total, the amounts of :attr:`subtotal`,
        :attr:`vat_total` and :attr:`total`, worked out in one pass over the lines (each
        of those properties goes over them again; writing and rendering an order needs
        all three)."""
        subtotal = lines_vat = Decimal("0.00")
        for line in self.lines:
            total = round_money(line.unit_price * line.quantity)
            subtotal += total
            lines_vat += vat_included(total, line.vat_rate)
        delivery = self.delivery
        vat = lines_vat + vat_included(delivery.price, delivery.vat_rate)
        return subtotal, vat, subtotal + delivery.price

    @property
    def waits_for_payment(self) -> bool:
        """Whether the order waits for money before it may ship; one paid on delivery
        does not (its carrier collects the money)."""
        if self.pays_on_delivery:
            return False
        return self.payment_status not in PAID_ENOUGH

    @property
    def pays_on_delivery(self) -> bool:
        """The carrier is to collect the money: paid on delivery and not paid otherwise since."""
        return self.payment_method in ON_DELIVERY and self.payment_status is PaymentStatus.PENDING

    @property
    def free_reservations(self) -> list[Reservation]:
        """Open reservations no started shipment has taken: what re-sourcing may move."""
        return [r for r in self.open_reservations if r.shipment_id is None]

    def reserved_quantity(self, line_no: int) -> int:
        return sum(r.quantity for r in self.open_reservations if r.line_no == line_no)

    def settled_quantity(self, line_no: int) -> int:
        """Units of a line in a started shipment: being picked, packed, or shipped."""
        return sum(
            r.quantity
            for r in self.reservations
            if r.line_no == line_no
            and r.shipment_id is not None
            and r.status in (ReservationStatus.OPEN, ReservationStatus.CONSUMED)
        )

    def unsettled_quantity(self, line_no: int) -> int:
        """Units of a line that sourcing still decides about."""
        return self.line(line_no).quantity - self.settled_quantity(line_no)

    @property
    def outstanding(self) -> bool:
        """Whether some units are in no started shipment yet."""
        return any(self.unsettled_quantity(line.line_no) > 0 for line in self.lines)

    def line(self, line_no: int) -> OrderLine:
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise KeyError(line_no)

    def _emit(self, event: DomainEvent) -> None:
        """Record an event; during intake the single ``order.created`` says it all."""
        if not self.in_intake:
            self.changes.events.append(event)

    def _id(self) -> int:
        if self.id is None:
            raise RuntimeError("the order must be stored before its changes are recorded")
        return self.id

    # ----------------------------------------------------------------- recording

    def _record(
        self,
        at: datetime,
        actor: str,
        action: str,
        reason: str | None = None,
        **details: Any,
    ) -> None:
        before = self.announced_status
        after = self.status
        if reason is not None and len(reason) > MAX_REASON:  # a 500-line order's explanation
            reason = reason[: MAX_REASON - 1] + "…"
        self.changes.history.append(
            HistoryEntry(
                occurred_at=at,
                actor=actor,
                action=action,
                reason=reason,
                from_status=before._value_ if before else None,  # `value` is slow on 3.11
                to_status=after._value_,
                details=details,
            )
        )
        self.updated_at = at
        if before is not None and before is not after:
            self._emit(
                ev.OrderStatusChanged(
                    occurred_at=at,
                    order_id=self._id(),
                    from_status=before.value,
                    to_status=after.value,
                    reason=reason,
                )
            )
        if before is not None:
            self.announced_status = after

    def start_intake(self, actor: str, **details: Any) -> None:
        """The order is stored: its history starts with ``created``; events wait for the end."""
        self.in_intake = True
        self.announced_status = OrderStatus.NEW
        self.changes.history.append(
            HistoryEntry(
                occurred_at=self.created_at,
                actor=actor,
                action="created",
                reason=None,
                from_status=None,
                to_status=OrderStatus.NEW.value,
                details=details,
            )
        )

    def finish_intake(self, at: datetime) -> None:
        """Announce the order once, with the status and reservations intake ended with."""
        self.in_intake = False
        self.changes.events.insert(
            0,
            ev.OrderCreated(
                occurred_at=at,
                order_id=self._id(),
                channel=self.channel_code,
                external_id=self.external_id,
                status=self.status._value_,
                allocation=self.allocation._value_,
                payment_status=self.payment_status._value_,
                payment_method=self.payment_method._value_ if self.payment_method else None,
                currency=self.currency,
                total=self.amounts()[2],
                lines=[
                    {
                        "line_no": line.line_no,
                        "sku": line.sku,
                        "quantity": line.quantity,
                        "unit_price": str(line.unit_price),
                    }
                    for line in self.lines
                ],
                reservations=[r.summary() for r in self.open_reservations],
            ),
        )

    # ----------------------------------------------------------------- commercial state

    def confirm(self, at: datetime, actor: str, *, automatically: bool, reason: str | None) -> None:
        if self.active_holds:
            raise OrderOnHold(
                order_id=self._id(), holds=", ".join(h.type.value for h in self.active_holds)
            )
        self.state = ORDER.check(self.state, OrderState.CONFIRMED)
        self.confirmed_at = at
        self._record(at, actor, "confirmed", reason, automatically=automatically)
        self._emit(
            ev.OrderConfirmed(occurred_at=at, order_id=self._id(), automatically=automatically)
        )

    def cancel(
        self, at: datetime, actor: str, reason: str, *, expired: bool = False
    ) -> list[Reservation]:
        """Cancel the order; returns the reservations released, for stock to take back."""
        self.state = ORDER.check(self.state, OrderState.CANCELLED)
        self.cancelled_at = at
        self.cancel_reason = reason
        released = self._end_reservations(
            at, ReservationStatus.EXPIRED if expired else ReservationStatus.RELEASED
        )
        if self.allocation is not AllocationState.UNALLOCATED:
            self.allocation = ALLOCATION.check(self.allocation, AllocationState.UNALLOCATED)
        self.payment_due_at = None
        holds = self.active_holds
        for hold in holds:  # ended quietly: the cancellation entry says it all
            hold.state = HOLD.check(hold.state, HoldState.RELEASED)
            hold.ended_at, hold.ended_by, hold.end_reason = at, actor, "order cancelled"
            if hold not in self.changes.new_holds:
                self.changes.ended_holds.append(hold)
        self._record(
            at,
            actor,
            "expired" if expired else "cancelled",
            reason,
            released=[r.summary() for r in released],
            holds_released=[h.hold_no for h in holds],
        )
        self._emit(
            ev.OrderCancelled(
                occurred_at=at,
                order_id=self._id(),
                reason=reason,
                released=[r.summary() for r in released],
            )
        )
        return released

    def _require_open(self, action: str) -> None:
        if self.state is OrderState.CANCELLED:
            raise OrderClosed(order_id=self._id(), order_status=self.status.value, action=action)

    # ----------------------------------------------------------------- allocation

    def reserve(
        self,
        reservations: Sequence[Reservation],
        at: datetime,
        actor: str,
        explanation: str,
        *,
        record: SourcingRecord | None = None,
        trigger: str = "",
    ) -> None:
        """Record stock the service has set aside for every line (and, when the engine
        decided, its full record)."""
        self._require_open("reserved")
        self.allocation = ALLOCATION.check(self.allocation, AllocationState.RESERVED)
        for reservation in reservations:
            reservation.expires_at = self.payment_due_at if self.waits_for_payment else None
        self.reservations.extend(reservations)
        self.changes.new_reservations.extend(reservations)
        summary = [r.summary() for r in reservations]
        self._record(at, actor, "reserved", explanation, reservations=summary)
        if record is not None:
            codes = tuple(dict.fromkeys(r.warehouse_code for r in reservations))
            self.changes.decisions.append(
                SourcingNote(at, actor, "reserved", trigger, codes, record)
            )
        self._emit(
            ev.OrderReserved(
                occurred_at=at, order_id=self._id(), reservations=summary, explanation=explanation
            )
        )

    def backorder(
        self,
        shortages: Sequence[Shortage],
        at: datetime,
        actor: str,
        *,
        record: SourcingRecord | None = None,
        trigger: str = "",
    ) -> None:
        """The network cannot cover the order now; it waits for stock."""
        self._require_open("backordered")
        summary = [s.summary() for s in shortages]
        reason = "not enough stock in the network for " + ", ".join(
            f"{s.sku} (needs {s.requested}, has {s.available})" for s in shortages
        )
        if self.allocation is AllocationState.BACKORDERED:
            return  # still short: nothing new to say
        self.allocation = ALLOCATION.check(self.allocation, AllocationState.BACKORDERED)
        if record is not None and record.summary:
            reason = record.summary
        self._record(at, actor, "backordered", reason, shortages=summary)
        if record is not None:
            self.changes.decisions.append(
                SourcingNote(at, actor, "backordered", trigger, (), record)
            )
        self._emit(ev.OrderBackordered(occurred_at=at, order_id=self._id(), shortages=summary))

    def replan(
        self,
        reservations: Sequence[Reservation],
        at: datetime,
        actor: str,
        explanation: str,
        *,
        record: SourcingRecord | None = None,
        trigger: str = "",
        saved_rub: Decimal | None = None,
    ) -> list[Reservation]:
        """Move a reserved order's stock to a new plan in one step: the open reservations
        end, the new ones (already set aside by the service) take their place, and the
        status stays ``reserved``. Returns the reservations released, for stock to take
        back. ``saved_rub``: what the move saved (negative: what it added), kept in the
        history entry."""
        self._require_open("replanned")
        if self.allocation is not AllocationState.RESERVED:
            raise OrderNotReserved(order_id=self._id(), order_status=self.status.value)
        released = self._end_reservations(at, ReservationStatus.RELEASED)
        for reservation in reservations:
            reservation.expires_at = self.payment_due_at if self.waits_for_payment else None
        self.reservations.extend(reservations)
        self.changes.new_reservations.extend(reservations)
        before = [r.summary() for r in released]
        after = [r.summary() for r in reservations]
        extra = {} if saved_rub is None else {"saved_rub": str(saved_rub)}
        self._record(
            at, actor, "replanned", explanation, released=before, reservations=after, **extra
        )
        if record is not None:
            codes = tuple(dict.fromkeys(r.warehouse_code for r in reservations))
            self.changes.decisions.append(
                SourcingNote(at, actor, "reserved", trigger, codes, record)
            )
        self._emit(
            ev.OrderReplanned(
                occurred_at=at,
                order_id=self._id(),
                released=before,
                reservations=after,
                explanation=explanation,
            )
        )
        return released

    def release_allocation(self, at: datetime, actor: str, reason: str) -> list[Reservation]:
        """Give back every open reservation (stock shrank, or the order is re-sourced)."""
        released = self._end_reservations(at, ReservationStatus.RELEASED)
        if self.allocation is not AllocationState.UNALLOCATED:
            self.allocation = ALLOCATION.check(self.allocation, AllocationState.UNALLOCATED)
        self._record(
            at, actor, "reservation_released", reason, released=[r.summary() for r in released]
        )
        self._emit(
            ev.OrderAllocationReleased(
                occurred_at=at,
                order_id=self._id(),
                reason=reason,
                released=[r.summary() for r in released],
            )
        )
        return released

    def consume_for_transfer(
        self, stock_id: StockId, quantity: int, *, made_by: datetime, at: datetime
    ) -> list[Reservation]:
        """Units reserved for the order at a position left it on a transfer to the warehouse
        that ships the order: up to ``quantity`` of them are consumed, a reservation taken in
        part keeps the rest open. Only reservations made by ``made_by`` (when the transfer
        was arranged) count: newer ones belong to a later decision. Returns those consumed;
        the caller notes it in the history."""
        left = quantity
        consumed: list[Reservation] = []
        for reservation in self.free_reservations:
            if left == 0:
                break
            if reservation.stock_id != stock_id or reservation.created_at > made_by:
                continue
            take = min(left, reservation.quantity)
            if take < reservation.quantity:
                rest = replace(reservation, quantity=reservation.quantity - take, id=None)
                self.reservations.append(rest)
                self.changes.new_reservations.append(rest)
                reservation.quantity = take
            reservation.status = ReservationStatus.CONSUMED
            reservation.ended_at = at
            if reservation not in self.changes.new_reservations:
                self.changes.ended_reservations.append(reservation)
            consumed.append(reservation)
            left -= take
        return consumed

    def reserve_arrived(
        self, reservations: Sequence[Reservation], at: datetime, actor: str, reason: str
    ) -> None:
        """Units that came by transfer to the warehouse that ships the order are set aside
        for it; the order stays reserved."""
        self._require_open("reserved")
        if self.allocation is not AllocationState.RESERVED:
            raise RuntimeError("only a reserved order takes units that came for it")
        for reservation in reservations:
            reservation.expires_at = self.payment_due_at if self.waits_for_payment else None
        self.reservations.extend(reservations)
        self.changes.new_reservations.extend(reservations)
        self._record(
            at,
            actor,
            "transfer_received",
            reason,
            reservations=[r.summary() for r in reservations],
        )

    def note_transfer(
        self, at: datetime, actor: str, action: str, reason: str, **details: Any
    ) -> None:
        """Say in the history what became of a transfer that brings units for the order
        (``transfer_requested``, ``transfer_shipped``, ``transfer_cancelled``, ...)."""
        self._record(at, actor, action, reason, **details)

    def note_buyer(self, at: datetime, actor: str, buyer: str | None, previous: str | None) -> None:
        """Say in the history which company a B2B order is sold to (documents name it as the
        buyer), or that it is sold to its customer again (``buyer`` None)."""
        self._require_open("given a buyer")
        action = "buyer_set" if buyer is not None else "buyer_removed"
        self._record(at, actor, action, None, buyer=buyer, previous=previous)

    def _end_reservations(self, at: datetime, outcome: ReservationStatus) -> list[Reservation]:
        """End the reservations no started shipment holds (those stay with their shipment
        until it leaves or is cancelled)."""
        ended = self.free_reservations
        for reservation in ended:
            reservation.status = outcome
            reservation.ended_at = at
            if reservation in self.changes.new_reservations:
                continue  # written with its final state
            self.changes.ended_reservations.append(reservation)
        return ended

    # ----------------------------------------------------------------- fulfilment

    def claim(self, reservations: Sequence[Reservation], shipment_id: int) -> None:
        """A shipment starts picking these reservations: re-sourcing leaves them alone."""
        for reservation in reservations:
            if reservation.status is not ReservationStatus.OPEN:
                raise RuntimeError("only an open reservation can be picked")
            reservation.shipment_id = shipment_id
            self._changed(reservation, self.changes.claimed)

    def unclaim(self, shipment_id: int) -> list[Reservation]:
        """The shipment was cancelled before it left: its reservations are the order's
        again, free to be released or moved."""
        freed = [r for r in self.open_reservations if r.shipment_id == shipment_id]
        for reservation in freed:
            reservation.shipment_id = None
            self._changed(reservation, self.changes.claimed)
        return freed

    def consume_for_shipment(self, shipment_id: int, at: datetime) -> list[Reservation]:
        """The shipment was handed over: its reservations are consumed (the units left)."""
        consumed = [r for r in self.open_reservations if r.shipment_id == shipment_id]
        for reservation in consumed:
            reservation.status = ReservationStatus.CONSUMED
            reservation.ended_at = at
            self._changed(reservation, self.changes.resized)
        return consumed

    def shorten(
        self, shipment_id: int, line_no: int, stock_id: StockId, missing: int, at: datetime
    ) -> Reservation:
        """Units a picker did not find leave the shipment's reservation; returns them as a
        released reservation, for stock to take back."""
        for reservation in self.open_reservations:
            if (
                reservation.shipment_id == shipment_id
                and reservation.line_no == line_no
                and reservation.stock_id == stock_id
                and reservation.quantity >= missing
            ):
                break
        else:
            raise RuntimeError(f"no reservation of line {line_no} holds {missing} here")
        released = replace(
            reservation,
            quantity=missing,
            status=ReservationStatus.RELEASED,
            ended_at=at,
            id=None,
            shipment_id=None,
        )
        reservation.quantity -= missing
        if reservation.quantity == 0:
            reservation.quantity = missing  # the row ends released with what it held
            reservation.status = ReservationStatus.RELEASED
            reservation.ended_at = at
        self._changed(reservation, self.changes.resized)
        return released

    def _changed(self, reservation: Reservation, bucket: list[Reservation]) -> None:
        if reservation in self.changes.new_reservations:
            return  # written with its final state
        if reservation.id is None:
            raise RuntimeError("a reservation must be stored before it is changed by id")
        if reservation not in bucket:
            bucket.append(reservation)

    def track_fulfilment(
        self,
        progress: FulfilmentProgress,
        at: datetime,
        actor: str,
        action: str,
        reason: str | None = None,
        **details: Any,
    ) -> None:
        """A shipment of the order moved: its progress is rolled up again and the step
        recorded in the history (the status changes with it when it must)."""
        self.fulfilment = progress
        self._record(at, actor, action, reason, **details)

    def track_returns(
        self,
        returned: ReturnProgress,
        at: datetime,
        actor: str,
        action: str,
        reason: str | None = None,
        **details: Any,
    ) -> None:
        """A return of the order moved: how much came back is rolled up again and the step
        recorded in the history (the status changes with it when it must)."""
        self.returned = returned
        self._record(at, actor, action, reason, **details)

    # ----------------------------------------------------------------- edits

    def uncovered_quantity(self, line_no: int) -> int:
        """Units of a line neither in a shipment nor reserved: what waits for stock."""
        return self.unsettled_quantity(line_no) - sum(
            r.quantity for r in self.free_reservations if r.line_no == line_no
        )

    def replace_lines(self, lines: Sequence[OrderLine]) -> None:
        """The order's new lines (an edit; the caller records it with :meth:`note_edit`)."""
        self._require_open("edited")
        self.lines = list(lines)
        self.changes.lines_changed = True

    def change_delivery(self, delivery: Delivery) -> None:
        self._require_open("edited")
        self.delivery = delivery

    def release_units(self, line_no: int, quantity: int, at: datetime) -> list[Reservation]:
        """Give back ``quantity`` of a line's free reserved units, newest first; a
        reservation taken in part keeps the rest. Returns what was released (for stock);
        serialised units go from the last of their serials."""
        left = quantity
        released: list[Reservation] = []
        for reservation in reversed(self.free_reservations):
            if left == 0:
                break
            if reservation.line_no != line_no:
                continue
            take = min(left, reservation.quantity)
            if take == reservation.quantity:
                reservation.status = ReservationStatus.RELEASED
                reservation.ended_at = at
                if reservation not in self.changes.new_reservations:
                    self.changes.ended_reservations.append(reservation)
                released.append(reservation)
            else:
                gone = reservation.serials[-take:] if reservation.serials else ()
                piece = replace(
                    reservation,
                    quantity=take,
                    status=ReservationStatus.RELEASED,
                    ended_at=at,
                    id=None,
                    serials=gone,
                )
                reservation.quantity -= take
                reservation.serials = reservation.serials[:-take] if reservation.serials else ()
                self._changed(reservation, self.changes.resized)
                released.append(piece)
            left -= take
        return released

    def release_reservations(
        self, reservations: Sequence[Reservation], at: datetime
    ) -> list[Reservation]:
        """End these open reservations (a cancelled shipment's units leave the order)."""
        for reservation in reservations:
            reservation.status = ReservationStatus.RELEASED
            reservation.ended_at = at
            reservation.shipment_id = None
            if reservation not in self.changes.new_reservations:
                self.changes.ended_reservations.append(reservation)
        return list(reservations)

    def add_reservations(self, reservations: Sequence[Reservation]) -> None:
        """Stock set aside for units an edit added (the caller records the edit)."""
        self._require_open("reserved")
        for reservation in reservations:
            reservation.expires_at = self.payment_due_at if self.waits_for_payment else None
        self.reservations.extend(reservations)
        self.changes.new_reservations.extend(reservations)

    def settle_allocation(self) -> None:
        """After an edit: every unit covered makes a backordered order reserved; none
        covered makes a reserved one wait for stock."""
        covered = not any(self.uncovered_quantity(line.line_no) > 0 for line in self.lines)
        if covered and self.allocation is not AllocationState.RESERVED:
            if self.allocation is AllocationState.UNALLOCATED and not self.free_reservations:
                return  # nothing was ever reserved: intake's or sourcing's business
            self.allocation = ALLOCATION.check(self.allocation, AllocationState.RESERVED)

    def note_edit(self, at: datetime, actor: str, reason: str | None, **details: Any) -> None:
        """Record an edit (lines, delivery, cancelled units) in the history and the outbox."""
        self._record(at, actor, "edited", reason, **details)
        self._emit(ev.OrderEdited(occurred_at=at, order_id=self._id(), reason=reason, **details))

    # ----------------------------------------------------------------- notes

    def set_priority(
        self, priority: int, at: datetime, actor: str, reason: str | None, **details: Any
    ) -> None:
        """A new priority (higher goes first in sourcing and picking)."""
        before = self.priority
        self.priority = priority
        self._record(
            at, actor, "priority_changed", reason, before=before, after=priority, **details
        )
        self._emit(
            ev.OrderPriorityChanged(
                occurred_at=at, order_id=self._id(), from_priority=before, to_priority=priority
            )
        )

    def add_note(self, text: str, at: datetime, actor: str, **details: Any) -> None:
        """A note for the people who handle the order, kept in its history."""
        self._record(at, actor, "note_added", text, **details)
        self._emit(ev.OrderNoteAdded(occurred_at=at, order_id=self._id(), text=text))

    def note_remittance(self, at: datetime, actor: str, reason: str, **details: Any) -> None:
        """A carrier's cash-on-delivery registry remitted money for one of the order's
        parcels (how much was asked, collected, withheld and transferred, under which
        registry)."""
        self._record(at, actor, "cod_remitted", reason, **details)

    def note_fiscal(
        self, at: datetime, actor: str, action: str, reason: str, **details: Any
    ) -> None:
        """An operator acted on one of the order's fiscal receipts (corrected, sent again)."""
        self._record(at, actor, action, reason, **details)

    def note_rule(self, at: datetime, actor: str, reason: str, **details: Any) -> None:
        """An automation rule acted on the order (what it did is in the entries around it)."""
        self._record(at, actor, "rule_fired", reason, **details)

    def note_tags(
        self, added: Sequence[str], removed: Sequence[str], at: datetime, actor: str, **details: Any
    ) -> None:
        """Tags put on or taken off the order (they are kept beside it)."""
        self._record(at, actor, "tagged", None, added=list(added), removed=list(removed), **details)
        self._emit(
            ev.OrderTagged(
                occurred_at=at, order_id=self._id(), added=list(added), removed=list(removed)
            )
        )

    # ----------------------------------------------------------------- holds

    def place_hold(
        self,
        hold_type: HoldType,
        reason: str,
        at: datetime,
        actor: str,
        *,
        expires_at: datetime | None = None,
    ) -> Hold:
        self._require_open("put on hold")
        for hold in self.active_holds:
            if hold.type is hold_type:
                raise HoldAlreadyActive(
                    order_id=self._id(), hold_type=hold_type.value, hold_no=hold.hold_no
                )
        hold = Hold(
            hold_no=max((h.hold_no for h in self.holds), default=0) + 1,
            type=hold_type,
            state=HoldState.ACTIVE,
            reason=reason,
            placed_at=at,
            placed_by=actor,
            expires_at=expires_at,
        )
        self.holds.append(hold)
        self.changes.new_holds.append(hold)
        self._record(
            at, actor, "hold_placed", reason, hold_no=hold.hold_no, hold_type=hold_type.value
        )
        self._emit(
            ev.OrderHoldPlaced(
                occurred_at=at,
                order_id=self._id(),
                hold_no=hold.hold_no,
                hold_type=hold_type.value,
                reason=reason,
            )
        )
        return hold

    def release_hold(self, hold_no: int, at: datetime, actor: str, reason: str | None) -> Hold:
        return self._end_hold(self.hold(hold_no), HoldState.RELEASED, at, actor, reason)

    def expire_hold(self, hold_no: int, at: datetime, actor: str) -> Hold:
        return self._end_hold(self.hold(hold_no), HoldState.EXPIRED, at, actor, "hold expired")

    def hold(self, hold_no: int) -> Hold:
        for hold in self.holds:
            if hold.hold_no == hold_no:
                return hold
        raise HoldNotFound(order_id=self._id(), hold_no=hold_no)

    def _end_hold(
        self, hold: Hold, outcome: HoldState, at: datetime, actor: str, reason: str | None
    ) -> Hold:
        hold.state = HOLD.check(hold.state, outcome)
        hold.ended_at = at
        hold.ended_by = actor
        hold.end_reason = reason
        if hold not in self.changes.new_holds:
            self.changes.ended_holds.append(hold)
        self._record(
            at,
            actor,
            "hold_released" if outcome is HoldState.RELEASED else "hold_expired",
            reason,
            hold_no=hold.hold_no,
            hold_type=hold.type.value,
        )
        self._emit(
            ev.OrderHoldEnded(
                occurred_at=at,
                order_id=self._id(),
                hold_no=hold.hold_no,
                hold_type=hold.type.value,
                outcome=outcome.value,
                reason=reason,
            )
        )
        return hold

    # ----------------------------------------------------------------- payment

    def record_payment(
        self,
        status: PaymentStatus,
        at: datetime,
        actor: str,
        reason: str | None,
        **details: Any,
    ) -> None:
        """A new payment state (``details``, e.g. the carrier's registry that remitted the
        money, go into the history step with it)."""
        before = self.payment_status
        self.payment_status = PAYMENT.check(before, status)
        if not self.waits_for_payment and self.payment_due_at is not None:
            self.payment_due_at = None
            self.changes.expiry_changed = True
            for reservation in self.open_reservations:
                reservation.expires_at = None
        self._record(
            at,
            actor,
            "payment_changed",
            reason,
            from_payment=before.value,
            to_payment=status.value,
            **details,
        )
        self._emit(
            ev.OrderPaymentChanged(
                occurred_at=at,
                order_id=self._id(),
                from_status=before.value,
                to_status=status.value,
            )
        )

    # ----------------------------------------------------------------- persistence

    def take_changes(self) -> Changes:
        """Hand what changed to the repository and start afresh."""
        changes, self.changes = self.changes, Changes()
        return changes
