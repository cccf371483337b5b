"""The order aggregate: confirmation, cancellation, holds, payment, allocation, intake, totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from potok.domain.kernel import ChannelId, OrderId, ProductId, StockId, WarehouseId
from potok.domain.machine import IllegalTransition
from potok.domain.orders import (
    Address,
    AllocationState,
    Contact,
    Delivery,
    DeliveryMethod,
    Hold,
    HoldState,
    HoldType,
    Order,
    OrderLine,
    OrderState,
    OrderStatus,
    PaymentStatus,
    Reservation,
    ReservationStatus,
    Shortage,
)
from potok.domain.orders import events as ev
from potok.domain.orders.errors import (
    HoldAlreadyActive,
    HoldNotFound,
    OrderClosed,
    OrderNotReserved,
    OrderOnHold,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(minutes=10)
DUE = T0 + timedelta(minutes=30)
ACTOR = "user:olga"
SYSTEM = "system:worker"


def line(
    line_no: int = 1,
    *,
    product_id: int = 10,
    sku: str = "TEA-1",
    quantity: int = 2,
    unit_price: str = "100.00",
    vat_rate: str = "22",
) -> OrderLine:
    return OrderLine(
        line_no=line_no,
        product_id=ProductId(product_id),
        sku=sku,
        name=f"Product {sku}",
        quantity=quantity,
        unit_price=Decimal(unit_price),
        vat_rate=Decimal(vat_rate),
    )


def reservation(
    line_no: int = 1,
    *,
    quantity: int = 2,
    warehouse: str = "MSK",
    warehouse_id: int = 1,
    stock_id: int = 101,
    status: ReservationStatus = ReservationStatus.OPEN,
    expires_at: datetime | None = None,
    id: int | None = None,
) -> Reservation:
    return Reservation(
        line_no=line_no,
        stock_id=StockId(stock_id),
        warehouse_id=WarehouseId(warehouse_id),
        warehouse_code=warehouse,
        product_id=ProductId(10),
        sku="TEA-1",
        quantity=quantity,
        status=status,
        created_at=T0,
        expires_at=expires_at,
        id=id,
    )


def hold(
    hold_no: int, hold_type: HoldType = HoldType.MANUAL, state: HoldState = HoldState.ACTIVE
) -> Hold:
    return Hold(
        hold_no=hold_no,
        type=hold_type,
        state=state,
        reason="check",
        placed_at=T0,
        placed_by=ACTOR,
    )


def make_order(
    *,
    state: OrderState = OrderState.NEW,
    allocation: AllocationState = AllocationState.UNALLOCATED,
    payment: PaymentStatus = PaymentStatus.PENDING,
    lines: list[OrderLine] | None = None,
    delivery: Delivery | None = None,
    holds: list[Hold] | None = None,
    reservations: list[Reservation] | None = None,
    payment_due_at: datetime | None = None,
    loaded: bool = True,
) -> Order:
    """An order as the repository hands it over (``loaded``) or as intake builds it."""
    order = Order(
        id=OrderId(1),
        channel_id=ChannelId(1),
        channel_code="web",
        external_id="W-1",
        currency="RUB",
        contact=Contact("Иван Петров", "+79123456789", "ivan@example.com"),
        delivery=delivery
        or Delivery(DeliveryMethod.COURIER, Address("Москва", "Тверская, 1"), price=Decimal(0)),
        lines=lines if lines is not None else [line()],
        state=state,
        allocation=allocation,
        payment_status=payment,
        created_at=T0,
        updated_at=T0,
        payment_due_at=payment_due_at,
        holds=holds or [],
        reservations=reservations or [],
    )
    if loaded:
        order.announced_status = order.status
    return order


def event_types(order: Order) -> list[str]:
    return [e.event_type() for e in order.changes.events]


def events_of(order: Order, kind: type[ev.OrderEvent]) -> list[ev.OrderEvent]:
    return [e for e in order.changes.events if isinstance(e, kind)]


# ----------------------------------------------------------------- confirm


def test_confirming_a_new_order_records_history_and_announces_it() -> None:
    order = make_order()
    order.confirm(T1, ACTOR, automatically=False, reason="checked by phone")

    assert order.state is OrderState.CONFIRMED
    assert order.status is OrderStatus.CONFIRMED
    assert order.confirmed_at == T1
    assert order.updated_at == T1
    [entry] = order.changes.history
    assert (entry.action, entry.actor, entry.reason) == ("confirmed", ACTOR, "checked by phone")
    assert (entry.from_status, entry.to_status) == ("new", "confirmed")
    assert entry.details == {"automatically": False}
    assert event_types(order) == ["order.status_changed", "order.confirmed"]
    [changed] = events_of(order, ev.OrderStatusChanged)
    assert changed == ev.OrderStatusChanged(
        occurred_at=T1,
        order_id=1,
        from_status="new",
        to_status="confirmed",
        reason="checked by phone",
    )
    [confirmed] = events_of(order, ev.OrderConfirmed)
    assert confirmed.automatically is False


def test_a_hold_blocks_confirmation() -> None:
    order = make_order(holds=[hold(1, HoldType.FRAUD), hold(2, HoldType.ADDRESS)])
    with pytest.raises(OrderOnHold) as raised:
        order.confirm(T1, ACTOR, automatically=True, reason=None)
    assert raised.value.code == "order-on-hold"
    assert raised.value.context == {"order_id": 1, "holds": "fraud, address"}
    assert order.state is OrderState.NEW
    assert not order.changes
    assert order.changes.events == []


def test_a_released_hold_no_longer_blocks_confirmation() -> None:
    order = make_order(holds=[hold(1, state=HoldState.RELEASED)])
    order.confirm(T1, ACTOR, automatically=True, reason=None)
    assert order.state is OrderState.CONFIRMED


@pytest.mark.parametrize("state", [OrderState.CONFIRMED, OrderState.CANCELLED])
def test_only_a_new_order_can_be_confirmed(state: OrderState) -> None:
    order = make_order(state=state)
    with pytest.raises(IllegalTransition) as raised:
        order.confirm(T1, ACTOR, automatically=False, reason=None)
    assert raised.value.context == {
        "machine": "order",
        "current": state.value,
        "target": "confirmed",
    }
    assert not order.changes


def test_confirming_a_reserved_new_order_shows_reserved() -> None:
    order = make_order(allocation=AllocationState.RESERVED, reservations=[reservation()])
    assert order.status is OrderStatus.NEW
    order.confirm(T1, ACTOR, automatically=True, reason="auto")
    [entry] = order.changes.history
    assert (entry.from_status, entry.to_status) == ("new", "reserved")


def test_an_unsaved_order_cannot_record_events() -> None:
    order = make_order()
    order.id = None
    with pytest.raises(RuntimeError):
        order.confirm(T1, ACTOR, automatically=False, reason=None)


# ----------------------------------------------------------------- cancel


def test_cancelling_releases_open_reservations_and_returns_them() -> None:
    open_1 = reservation(1, quantity=2, warehouse="MSK", id=7)
    open_2 = reservation(2, quantity=1, warehouse="SPB", warehouse_id=2, stock_id=201, id=8)
    consumed = reservation(1, quantity=5, status=ReservationStatus.CONSUMED, id=6)
    order = make_order(
        state=OrderState.CONFIRMED,
        allocation=AllocationState.RESERVED,
        lines=[line(1), line(2, product_id=11, sku="CUP-1", quantity=1)],
        reservations=[consumed, open_1, open_2],
        payment_due_at=DUE,
    )

    released = order.cancel(T1, ACTOR, "customer changed their mind")

    assert released == [open_1, open_2]
    assert all(r.status is ReservationStatus.RELEASED and r.ended_at == T1 for r in released)
    assert consumed.status is ReservationStatus.CONSUMED
    assert order.open_reservations == []
    assert order.changes.ended_reservations == [open_1, open_2]
    assert order.state is OrderState.CANCELLED
    assert order.allocation is AllocationState.UNALLOCATED
    assert order.status is OrderStatus.CANCELLED
    assert order.cancelled_at == T1
    assert order.cancel_reason == "customer changed their mind"
    assert order.payment_due_at is None


def test_cancelling_records_one_history_entry_and_two_events() -> None:
    order = make_order(
        state=OrderState.CONFIRMED,
        allocation=AllocationState.RESERVED,
        reservations=[reservation(id=3)],
    )
    order.cancel(T1, ACTOR, "out of business")

    [entry] = order.changes.history
    assert entry.action == "cancelled"
    assert entry.reason == "out of business"
    assert (entry.from_status, entry.to_status) == ("reserved", "cancelled")
    assert entry.details == {
        "released": [{"line_no": 1, "warehouse": "MSK", "sku": "TEA-1", "quantity": 2}],
        "holds_released": [],
    }
    assert Counter(event_types(order)) == Counter(["order.cancelled", "order.status_changed"])
    [cancelled] = events_of(order, ev.OrderCancelled)
    assert cancelled.reason == "out of business"
    assert cancelled.released == entry.details["released"]
    [changed] = events_of(order, ev.OrderStatusChanged)
    assert (changed.from_status, changed.to_status) == ("reserved", "cancelled")


def test_cancelling_ends_active_holds_quietly() -> None:
    active_fraud = hold(1, HoldType.FRAUD)
    active_manual = hold(3, HoldType.MANUAL)
    old = hold(2, HoldType.PAYMENT, HoldState.EXPIRED)
    order = make_order(holds=[active_fraud, old, active_manual])
    assert order.status is OrderStatus.ON_HOLD

    order.cancel(T1, ACTOR, "fraud confirmed")

    assert active_fraud.state is HoldState.RELEASED
    assert active_manual.state is HoldState.RELEASED
    assert (active_fraud.ended_at, active_fraud.ended_by) == (T1, ACTOR)
    assert active_fraud.end_reason == "order cancelled"
    assert old.state is HoldState.EXPIRED
    assert old.ended_at is None
    assert order.active_holds == []
    assert order.changes.ended_holds == [active_fraud, active_manual]
    [entry] = order.changes.history
    assert entry.details["holds_released"] == [1, 3]
    assert (entry.from_status, entry.to_status) == ("on_hold", "cancelled")
    assert "order.hold_ended" not in event_types(order)
    assert Counter(event_types(order)) == Counter(["order.cancelled", "order.status_changed"])


def test_cancelling_for_an_unpaid_deadline_expires_the_reservations() -> None:
    open_one = reservation(id=4, expires_at=DUE)
    order = make_order(
        state=OrderState.CONFIRMED,
        allocation=AllocationState.RESERVED,
        reservations=[open_one],
        payment_due_at=DUE,
    )
    released = order.cancel(DUE, SYSTEM, "not paid in time", expired=True)

    assert released == [open_one]
    assert open_one.status is ReservationStatus.EXPIRED
    [entry] = order.changes.history
    assert entry.action == "expired"


def test_a_backordered_order_can_be_cancelled_and_loses_its_allocation() -> None:
    order = make_order(state=OrderState.CONFIRMED, allocation=AllocationState.BACKORDERED)
    released = order.cancel(T1, ACTOR, "too slow")
    assert released == []
    assert order.allocation is AllocationState.UNALLOCATED


def test_a_cancelled_order_cannot_be_cancelled_again() -> None:
    order = make_order(state=OrderState.CANCELLED)
    with pytest.raises(IllegalTransition) as raised:
        order.cancel(T1, ACTOR, "again")
    assert raised.value.context == {
        "machine": "order",
        "current": "cancelled",
        "target": "cancelled",
    }
    assert not order.changes


def test_reservations_made_in_the_same_session_are_not_listed_as_ended_twice() -> None:
    order = make_order(state=OrderState.CONFIRMED)
    fresh = reservation()
    order.reserve([fresh], T1, SYSTEM, "MSK has everything")
    order.cancel(T2, ACTOR, "never mind")
    assert order.changes.new_reservations == [fresh]
    assert fresh.status is ReservationStatus.RELEASED
    assert order.changes.ended_reservations == []


# ----------------------------------------------------------------- holds


def test_placing_a_hold_puts_the_order_on_hold() -> None:
    order = make_order(state=OrderState.CONFIRMED)
    placed = order.place_hold(HoldType.FRAUD, "too many orders today", T1, ACTOR, expires_at=DUE)

    assert placed.hold_no == 1
    assert placed.state is HoldState.ACTIVE
    assert (placed.type, placed.reason, placed.placed_at, placed.placed_by) == (
        HoldType.FRAUD,
        "too many orders today",
        T1,
        ACTOR,
    )
    assert placed.expires_at == DUE
    assert order.status is OrderStatus.ON_HOLD
    assert order.changes.new_holds == [placed]
    [entry] = order.changes.history
    assert entry.action == "hold_placed"
    assert (entry.from_status, entry.to_status) == ("confirmed", "on_hold")
    assert entry.details == {"hold_no": 1, "hold_type": "fraud"}
    assert event_types(order) == ["order.status_changed", "order.hold_placed"]
    [placed_event] = events_of(order, ev.OrderHoldPlaced)
    assert (placed_event.hold_no, placed_event.hold_type) == (1, "fraud")


def test_the_same_kind_of_hold_cannot_be_placed_twice() -> None:
    order = make_order()
    order.place_hold(HoldType.ADDRESS, "no flat number", T1, ACTOR)
    with pytest.raises(HoldAlreadyActive) as raised:
        order.place_hold(HoldType.ADDRESS, "still no flat number", T2, ACTOR)
    assert raised.value.code == "hold-already-active"
    assert raised.value.context == {"order_id": 1, "hold_type": "address", "hold_no": 1}
    assert len(order.holds) == 1


def test_different_kinds_of_hold_can_be_active_together() -> None:
    order = make_order()
    order.place_hold(HoldType.ADDRESS, "no flat number", T1, ACTOR)
    second = order.place_hold(HoldType.PAYMENT, "card declined", T2, ACTOR)
    assert second.hold_no == 2
    assert [h.type for h in order.active_holds] == [HoldType.ADDRESS, HoldType.PAYMENT]
    # the status stays on_hold, so the second hold announces no change of status
    assert event_types(order).count("order.status_changed") == 1


def test_holds_are_numbered_after_the_highest_number_ever_used() -> None:
    order = make_order(
        holds=[hold(1, state=HoldState.RELEASED), hold(4, HoldType.FRAUD, HoldState.EXPIRED)]
    )
    placed = order.place_hold(HoldType.FRAUD, "again", T1, ACTOR)
    assert placed.hold_no == 5


def test_a_released_kind_of_hold_can_be_placed_again_under_a_new_number() -> None:
    order = make_order()
    first = order.place_hold(HoldType.MANUAL, "call the customer", T1, ACTOR)
    order.release_hold(first.hold_no, T1, ACTOR, "called")
    again = order.place_hold(HoldType.MANUAL, "call once more", T2, ACTOR)
    assert again.hold_no == 2
    assert [h.hold_no for h in order.active_holds] == [2]


def test_a_cancelled_order_cannot_be_put_on_hold() -> None:
    order = make_order(state=OrderState.CANCELLED)
    with pytest.raises(OrderClosed) as raised:
        order.place_hold(HoldType.MANUAL, "why", T1, ACTOR)
    assert raised.value.code == "order-closed"
    assert raised.value.context == {
        "order_id": 1,
        "order_status": "cancelled",
        "action": "put on hold",
    }


def test_releasing_the_last_hold_returns_the_order_to_its_status() -> None:
    loaded = hold(2, HoldType.FRAUD)
    order = make_order(
        state=OrderState.CONFIRMED,
        allocation=AllocationState.RESERVED,
        reservations=[reservation(id=1)],
        holds=[loaded],
    )
    assert order.status is OrderStatus.ON_HOLD

    released = order.release_hold(2, T1, ACTOR, "customer verified")

    assert released is loaded
    assert loaded.state is HoldState.RELEASED
    assert (loaded.ended_at, loaded.ended_by, loaded.end_reason) == (
        T1,
        ACTOR,
        "customer verified",
    )
    assert order.status is OrderStatus.RESERVED
    assert order.changes.ended_holds == [loaded]
    [entry] = order.changes.history
    assert entry.action == "hold_released"
    assert (entry.from_status, entry.to_status) == ("on_hold", "reserved")
    assert event_types(order) == ["order.status_changed", "order.hold_ended"]
    [ended] = events_of(order, ev.OrderHoldEnded)
    assert (ended.hold_no, ended.hold_type, ended.outcome, ended.reason) == (
        2,
        "fraud",
        "released",
        "customer verified",
    )


def test_releasing_one_of_two_holds_keeps_the_order_on_hold() -> None:
    order = make_order(holds=[hold(1, HoldType.FRAUD), hold(2, HoldType.ADDRESS)])
    order.release_hold(1, T1, ACTOR, None)
    assert order.status is OrderStatus.ON_HOLD
    assert event_types(order) == ["order.hold_ended"]
    [entry] = order.changes.history
    assert (entry.from_status, entry.to_status) == ("on_hold", "on_hold")


def test_an_expired_hold_says_so() -> None:
    order = make_order(holds=[hold(1, HoldType.PAYMENT)])
    expired = order.expire_hold(1, DUE, SYSTEM)
    assert expired.state is HoldState.EXPIRED
    assert expired.ended_by == SYSTEM
    [entry] = order.changes.history
    assert entry.action == "hold_expired"
    assert (entry.from_status, entry.to_status) == ("on_hold", "new")
    [ended] = events_of(order, ev.OrderHoldEnded)
    assert ended.outcome == "expired"


def test_a_hold_placed_in_this_session_is_written_once_when_released() -> None:
    order = make_order()
    placed = order.place_hold(HoldType.MANUAL, "wait", T1, ACTOR)
    order.release_hold(placed.hold_no, T2, ACTOR, "done")
    assert order.changes.new_holds == [placed]
    assert order.changes.ended_holds == []


@pytest.mark.parametrize(
    "end",
    [
        lambda order: order.release_hold(1, T1, ACTOR, None),
        lambda order: order.expire_hold(1, T1, SYSTEM),
    ],
    ids=["release", "expire"],
)
def test_an_ended_hold_cannot_end_again(end: Callable[[Order], object]) -> None:
    order = make_order(holds=[hold(1, state=HoldState.RELEASED)])
    with pytest.raises(IllegalTransition) as raised:
        end(order)
    assert raised.value.context["machine"] == "hold"
    assert raised.value.context["current"] == "released"
    assert not order.changes


def test_an_unknown_hold_number_is_not_found() -> None:
    order = make_order(holds=[hold(1)])
    with pytest.raises(HoldNotFound) as raised:
        order.release_hold(9, T1, ACTOR, None)
    assert raised.value.code == "hold-not-found"
    assert raised.value.context == {"order_id": 1, "hold_no": 9}


# ----------------------------------------------------------------- payment


def test_paying_clears_the_deadline_and_the_expiry_of_open_reservations() -> None:
    open_one = reservation(1, id=1, expires_at=DUE)
    ended = reservation(1, id=2, expires_at=DUE, status=ReservationStatus.RELEASED)
    order = make_order(
        state=OrderState.CONFIRMED,
        allocation=AllocationState.RESERVED,
        reservations=[ended, open_one],
        payment_due_at=DUE,
    )

    order.record_payment(PaymentStatus.PAID, T1, "api_key:psp", "captured")

    assert order.payment_status is PaymentStatus.PAID
    assert order.payment_due_at is None
    assert open_one.expires_at is None
    assert ended.expires_at == DUE
    assert order.changes.expiry_changed is True
    [entry] = order.changes.history
    assert entry.action == "payment_changed"
    assert entry.details == {"from_payment": "pending", "to_payment": "paid"}
    assert (entry.from_status, entry.to_status) == ("reserved", "reserved")
    assert event_types(order) == ["order.payment_changed"]
    [changed] = events_of(order, ev.OrderPaymentChanged)
    assert (changed.from_status, changed.to_status) == ("pending", "paid")


def test_an_authorisation_is_enough_to_stop_the_clock() -> None:
    order = make_order(payment_due_at=DUE)
    order.record_payment(PaymentStatus.AUTHORIZED, T1, ACTOR, None)
    assert order.payment_due_at is None
    assert order.changes.expiry_changed is True
    assert not order.waits_for_payment


def test_a_failed_payment_keeps_the_deadline() -> None:
    open_one = reservation(id=1, expires_at=DUE)
    order = make_order(
        allocation=AllocationState.RESERVED, reservations=[open_one], payment_due_at=DUE
    )
    order.record_payment(PaymentStatus.FAILED, T1, ACTOR, "declined")
    assert order.payment_due_at == DUE
    assert open_one.expires_at == DUE
    assert order.changes.expiry_changed is False
    assert order.waits_for_payment


def test_paying_an_order_without_a_deadline_changes_no_expiry() -> None:
    order = make_order()
    order.record_payment(PaymentStatus.PAID, T1, ACTOR, None)
    assert order.changes.expiry_changed is False


def test_a_payment_move_outside_the_table_is_refused() -> None:
    order = make_order(payment=PaymentStatus.REFUNDED)
    with pytest.raises(IllegalTransition) as raised:
        order.record_payment(PaymentStatus.PAID, T1, ACTOR, None)
    assert raised.value.context == {"machine": "payment", "current": "refunded", "target": "paid"}
    assert order.payment_status is PaymentStatus.REFUNDED
    assert not order.changes


@pytest.mark.parametrize(
    ("payment", "waits"),
    [
        (PaymentStatus.NOT_REQUIRED, False),
        (PaymentStatus.PENDING, True),
        (PaymentStatus.AUTHORIZED, False),
        (PaymentStatus.PAID, False),
        (PaymentStatus.PARTIALLY_REFUNDED, True),
        (PaymentStatus.REFUNDED, True),
        (PaymentStatus.FAILED, True),
    ],
)
def test_an_order_waits_for_payment_until_authorised_or_paid(
    payment: PaymentStatus, waits: bool
) -> None:
    assert make_order(payment=payment).waits_for_payment is waits


# ----------------------------------------------------------------- allocation


def test_reserving_a_confirmed_order_records_reservations_and_announces_them() -> None:
    order = make_order(
        state=OrderState.CONFIRMED,
        lines=[line(1, quantity=3)],
        payment=PaymentStatus.PAID,
    )
    first = reservation(1, quantity=2, warehouse="MSK", expires_at=DUE)
    second = reservation(1, quantity=1, warehouse="TVR", warehouse_id=2, stock_id=201)

    order.reserve([first, second], T1, SYSTEM, "split across MSK and TVR")

    assert order.allocation is AllocationState.RESERVED
    assert order.status is OrderStatus.RESERVED
    assert order.open_reservations == [first, second]
    assert order.changes.new_reservations == [first, second]
    assert order.reserved_quantity(1) == 3
    assert first.expires_at is None  # paid orders keep their stock without a deadline
    [entry] = order.changes.history
    assert entry.action == "reserved"
    assert entry.reason == "split across MSK and TVR"
    assert (entry.from_status, entry.to_status) == ("confirmed", "reserved")
    assert event_types(order) == ["order.status_changed", "order.reserved"]
    [reserved] = events_of(order, ev.OrderReserved)
    assert reserved.explanation == "split across MSK and TVR"
    assert [r["warehouse"] for r in reserved.reservations] == ["MSK", "TVR"]


def test_reservations_of_an_unpaid_order_expire_with_its_payment_deadline() -> None:
    order = make_order(state=OrderState.CONFIRMED, payment_due_at=DUE)
    fresh = reservation()
    order.reserve([fresh], T1, SYSTEM, "MSK")
    assert fresh.expires_at == DUE


def test_reserving_a_new_order_does_not_change_its_status() -> None:
    order = make_order()
    order.reserve([reservation()], T1, SYSTEM, "MSK")
    assert order.status is OrderStatus.NEW
    assert event_types(order) == ["order.reserved"]


def test_a_backordered_order_can_be_reserved_when_stock_arrives() -> None:
    order = make_order(state=OrderState.CONFIRMED, allocation=AllocationState.BACKORDERED)
    order.reserve([reservation()], T1, SYSTEM, "MSK received stock")
    assert order.status is OrderStatus.RESERVED
    [entry] = order.changes.history
    assert (entry.from_status, entry.to_status) == ("backordered", "reserved")


def test_a_reserved_order_cannot_be_reserved_again() -> None:
    order = make_order(
        state=OrderState.CONFIRMED,
        allocation=AllocationState.RESERVED,
        reservations=[reservation(id=1)],
    )
    with pytest.raises(IllegalTransition) as raised:
        order.reserve([reservation()], T1, SYSTEM, "again")
    assert raised.value.context["machine"] == "allocation"
    assert len(order.reservations) == 1


@pytest.mark.parametrize(
    ("allocate", "action"),
    [
        (lambda order: order.reserve([reservation()], T1, SYSTEM, "MSK"), "reserved"),
        (lambda order: order.backorder([Shortage(1, "TEA-1", 2, 0)], T1, SYSTEM), "backordered"),
    ],
    ids=["reserve", "backorder"],
)
def test_a_cancelled_order_cannot_be_allocated(
    allocate: Callable[[Order], object], action: str
) -> None:
    order = make_order(state=OrderState.CANCELLED)
    with pytest.raises(OrderClosed) as raised:
        allocate(order)
    assert raised.value.context == {"order_id": 1, "order_status": "cancelled", "action": action}
    assert order.reservations == []


def test_backordering_records_the_shortages() -> None:
    order = make_order(state=OrderState.CONFIRMED)
    order.backorder([Shortage(1, "TEA-1", 2, 1)], T1, SYSTEM)

    assert order.allocation is AllocationState.BACKORDERED
    assert order.status is OrderStatus.BACKORDERED
    [entry] = order.changes.history
    assert entry.action == "backordered"
    assert entry.details == {
        "shortages": [{"line_no": 1, "sku": "TEA-1", "requested": 2, "available": 1}]
    }
    assert (entry.from_status, entry.to_status) == ("confirmed", "backordered")
    assert event_types(order) == ["order.status_changed", "order.backordered"]
    [backordered] = events_of(order, ev.OrderBackordered)
    assert backordered.shortages == entry.details["shortages"]


def test_backordering_an_order_that_already_waits_says_nothing_new() -> None:
    order = make_order(state=OrderState.CONFIRMED, allocation=AllocationState.BACKORDERED)
    order.backorder([Shortage(1, "TEA-1", 2, 1)], T1, SYSTEM)
    assert not order.changes
    assert order.changes.events == []
    assert order.updated_at == T0


def test_releasing_the_allocation_gives_back_open_reservations() -> None:
    open_1 = reservation(1, id=1)
    open_2 = reservation(1, id=2, warehouse="TVR", warehouse_id=2, stock_id=201)
    order = make_order(
        state=OrderState.CONFIRMED,
        allocation=AllocationState.RESERVED,
        reservations=[open_1, open_2],
    )

    released = order.release_allocation(T1, SYSTEM, "count at MSK")

    assert released == [open_1, open_2]
    assert {r.status for r in released} == {ReservationStatus.RELEASED}
    assert order.open_reservations == []
    assert order.changes.ended_reservations == [open_1, open_2]
    assert order.allocation is AllocationState.UNALLOCATED
    assert order.status is OrderStatus.CONFIRMED
    [entry] = order.changes.history
    assert entry.action == "reservation_released"
    assert (entry.from_status, entry.to_status) == ("reserved", "confirmed")
    assert len(entry.details["released"]) == 2
    assert event_types(order) == ["order.status_changed", "order.allocation_released"]


def test_a_reserved_order_must_release_its_stock_before_it_can_be_backordered() -> None:
    order = make_order(
        state=OrderState.CONFIRMED,
        allocation=AllocationState.RESERVED,
        reservations=[reservation(id=1)],
    )
    with pytest.raises(IllegalTransition):
        order.backorder([Shortage(1, "KET", 1, 0)], T1, SYSTEM)
    order.release_allocation(T1, SYSTEM, "stock gone")
    order.backorder([Shortage(1, "KET", 1, 0)], T1, SYSTEM)
    assert order.status is OrderStatus.BACKORDERED
    assert order.open_reservations == []


def test_releasing_an_unallocated_order_into_the_same_state_is_allowed() -> None:
    order = make_order(state=OrderState.CONFIRMED)
    released = order.release_allocation(T1, SYSTEM, "re-source")
    assert released == []
    assert order.allocation is AllocationState.UNALLOCATED
    assert event_types(order) == ["order.allocation_released"]


# ----------------------------------------------------------------- intake


def test_intake_announces_only_the_created_order_with_its_final_status() -> None:
    order = make_order(loaded=False, payment=PaymentStatus.PAID)
    order.start_intake("api_key:shop", channel="web", external_id="W-1")
    order.confirm(T0, "api_key:shop", automatically=True, reason="channel confirms on arrival")
    order.reserve([reservation(quantity=2)], T0, "api_key:shop", "MSK has everything")
    order.finish_intake(T0)

    assert event_types(order) == ["order.created"]
    [created] = order.changes.events
    assert isinstance(created, ev.OrderCreated)
    assert created.order_id == 1
    assert created.channel == "web"
    assert created.external_id == "W-1"
    assert created.status == "reserved"
    assert created.allocation == "reserved"
    assert created.payment_status == "paid"
    assert created.currency == "RUB"
    assert created.total == Decimal("200.00")
    assert created.lines == [{"line_no": 1, "sku": "TEA-1", "quantity": 2, "unit_price": "100.00"}]
    assert created.reservations == [
        {"line_no": 1, "warehouse": "MSK", "sku": "TEA-1", "quantity": 2}
    ]


def test_intake_history_starts_with_created_and_follows_each_step() -> None:
    order = make_order(loaded=False)
    order.start_intake("api_key:shop", channel="web", external_id="W-1")
    order.confirm(T0, "api_key:shop", automatically=True, reason="auto")
    order.backorder([Shortage(1, "TEA-1", 2, 0)], T0, "api_key:shop")
    order.finish_intake(T0)

    actions = [(e.action, e.from_status, e.to_status) for e in order.changes.history]
    assert actions == [
        ("created", None, "new"),
        ("confirmed", "new", "confirmed"),
        ("backordered", "confirmed", "backordered"),
    ]
    first = order.changes.history[0]
    assert first.occurred_at == T0
    assert first.details == {"channel": "web", "external_id": "W-1"}
    assert not order.in_intake
    [created] = order.changes.events
    assert isinstance(created, ev.OrderCreated)
    assert created.status == "backordered"
    assert created.reservations == []


def test_after_intake_changes_are_announced_again() -> None:
    order = make_order(loaded=False)
    order.start_intake(ACTOR)
    order.finish_intake(T0)
    order.place_hold(HoldType.MANUAL, "look", T1, ACTOR)
    assert event_types(order) == ["order.created", "order.status_changed", "order.hold_placed"]


# ----------------------------------------------------------------- totals and VAT


def test_totals_add_lines_and_delivery_and_vat_is_counted_per_line() -> None:
    order = make_order(
        lines=[
            line(1, quantity=3, unit_price="199.99", vat_rate="22"),
            line(2, product_id=11, sku="KETTLE", quantity=1, unit_price="1000.00", vat_rate="10"),
            line(3, product_id=12, sku="BREAD", quantity=2, unit_price="50.00", vat_rate="0"),
        ],
        delivery=Delivery(
            DeliveryMethod.COURIER,
            Address("Москва", "Тверская, 1"),
            price=Decimal("300.00"),
            vat_rate=Decimal("22"),
        ),
    )
    # 599.97*22/122 = 108.191..., 1000*10/110 = 90.909..., 300*22/122 = 54.098...
    assert [ln.total for ln in order.lines] == [
        Decimal("599.97"),
        Decimal("1000.00"),
        Decimal("100.00"),
    ]
    assert [ln.vat_amount for ln in order.lines] == [
        Decimal("108.19"),
        Decimal("90.91"),
        Decimal("0.00"),
    ]
    assert order.subtotal.amount == Decimal("1699.97")
    assert order.total.amount == Decimal("1999.97")
    assert order.vat_total.amount == Decimal("253.20")
    assert {order.subtotal.currency, order.total.currency, order.vat_total.currency} == {"RUB"}


def test_vat_is_rounded_half_up_to_kopecks() -> None:
    # 0.27 * 20 / 120 = 0.045 exactly: half-up gives 0.05 where banker's rounding gives 0.04
    order = make_order(lines=[line(quantity=1, unit_price="0.27", vat_rate="20")])
    assert order.vat_total.amount == Decimal("0.05")


def test_a_line_total_is_rounded_to_kopecks() -> None:
    assert line(quantity=3, unit_price="0.335").total == Decimal("1.01")


def test_an_order_without_lines_costs_only_its_delivery() -> None:
    order = make_order(
        lines=[],
        delivery=Delivery(DeliveryMethod.PICKUP, price=Decimal("99.00"), vat_rate=Decimal("0")),
    )
    assert order.subtotal.amount == Decimal("0.00")
    assert order.total.amount == Decimal("99.00")
    assert order.vat_total.amount == Decimal("0.00")


def test_a_line_is_found_by_its_number() -> None:
    order = make_order(lines=[line(1), line(2, sku="CUP")])
    assert order.line(2).sku == "CUP"
    with pytest.raises(KeyError):
        order.line(3)


def test_the_destination_is_known_only_with_both_coordinates() -> None:
    assert Delivery(DeliveryMethod.COURIER, latitude=55.7, longitude=37.6).destination == (
        55.7,
        37.6,
    )
    assert Delivery(DeliveryMethod.COURIER, latitude=55.7).destination is None


# ----------------------------------------------------------------- take_changes


def test_take_changes_hands_over_everything_and_starts_afresh() -> None:
    order = make_order(state=OrderState.CONFIRMED, payment_due_at=DUE)
    order.place_hold(HoldType.MANUAL, "look", T1, ACTOR)
    order.record_payment(PaymentStatus.PAID, T1, ACTOR, None)

    taken = order.take_changes()

    assert [e.action for e in taken.history] == ["hold_placed", "payment_changed"]
    assert len(taken.new_holds) == 1
    assert taken.expiry_changed is True
    assert [e.event_type() for e in taken.events] == [
        "order.status_changed",
        "order.hold_placed",
        "order.payment_changed",
    ]
    assert not order.changes
    assert order.changes.events == []
    assert order.changes.new_holds == []
    assert order.changes.expiry_changed is False
    assert order.changes is not taken


def test_an_order_with_no_changes_has_nothing_to_write() -> None:
    assert not make_order().take_changes()


def test_a_re_plan_moves_the_reservations_in_one_step_and_keeps_the_status() -> None:
    order = make_order(
        state=OrderState.CONFIRMED, lines=[line(1, quantity=2)], payment=PaymentStatus.PAID
    )
    old = reservation(1, quantity=2, warehouse="SPB", warehouse_id=2, stock_id=201)
    order.reserve([old], T1, SYSTEM, "SPB")
    order.take_changes()
    new = reservation(1, quantity=2, warehouse="MSK")

    released = order.replan([new], T1, SYSTEM, "Re-planned by the batch optimiser: ...")

    assert released == [old]
    assert old.status is ReservationStatus.RELEASED
    assert order.open_reservations == [new]
    assert order.status is OrderStatus.RESERVED
    assert order.changes.ended_reservations == [old]
    assert order.changes.new_reservations == [new]
    [entry] = order.changes.history
    assert (entry.action, entry.from_status, entry.to_status) == (
        "replanned",
        "reserved",
        "reserved",
    )
    assert event_types(order) == ["order.replanned"]


def test_only_a_reserved_order_can_be_re_planned() -> None:
    order = make_order(state=OrderState.CONFIRMED, allocation=AllocationState.BACKORDERED)
    with pytest.raises(OrderNotReserved):
        order.replan([reservation()], T1, SYSTEM, "nothing to move")


# ----------------------------------------------------------------- consolidation


def test_a_transfer_consumes_reservations_at_its_source_and_splits_one_taken_in_part() -> None:
    source = reservation(quantity=3, stock_id=202, warehouse="SPB", warehouse_id=2, id=7)
    hub = reservation(quantity=2, stock_id=101, id=8)
    order = make_order(
        state=OrderState.CONFIRMED,
        allocation=AllocationState.RESERVED,
        lines=[line(quantity=5)],
        reservations=[source, hub],
    )
    consumed = order.consume_for_transfer(StockId(202), 2, made_by=T0, at=T1)
    assert consumed == [source]
    assert (source.status, source.quantity, source.ended_at) == (
        ReservationStatus.CONSUMED,
        2,
        T1,
    )
    (rest,) = order.changes.new_reservations
    assert (rest.stock_id, rest.quantity, rest.status, rest.id) == (
        StockId(202),
        1,
        ReservationStatus.OPEN,
        None,
    )
    assert order.changes.ended_reservations == [source]
    assert order.reserved_quantity(1) == 3  # the hub's 2 and the 1 left at the source
    assert order.allocation is AllocationState.RESERVED


def test_reservations_newer_than_the_transfer_are_not_its_units() -> None:
    newer = reservation(quantity=2, stock_id=202, warehouse="SPB", warehouse_id=2)
    newer.created_at = T2
    order = make_order(
        state=OrderState.CONFIRMED, allocation=AllocationState.RESERVED, reservations=[newer]
    )
    assert order.consume_for_transfer(StockId(202), 2, made_by=T1, at=T2) == []
    assert newer.status is ReservationStatus.OPEN


def test_arrivals_are_reserved_for_a_reserved_order_and_the_history_says_so() -> None:
    order = make_order(
        state=OrderState.CONFIRMED,
        allocation=AllocationState.RESERVED,
        payment=PaymentStatus.PAID,
        lines=[line(quantity=2)],
    )
    arrived = reservation(quantity=2, stock_id=303)
    order.reserve_arrived([arrived], T1, SYSTEM, "2 units came by transfer TR-000001")
    assert order.reserved_quantity(1) == 2
    assert order.changes.new_reservations == [arrived]
    (entry,) = order.changes.history
    assert (entry.action, entry.reason) == (
        "transfer_received",
        "2 units came by transfer TR-000001",
    )
    assert order.changes.events == []  # the order was reserved already: nothing to announce


def test_only_a_reserved_order_takes_arrivals() -> None:
    order = make_order(state=OrderState.CONFIRMED, allocation=AllocationState.BACKORDERED)
    with pytest.raises(RuntimeError):
        order.reserve_arrived([reservation()], T1, SYSTEM, "came by transfer")
    cancelled = make_order(state=OrderState.CANCELLED)
    with pytest.raises(OrderClosed):
        cancelled.reserve_arrived([reservation()], T1, SYSTEM, "came by transfer")
