"""Payment methods on SQLite and PostgreSQL: an order says how it is paid, its channel says
which methods it takes, and an order paid on delivery ships unpaid - no payment deadline,
confirmed by a "when paid" channel on arrival - to a point that collects payment."""

from __future__ import annotations

from dataclasses import replace

import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import CarrierRegistry, SandboxCarrier
from potok.domain.errors import InvalidInput
from potok.domain.orders import OrderState, PaymentMethod, PaymentStatus
from potok.services import carrier_points, catalogue
from potok.services.intake import Placement, place_order
from tests.factories import CHANNELS, TESTER, build_world, order_command
from tests.integration.test_cdek_connector import carrier_for
from tests.simulators.cdek import CdekSimulator

APP = next(c for c in CHANNELS if c.code == "app")  # confirms paid orders; 30 min to pay


def _placed(potok: Potok, **extra: object) -> Placement:
    command = order_command([("KET", 1)], **extra)
    placed = place_order(potok.uow(), command, TESTER)
    assert isinstance(placed, Placement)
    return placed


def test_an_order_keeps_how_it_is_paid_and_one_paid_on_delivery_does_not_wait_for_money(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    cod = _placed(potok, channel="app", payment_method=PaymentMethod.CASH_ON_DELIVERY)
    online = _placed(potok, channel="app", payment_method=PaymentMethod.ONLINE)
    unsaid = _placed(potok, channel="app")

    stored = potok.uow()
    with stored:
        cod_order = stored.orders.get(cod.order.id or 0)
        online_order = stored.orders.get(online.order.id or 0)
        unsaid_order = stored.orders.get(unsaid.order.id or 0)
        created = stored.orders.history(cod.order.id or 0)[0]
    assert cod_order is not None
    assert online_order is not None
    assert unsaid_order is not None
    assert cod_order.payment_method is PaymentMethod.CASH_ON_DELIVERY
    assert (online_order.payment_method, unsaid_order.payment_method) == (
        PaymentMethod.ONLINE,
        None,
    )
    # paid on delivery: confirmed by the "when paid" channel at once, no deadline to pay
    assert (cod_order.state, cod_order.payment_status) == (
        OrderState.CONFIRMED,
        PaymentStatus.PENDING,
    )
    assert cod_order.payment_due_at is None
    assert cod_order.pays_on_delivery
    # paid online: waits for its money, 30 minutes
    assert online_order.state is OrderState.NEW
    assert online_order.payment_due_at is not None
    assert not online_order.pays_on_delivery
    assert (created.action, created.details["payment_method"]) == (
        "created",
        "cash_on_delivery",
    )


def test_a_method_the_channel_does_not_take_is_refused_naming_the_field(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    prepaid_only = replace(APP, payment_methods=(PaymentMethod.ONLINE, PaymentMethod.INVOICE))
    catalogue.replace_channel(potok.uow(), "app", prepaid_only)
    assert catalogue.get_channel(potok.uow(), "app").payment_methods == (
        PaymentMethod.ONLINE,
        PaymentMethod.INVOICE,
    )
    with pytest.raises(InvalidInput) as refused:
        _placed(potok, channel="app", payment_method=PaymentMethod.CARD_ON_DELIVERY)
    (error,) = refused.value.errors
    assert (error.field, error.code) == ("payment_method", "payment-method-not-taken")
    assert "online, invoice" in error.message
    assert _placed(potok, channel="app", payment_method=PaymentMethod.INVOICE).created
    with pytest.raises(InvalidInput) as none:
        catalogue.replace_channel(potok.uow(), "app", replace(APP, payment_methods=()))
    assert [(e.field, e.code) for e in none.value.errors] == [("payment_methods", "required")]


def test_a_point_that_collects_no_payment_refuses_an_order_paid_on_delivery(
    potok: Potok, cdek: CdekSimulator
) -> None:
    potok.carriers = CarrierRegistry([SandboxCarrier(secret="sandbox"), carrier_for(cdek)])
    build_world(potok, {("MSK", "KET"): 5})
    carrier_points.sync_points(potok.uow(), potok.carriers, "cdek")
    with pytest.raises(InvalidInput) as locker:  # MSK789 is a locker: no cash on delivery
        _placed(potok, pickup_point="cdek:MSK789", payment_method=PaymentMethod.CASH_ON_DELIVERY)
    (error,) = locker.value.errors
    assert (error.field, error.code) == ("payment_method", "point-takes-no-cash-on-delivery")
    assert "MSK789" in error.message
    # paid before it ships, the locker takes it; an office collects cash or cards
    assert _placed(potok, pickup_point="cdek:MSK789", payment_method=PaymentMethod.ONLINE)
    office = _placed(
        potok, pickup_point="cdek:MSK456", payment_method=PaymentMethod.CARD_ON_DELIVERY
    )
    assert office.order.delivery.pickup_point_code == "MSK456"
