"""ЮKassa's notifications and the poller learning the same news at once, over real
connections: the payment's status, and the order's payment status after it, are applied
exactly once - one history entry, one event of each - whoever wins."""

from __future__ import annotations

import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.domain.payments import GatewayStatus
from potok.services.payments.actions import check_payment
from potok.services.payments.notifications import read_notification, take_notification
from potok.worker.dispatcher import Dispatcher, new_client
from tests.integration.test_gateway_payments import outside, payment_of, place, shop
from tests.racing import RACE_LIMIT, race
from tests.simulators.yookassa import YooKassaSimulator

__all__ = ["shop"]  # the fixture, shared with the flow's tests

RACERS = 12


@RACE_LIMIT
def test_racing_notifications_and_polls_apply_a_status_once(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    with new_client() as client:
        Dispatcher(shop, client, name="payments").run_round()
        order_id = place(shop, [("KET", 1)])
        Dispatcher(shop, client, name="payments").run_round()
    payment = payment_of(shop, order_id)
    assert payment is not None
    assert payment.gateway_id is not None
    yookassa.pay(payment.gateway_id)
    body = yookassa.notification("payment.waiting_for_capture", payment.gateway_id)
    notification = read_notification(body)
    side = outside(shop)

    def by_notification() -> str:
        return take_notification(side, notification).outcome

    def by_poll() -> str:
        return "applied" if check_payment(side, order_id) else "unchanged"

    outcomes = race([by_notification if i % 2 else by_poll for i in range(RACERS)])
    assert sorted(outcomes) == ["applied"] + ["unchanged"] * (RACERS - 1)
    assert payment_of(shop, order_id).status is GatewayStatus.WAITING_FOR_CAPTURE
    with shop.engine.connect() as connection:
        events = (
            connection.execute(
                sa.text(
                    "SELECT type FROM outbox_events WHERE aggregate_id = :order "
                    "AND type IN ('payment.status_changed', 'order.payment_changed') ORDER BY type"
                ),
                {"order": str(order_id)},
            )
            .scalars()
            .all()
        )
        history = connection.execute(
            sa.text(
                "SELECT COUNT(*) FROM order_history WHERE order_id = :order "
                "AND action = 'payment_changed'"
            ),
            {"order": order_id},
        ).scalar()
    assert events == ["order.payment_changed", "payment.status_changed"]
    assert history == 1
