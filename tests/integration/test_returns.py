"""Returns (RMA) through the services on both databases: a delivered order partly asked
back, received at another warehouse, inspected unit by unit (restocked, kept aside,
written off) with the lot kept, refunded within what was paid; an unclaimed parcel
becoming a return by itself; two receipts of one return racing. The books reconcile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.connectors.carriers import TrackingEvent, TrackingStatus
from potok.domain.errors import PotokError
from potok.domain.fulfilment import ParcelDraft, ParcelLine
from potok.domain.orders import OrderStatus, PaymentStatus
from potok.domain.orders.commands import CancelOrder, RecordPayment
from potok.domain.returns import (
    Decision,
    Outcome,
    RefundStatus,
    ReturnSource,
    ReturnStatus,
)
from potok.services import inventory
from potok.services import orders as order_service
from potok.services.fulfilment import packing, picking, reads, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from potok.services.returns import handling, requests
from potok.services.returns.requests import RequestReturn, ReturnLineRequest
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_shipment_invariants, assert_stock_invariants
from tests.racing import RACE_LIMIT, start_line

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _clean(potok: Potok) -> None:
    assert inventory.reconcile(potok.uow()).drifts == []
    assert_stock_invariants(potok)
    assert_shipment_invariants(potok)


def _handed_over(
    potok: Potok,
    lines: list[tuple[str, int]],
    clock: Clock,
    *,
    paid: bool = True,
    warehouse: str = "MSK",
    **order: Any,
) -> tuple[int, int, str]:
    """An order of ``lines`` shipped from ``warehouse`` by the courier 'own'; (order,
    shipment, tracking number)."""
    placed = place_order(potok.uow(), order_command(lines, **order), TESTER, clock=clock)
    assert isinstance(placed, Placement)
    order_id = placed.order.id or 0
    if paid:
        order_service.record_payment(
            potok.uow(), RecordPayment(order_id, PaymentStatus.PAID), TESTER
        )
    (shipment,) = release.release_order(potok.uow(), order_id, warehouse, TESTER, clock=clock)
    shipment_id = shipment.id or 0
    for sku, quantity in lines:
        picking.pick(potok.uow(), shipment_id, ScanInput(sku, quantity), TESTER, clock=clock)
    items = reads.get_shipment(potok.uow(), shipment_id).shipment.items
    packing.pack_parcel(
        potok.uow(),
        shipment_id,
        ParcelDraft(2000, 300, 200, 200, tuple(ParcelLine(i.item_no, i.quantity) for i in items)),
        TESTER,
        clock=clock,
    )
    number = f"OWN-{order_id}"
    tracking.hand_over_to(
        potok.uow(),
        potok.carriers,
        shipment_id,
        TESTER,
        carrier="own",
        tracking_number=number,
        clock=clock,
    )
    return order_id, shipment_id, number


def _track(potok: Potok, number: str, status: TrackingStatus, at: datetime, eid: str) -> None:
    event = TrackingEvent(number, status, at, status.value, eid)
    assert tracking.apply_tracking(potok.uow(), "own", [event]).applied == 1


def _stock(potok: Potok, warehouse: str, sku: str) -> tuple[int, int]:
    levels = {r.sku: r for r in inventory.list_levels(potok.uow(), warehouse=warehouse).items}
    return levels[sku].on_hand, levels[sku].unavailable


def _movements(potok: Potok, kind: str) -> int:
    with potok.engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT COALESCE(SUM(quantity), 0) FROM stock_movements WHERE type = :t"),
                {"t": kind},
            ).scalar_one()
        )


def test_a_partial_return_comes_back_at_another_warehouse_and_is_refunded(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    clock = Clock(T0)
    order_id, _, number = _handed_over(potok, [("KET", 3), ("MUG", 2)], clock)
    _track(potok, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")
    assert order_service.get_order(potok.uow(), order_id).order.status is OrderStatus.DELIVERED

    clock.moment = T0 + timedelta(days=3)
    ret = requests.request_return(
        potok.uow(),
        RequestReturn(
            order_id,
            [ReturnLineRequest(1, 2, "wrong_size", note="too small")],
            comment="by phone",
        ),
        TESTER,
        clock=clock,
    )
    assert (ret.number, ret.status, ret.source) == (
        "RT-000001",
        ReturnStatus.REQUESTED,
        ReturnSource.CUSTOMER,
    )
    assert ret.refund_amount == Decimal("4980.00")  # 2 x 2490.00
    assert ret.refund_vat == Decimal("898.03")  # 22 % inside 4980.00
    requests.approve_return(potok.uow(), ret.number, TESTER, clock=clock)

    clock.moment = T0 + timedelta(days=6)
    received = handling.receive_return(potok.uow(), ret.number, "SPB", TESTER, clock=clock)
    assert received.status is ReturnStatus.RECEIVED
    assert received.refund_status is RefundStatus.PENDING
    assert received.refund_shipping == Decimal("0.00")  # other units are still out
    assert _stock(potok, "SPB", "KET") == (2, 2)  # on hand, set aside until inspected
    assert _stock(potok, "MSK", "KET") == (7, 0)
    order = order_service.get_order(potok.uow(), order_id).order
    assert order.status is OrderStatus.PARTIALLY_RETURNED

    inspected = handling.inspect_return(
        potok.uow(),
        ret.number,
        [Decision(1, Outcome.RESTOCK, 1), Decision(1, Outcome.UNAVAILABLE, 1, "scratched")],
        TESTER,
        clock=clock,
    )
    assert inspected.status is ReturnStatus.INSPECTED
    assert _stock(potok, "SPB", "KET") == (2, 1)  # one sellable again, one damaged
    assert _movements(potok, "customer_return") == 2

    paid = requests.settle_refund(
        potok.uow(), ret.number, RefundStatus.PAID, TESTER, note="to the card", clock=clock
    )
    assert paid.refund_status is RefundStatus.PAID
    order = order_service.get_order(potok.uow(), order_id).order
    assert order.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    closed = requests.close_return(potok.uow(), ret.number, TESTER, clock=clock)
    assert [s.action for s in closed.steps] == [
        "requested",
        "approved",
        "received",
        "refund_pending",
        "inspected",
        "refund_paid",
        "closed",
    ]
    history = order_service.get_order(potok.uow(), order_id).history
    assert [h.action for h in history if h.action.startswith(("return_", "refund_"))] == [
        "return_requested",
        "return_approved",
        "return_received",
        "return_inspected",
        "refund_paid",
        "return_closed",
    ]

    # the rest comes back: the order is returned, the delivery fee is refunded with it
    rest = requests.request_return(
        potok.uow(),
        RequestReturn(
            order_id,
            [ReturnLineRequest(1, 1, "changed_mind"), ReturnLineRequest(2, 2, "defective")],
            approve=True,
        ),
        TESTER,
        clock=clock,
    )
    back = handling.receive_return(potok.uow(), rest.number, "MSK", TESTER, clock=clock)
    delivery = order.delivery.price
    assert back.refund_shipping == delivery
    assert back.refund_amount == Decimal("2490.00") + Decimal("780.00") + delivery
    order = order_service.get_order(potok.uow(), order_id).order
    assert order.status is OrderStatus.RETURNED
    handling.inspect_return(
        potok.uow(),
        rest.number,
        [Decision(1, Outcome.WRITE_OFF, 1), Decision(2, Outcome.RESTOCK, 2)],
        TESTER,
        clock=clock,
    )
    assert _stock(potok, "MSK", "KET") == (7, 0)  # the written-off kettle left the books
    assert _stock(potok, "MSK", "MUG") == (10, 0)
    requests.settle_refund(potok.uow(), rest.number, RefundStatus.PAID, TESTER, clock=clock)
    order = order_service.get_order(potok.uow(), order_id).order
    assert order.payment_status is PaymentStatus.REFUNDED
    _clean(potok)


def test_bad_requests_name_the_line(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    clock = Clock(T0)
    order_id, _, _ = _handed_over(potok, [("KET", 2)], clock, paid=False)

    def refused(*lines: ReturnLineRequest) -> PotokError:
        with pytest.raises(PotokError) as caught:
            requests.request_return(potok.uow(), RequestReturn(order_id, list(lines)), TESTER)
        return caught.value

    assert refused(ReturnLineRequest(1, 3, "defective")).code == "return-exceeds-shipped"
    assert refused(ReturnLineRequest(1, 1, "too_expensive")).code == "unknown-return-reason"
    assert refused(ReturnLineRequest(1, 1, "defective", ("SN-NOPE",))).code == "unit-not-in-order"
    assert refused(ReturnLineRequest(7, 1, "defective")).code == "invalid-input"
    first = requests.request_return(
        potok.uow(), RequestReturn(order_id, [ReturnLineRequest(1, 2, "defective")]), TESTER
    )
    assert refused(ReturnLineRequest(1, 1, "defective")).code == "return-exceeds-shipped"
    requests.decline_return(potok.uow(), first.number, TESTER, reason="used")
    again = requests.request_return(  # declined units may be asked back again
        potok.uow(),
        RequestReturn(order_id, [ReturnLineRequest(1, 2, "defective")], approve=True),
        TESTER,
    )
    handling.receive_return(potok.uow(), again.number, "MSK", TESTER)
    with pytest.raises(PotokError) as caught:  # the order was never paid: nothing to refund
        requests.settle_refund(potok.uow(), again.number, RefundStatus.PAID, TESTER)
    assert caught.value.code == "refund-above-paid"
    with pytest.raises(PotokError) as caught:
        handling.inspect_return(
            potok.uow(), again.number, [Decision(1, Outcome.RESTOCK, 1)], TESTER
        )
    assert caught.value.code == "inspection-incomplete"

    cancelled = place_order(potok.uow(), order_command([("KET", 1)]), TESTER)
    assert isinstance(cancelled, Placement)
    cancelled_id = cancelled.order.id or 0
    order_service.cancel_order(potok.uow(), CancelOrder(cancelled_id, "changed"), TESTER)
    with pytest.raises(PotokError) as caught:
        requests.request_return(
            potok.uow(), RequestReturn(cancelled_id, [ReturnLineRequest(1, 1, "defective")]), TESTER
        )
    assert caught.value.code == "order-not-returnable"
    _clean(potok)


def test_an_unclaimed_parcel_becomes_a_received_return_by_itself(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    clock = Clock(T0)
    order_id, shipment_id, number = _handed_over(potok, [("KET", 2)], clock)
    _track(potok, number, TrackingStatus.FAILED_DELIVERY, T0 + timedelta(days=2), "f1")
    _track(potok, number, TrackingStatus.RETURNED_TO_SENDER, T0 + timedelta(days=9), "r1")
    (ret,) = requests.returns_of_order(potok.uow(), order_id)
    assert (ret.source, ret.status, ret.warehouse) == (
        ReturnSource.UNCLAIMED,
        ReturnStatus.RECEIVED,
        "MSK",
    )
    assert [(line.sku, line.quantity, line.received, line.reason) for line in ret.lines] == [
        ("KET", 2, 2, "unclaimed")
    ]
    assert ret.refund_amount == Decimal("4980.00")  # the goods, not the delivery
    assert _stock(potok, "MSK", "KET") == (5, 2)
    assert _movements(potok, "return_to_sender") == 2
    order = order_service.get_order(potok.uow(), order_id).order
    assert order.status is OrderStatus.RETURNED_TO_SENDER
    handling.inspect_return(potok.uow(), ret.number, [Decision(1, Outcome.RESTOCK, 2)], TESTER)
    assert _stock(potok, "MSK", "KET") == (5, 0)
    assert reads.get_shipment(potok.uow(), shipment_id).shipment.status.value == (
        "returned_to_sender"
    )
    _clean(potok)


@RACE_LIMIT
def test_two_receipts_of_one_return_book_its_units_once(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    clock = Clock(T0)
    order_id, _, number = _handed_over(potok, [("KET", 3)], clock)
    _track(potok, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")
    ret = requests.request_return(
        potok.uow(),
        RequestReturn(order_id, [ReturnLineRequest(1, 3, "defective")], approve=True),
        TESTER,
    )
    barrier = start_line(2)

    def receive(warehouse: str) -> str:
        barrier.wait()
        try:
            handling.receive_return(potok.uow(), ret.number, warehouse, TESTER)
        except PotokError as error:
            return error.code
        return "ok"

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(receive, ["SPB", "KZN"]))
    assert outcomes == ["illegal-transition", "ok"]
    booked = _stock(potok, "SPB", "KET") if _has(potok, "SPB") else _stock(potok, "KZN", "KET")
    assert booked == (3, 3)
    assert _movements(potok, "customer_return") == 3
    _clean(potok)


def _has(potok: Potok, warehouse: str) -> bool:
    levels = inventory.list_levels(potok.uow(), warehouse=warehouse).items
    return any(r.sku == "KET" and r.on_hand for r in levels)


def test_an_exchange_takes_its_own_vat_off_the_refunds_vat(potok: Potok) -> None:
    """A return of a kettle pair and a mug, the mug replaced: the refund is the kettles and
    so is its VAT; a replacement worth more than the return leaves nothing, VAT included."""
    from potok.services.returns import exchanges

    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    clock = Clock(T0)
    order_id, _, number = _handed_over(potok, [("KET", 3), ("MUG", 2)], clock)
    _track(potok, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")
    clock.moment = T0 + timedelta(days=2)
    lines = [ReturnLineRequest(1, 2, "wrong_size"), ReturnLineRequest(2, 1, "defective")]
    ret = requests.request_return(potok.uow(), RequestReturn(order_id, lines), TESTER, clock=clock)
    assert ret.refund_amount == Decimal("5370.00")  # 2 x 2490.00 + 390.00
    assert ret.refund_vat == Decimal("968.36")  # 898.03 + 70.33, 22 % inside each line
    requests.approve_return(potok.uow(), ret.number, TESTER, clock=clock)

    swap = exchanges.exchange_return(
        potok.uow(), ret.number, TESTER, lines=[exchanges.ExchangeLine("MUG", 1)], clock=clock
    )
    again = requests.get_return(potok.uow(), ret.number)
    assert (swap.ret.exchange_value, swap.ret.exchange_vat) == (Decimal("390.00"), Decimal("70.33"))
    assert (again.refund_amount, again.refund_vat) == (Decimal("4980.00"), Decimal("898.03"))
    assert again.exchange_vat == Decimal("70.33")  # stored, not only computed

    # a second return of the last kettle, replaced by three: worth more than it, nothing owed
    other = requests.request_return(
        potok.uow(),
        RequestReturn(order_id, [ReturnLineRequest(1, 1, "wrong_size")]),
        TESTER,
        clock=clock,
    )
    requests.approve_return(potok.uow(), other.number, TESTER, clock=clock)
    bigger = exchanges.exchange_return(
        potok.uow(), other.number, TESTER, lines=[exchanges.ExchangeLine("KET", 3)], clock=clock
    )
    assert bigger.ret.exchange_value == Decimal("7470.00")
    assert (bigger.ret.refund_amount, bigger.ret.refund_vat) == (Decimal("0.00"), Decimal("0.00"))
    _clean(potok)
