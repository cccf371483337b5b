"""The timed jobs with an explicit clock: payment deadlines, timed holds, old idempotency keys.

The factories' 'app' channel gives unpaid orders 30 minutes to be paid; 'web' has no deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.inventory.lots import LotInput
from potok.domain.kernel import Tracking
from potok.domain.orders import HoldType, Order, PaymentStatus
from potok.domain.orders.commands import PlaceHold, RecordPayment
from potok.services import access, catalogue, intake, inventory
from potok.services import orders as order_service
from potok.services.orders import expire_unpaid_orders
from potok.worker.jobs import run_due_jobs
from tests.factories import MOSCOW, PRODUCTS, TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants, reserved_units
from tests.racing import RACE_LIMIT, race

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def minutes(n: float) -> datetime:
    return T + timedelta(minutes=n)


def place(potok: Potok, lines: list[tuple[str, int]], *, when: datetime = T, **extra: Any) -> int:
    result = intake.place_order(
        potok.uow(), order_command(lines, to=MOSCOW, **extra), TESTER, clock=at(when)
    )
    assert isinstance(result, intake.Placement)
    assert result.order.id is not None
    return result.order.id


def order(potok: Potok, order_id: int) -> Order:
    return order_service.get_order(potok.uow(), order_id).order


def actions(potok: Potok, order_id: int) -> list[tuple[str, str]]:
    return [(h.action, h.actor) for h in order_service.get_order(potok.uow(), order_id).history]


def reservation_statuses(order: Order) -> list[str]:
    return [r.status.value for r in order.reservations]


# ---------------------------------------------------------------------- payment deadline


def test_an_unpaid_order_keeps_its_reservation_until_the_deadline(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    unpaid = place(potok, [("KET", 2)], channel="app")

    expired = expire_unpaid_orders(potok.uow(), clock=at(minutes(29)))

    assert expired == []
    kept = order(potok, unpaid)
    assert kept.payment_due_at == minutes(30)
    assert kept.status == "new"
    assert reservation_statuses(kept) == ["open"]
    assert reserved_units(potok, "KET") == 2
    assert_stock_invariants(potok)


def test_an_unpaid_order_past_its_deadline_is_expired_and_its_stock_released(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    unpaid = place(potok, [("KET", 2)], channel="app")

    expired = expire_unpaid_orders(potok.uow(), clock=at(minutes(31)))

    assert expired == [unpaid]
    gone = order(potok, unpaid)
    assert gone.status == "cancelled"
    assert gone.cancelled_at == minutes(31)
    assert reservation_statuses(gone) == ["expired"]
    assert actions(potok, unpaid)[-1] == ("expired", "system:payment-deadline")
    assert reserved_units(potok, "KET") == 0
    assert expire_unpaid_orders(potok.uow(), clock=at(minutes(90))) == []  # only once
    assert_stock_invariants(potok)


def test_stock_freed_by_an_expired_order_goes_to_an_order_waiting_for_it(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    unpaid = place(potok, [("KET", 1)], channel="app")
    waiting = place(potok, [("KET", 1)], when=minutes(1))
    assert order(potok, waiting).status == "backordered"

    expire_unpaid_orders(potok.uow(), clock=at(minutes(31)))

    assert order(potok, unpaid).status == "cancelled"
    served = order(potok, waiting)
    assert served.status == "reserved"
    assert [(r.warehouse_code, r.sku, r.quantity) for r in served.open_reservations] == [
        ("MSK", "KET", 1)
    ]
    assert reserved_units(potok, "KET") == 1
    assert_stock_invariants(potok)


def test_a_paid_order_is_never_expired(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    paid_at_once = place(potok, [("KET", 1)], channel="app", payment_status=PaymentStatus.PAID)
    paid_later = place(potok, [("KET", 1)], channel="app")
    order_service.record_payment(
        potok.uow(), RecordPayment(paid_later, PaymentStatus.PAID), TESTER, clock=at(minutes(10))
    )

    expired = expire_unpaid_orders(potok.uow(), clock=at(minutes(60 * 24 * 30)))

    assert expired == []
    for order_id in (paid_at_once, paid_later):
        kept = order(potok, order_id)
        assert kept.payment_due_at is None
        assert kept.status == "reserved"  # a paid order of a when-paid channel is confirmed
        assert reservation_statuses(kept) == ["open"]
    assert reserved_units(potok, "KET") == 2
    assert_stock_invariants(potok)


def test_an_unpaid_order_of_a_channel_without_a_deadline_is_never_expired(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    unpaid = place(potok, [("KET", 1)], channel="web")

    expired = expire_unpaid_orders(potok.uow(), clock=at(minutes(60 * 24 * 30)))

    assert expired == []
    kept = order(potok, unpaid)
    assert kept.payment_due_at is None
    assert reservation_statuses(kept) == ["open"]


def test_an_unpaid_backordered_order_expires_without_touching_stock(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    holder = place(potok, [("KET", 1)], channel="web")
    unpaid = place(potok, [("KET", 1)], channel="app")
    assert order(potok, unpaid).status == "new"

    expired = expire_unpaid_orders(potok.uow(), clock=at(minutes(31)))

    assert expired == [unpaid]
    assert order(potok, unpaid).status == "cancelled"
    assert reservation_statuses(order(potok, holder)) == ["open"]
    assert reserved_units(potok, "KET") == 1
    assert_stock_invariants(potok)


# ---------------------------------------------------------------------- run_due_jobs


def test_run_due_jobs_expires_overdue_unpaid_orders_and_serves_waiting_ones(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 2})
    unpaid = place(potok, [("KET", 1)], channel="app")
    paid = place(potok, [("KET", 1)], channel="app", payment_status=PaymentStatus.PAID)
    waiting = place(potok, [("KET", 1)], when=minutes(5))
    early = run_due_jobs(potok, clock=at(minutes(29)))

    report = run_due_jobs(potok, clock=at(minutes(31)))

    assert early.expired_orders == []
    assert report.expired_orders == [unpaid]
    assert order(potok, unpaid).status == "cancelled"
    assert actions(potok, unpaid)[-1] == ("expired", "system:payment-deadline")
    assert reservation_statuses(order(potok, unpaid)) == ["expired"]
    assert order(potok, paid).status == "reserved"
    assert order(potok, waiting).status == "reserved"
    assert reserved_units(potok, "KET") == 2
    assert_stock_invariants(potok)
    trail = access.audit_trail(potok.uow(), limit=1000).items
    by_entity = {(e.action, e.entity_id): (e.actor, e.via) for e in trail}
    assert by_entity[("order.status_changed", str(unpaid))] == (
        "system:payment-deadline",
        "worker",
    )
    # the waiting order was served by the stock the expiry freed, in the same transaction
    assert by_entity[("order.reserved", str(waiting))] == ("system:payment-deadline", "worker")


def test_run_due_jobs_ends_timed_holds_whose_time_is_up(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    soon, later, untimed = (place(potok, [("KET", 1)]) for _ in range(3))
    for order_id, expires_at in ((soon, minutes(20)), (later, minutes(120)), (untimed, None)):
        order_service.place_hold(
            potok.uow(),
            PlaceHold(order_id, HoldType.FRAUD, "check the customer", expires_at=expires_at),
            TESTER,
            clock=at(minutes(1)),
        )

    first = run_due_jobs(potok, clock=at(minutes(31)))

    assert first.expired_holds == 1
    assert [h.state.value for h in order(potok, soon).holds] == ["expired"]
    assert actions(potok, soon)[-1] == ("hold_expired", "system:hold-expiry")
    assert order(potok, soon).status == "reserved"
    assert order(potok, later).status == "on_hold"
    assert order(potok, untimed).status == "on_hold"

    second = run_due_jobs(potok, clock=at(minutes(121)))
    third = run_due_jobs(potok, clock=at(minutes(60 * 24 * 365)))

    assert second.expired_holds == 1
    assert [h.state.value for h in order(potok, later).holds] == ["expired"]
    assert third.expired_holds == 0
    assert [h.state.value for h in order(potok, untimed).holds] == ["active"]
    assert_stock_invariants(potok)


def test_run_due_jobs_forgets_idempotency_keys_older_than_seven_days(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})

    def respond(placement: intake.Placement) -> tuple[int, Any]:
        return 201, {"id": placement.order.id}

    for key, age in (("old", timedelta(days=7, minutes=1)), ("recent", timedelta(days=6))):
        intake.place_order(
            potok.uow(),
            order_command([("KET", 1)], idempotency_key=key, request_hash=f"hash-{key}"),
            TESTER,
            clock=at(T - age),
            respond=respond,
        )

    report = run_due_jobs(potok, clock=at(T))

    assert report.forgotten_keys == 1
    with potok.engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT key FROM idempotency_keys")).scalars().all()
        orders = connection.execute(sa.text("SELECT COUNT(*) FROM orders")).scalar_one()
    assert kept == ["recent"]
    assert orders == 2  # forgetting a key keeps its order


@RACE_LIMIT
def test_two_workers_at_once_expire_each_order_exactly_once(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 12})
    unpaid = [place(potok, [("KET", 1)], channel="app", when=minutes(n)) for n in range(12)]

    def work() -> list[int]:
        return run_due_jobs(potok, clock=at(minutes(60))).expired_orders

    reports = race([work, work])

    assert sorted(reports[0] + reports[1]) == unpaid
    assert all(order(potok, order_id).status == "cancelled" for order_id in unpaid)
    assert [a for a, _ in actions(potok, unpaid[0])].count("expired") == 1
    assert reserved_units(potok, "KET") == 0
    assert_stock_invariants(potok)


def test_run_due_jobs_makes_expired_lots_unavailable_and_backorders_their_orders(
    potok: Potok,
) -> None:
    build_world(potok)
    kettle = next(p for p in PRODUCTS if p.sku == "KET")
    catalogue.replace_product(potok.uow(), "KET", replace(kettle, tracking=Tracking.LOT))
    lot = LotInput("L1", None, T.date() + timedelta(days=1))
    inventory.receive_stock(
        potok.uow(), ReceiveStock("MSK", "KET", 2, lot=lot), TESTER, clock=at(T)
    )
    order_id = place(potok, [("KET", 2)])

    same_day = run_due_jobs(potok, clock=at(T + timedelta(hours=3)))
    report = run_due_jobs(potok, clock=at(T + timedelta(days=1)))

    assert same_day.expired_lots is not None
    assert same_day.expired_lots.positions == 0
    assert report.expired_lots is not None
    assert (report.expired_lots.units, report.expired_lots.orders_resourced) == (2, [order_id])
    order = order_service.get_order(potok.uow(), order_id).order
    assert order.allocation.value == "backordered"
    assert reserved_units(potok, "KET") == 0
    assert_stock_invariants(potok)
