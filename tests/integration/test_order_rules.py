"""Rules around intake and operators' actions that are easy to get subtly wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from potok.bootstrap import Potok, bootstrap
from potok.domain.catalogue import ProductDraft
from potok.domain.errors import InvalidInput, Unavailable
from potok.domain.inventory import Movement, MovementType
from potok.domain.orders import HoldType, OrderState, PaymentStatus
from potok.domain.orders.commands import PlaceHold, RecordPayment, ReleaseHold
from potok.services import catalogue, orders
from potok.services.intake import Placement, place_order
from tests.conftest import _settings
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_a_repeat_of_a_taken_order_is_answered_even_after_its_sku_was_withdrawn(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    first = place_order(potok.uow(), order_command([("KET", 1)], external_id="SHOP-9"), TESTER)
    withdrawn = ProductDraft("KET", "Kettle", Decimal("2490.00"), Decimal("22"), active=False)
    catalogue.replace_product(potok.uow(), "KET", withdrawn)

    again = place_order(potok.uow(), order_command([("KET", 1)], external_id="SHOP-9"), TESTER)

    assert isinstance(first, Placement)
    assert isinstance(again, Placement)
    assert not again.created
    assert again.order.id == first.order.id


def test_times_and_amounts_are_stored_in_one_form(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    moscow = timezone(timedelta(hours=3))
    placed = place_order(
        potok.uow(),
        order_command([("KET", 1)], promised_at=datetime(2026, 12, 1, 18, 0, tzinfo=moscow)),
        TESTER,
    )
    assert isinstance(placed, Placement)
    stored = orders.get_order(potok.uow(), placed.order.id or 0).order

    for order in (placed.order, stored):
        assert order.promised_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
        assert order.promised_at is not None
        assert order.promised_at.utcoffset() == timedelta(0)
        assert str(order.lines[0].vat_rate) == "22.00"


def test_releasing_the_last_hold_of_a_paid_order_confirms_it_on_a_when_paid_channel(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    placed = place_order(potok.uow(), order_command([("KET", 1)], channel="app"), TESTER)
    assert isinstance(placed, Placement)
    order_id = placed.order.id or 0
    _, hold = orders.place_hold(potok.uow(), PlaceHold(order_id, HoldType.FRAUD, "check"), TESTER)
    paid = orders.record_payment(potok.uow(), RecordPayment(order_id, PaymentStatus.PAID), TESTER)
    assert paid.order.state is OrderState.NEW  # the hold keeps it from being confirmed

    released = orders.release_hold(potok.uow(), ReleaseHold(order_id, hold.hold_no), TESTER)

    assert released.order.state is OrderState.CONFIRMED
    assert released.order.status.value == "reserved"


def test_a_hold_cannot_expire_in_the_past(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    placed = place_order(potok.uow(), order_command([("KET", 1)]), TESTER)
    assert isinstance(placed, Placement)

    with pytest.raises(InvalidInput) as raised:
        orders.place_hold(
            potok.uow(),
            PlaceHold(
                placed.order.id or 0,
                HoldType.MANUAL,
                "wait",
                expires_at=datetime.now(UTC) - timedelta(minutes=1),
            ),
            TESTER,
        )
    assert raised.value.errors[0].field == "expires_at"


def test_the_timed_retry_serves_backorders_that_no_receipt_woke(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    waiting = place_order(potok.uow(), order_command([("KET", 2)]), TESTER)
    assert isinstance(waiting, Placement)
    assert waiting.order.status.value == "backordered"
    build_extra_stock(potok)  # stock appears without a receipt, which would have woken it

    served = orders.retry_backorders_everywhere(potok.uow())

    assert served == [waiting.order.id]
    assert_stock_invariants(potok)


def build_extra_stock(potok: Potok) -> None:
    """A unit at SPB, written the way a replication or a manual fix would: no receipt, but
    through the ledger so that the invariants hold."""
    with potok.uow() as uow:
        ids = uow.warehouses.ids_for(["SPB"])
        product = uow.products.ids_for(["KET"])["KET"]
        stock_id = uow.stock.ensure_position(ids["SPB"], product, T0)
        uow.stock.set_on_hand({stock_id: 1}, T0)
        uow.stock.add_movements(
            [
                Movement(
                    stock_id,
                    ids["SPB"],
                    product,
                    MovementType.SYNC,
                    1,
                    1,
                    "replicated",
                    None,
                    "test",
                    T0,
                )
            ]
        )
        uow.commit()


def test_a_busy_pool_is_a_retryable_unavailability(database_url: str) -> None:
    tight = bootstrap(_settings(database_url, pool_size=1, max_overflow=0, pool_timeout_s=0.2))
    try:
        with tight.uow().read(), pytest.raises(Unavailable), tight.uow().read():
            pass
    finally:
        tight.close()
