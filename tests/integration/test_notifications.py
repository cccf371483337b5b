"""Customer e-mails sent by the dispatcher after commit, received by a real SMTP server:
accepted, shipped with its tracking number, return received, refund paid - in the
customer's language, plain text and HTML; a refusing server is tried again and never holds
an order change; opted-out addresses and turned-off topics get nothing; every attempt is
in the log with the address masked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import TrackingStatus
from potok.connectors.messaging import SmtpSender
from potok.domain.notifications import Language, Topic
from potok.domain.notifications.templates import Medium
from potok.domain.orders.commands import CancelOrder
from potok.domain.returns import Decision, Outcome, RefundStatus
from potok.services import notification_templates, notifications, public_tracking
from potok.services import orders as order_service
from potok.services.intake import Placement, place_order
from potok.services.notifications import NotificationPolicy
from potok.services.returns import handling, requests
from potok.services.returns.requests import RequestReturn, ReturnLineRequest
from potok.worker.dispatcher import Dispatcher, new_client
from potok.worker.notifier import Notifier
from tests.factories import TESTER, build_world, order_command
from tests.integration.test_returns import T0, Clock, _handed_over, _track
from tests.smtp import Inbox, smtp_server

CUSTOMER = {"customer_name": "Anna Smirnova", "customer_email": "anna@example.ru"}


@pytest.fixture
def mail(potok: Potok) -> Iterator[tuple[Inbox, Dispatcher, Clock]]:
    clock = Clock(T0)
    with smtp_server() as (inbox, port), new_client() as client:
        notifier = Notifier(
            SmtpSender("127.0.0.1", port, sender="Shop <shop@example.ru>"),
            NotificationPolicy(
                language=Language.RU,
                by_channel={"web": Language.EN},
                shop="Example shop",
                tracking_url="https://shop.example/",
            ),
            max_attempts=3,
            backoff_s=60,
            backoff_max_s=600,
        )
        dispatcher = Dispatcher(potok, client, name="mail", clock=clock, notifier=notifier)
        dispatcher.run_round()  # the notifications cursor starts at the end of the outbox
        yield inbox, dispatcher, clock


def test_the_customer_hears_of_each_step_in_their_language(
    potok: Potok, mail: tuple[Inbox, Dispatcher, Clock]
) -> None:
    inbox, dispatcher, clock = mail
    build_world(potok, {("MSK", "KET"): 5})
    order_id, _, number = _handed_over(potok, [("KET", 2)], clock, **CUSTOMER)
    _track(potok, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")
    dispatcher.run_round()
    assert inbox.subjects() == [
        f"Order {order_id} accepted",
        f"Order {order_id} is on its way",
        f"Order {order_id} delivered",
    ]
    assert inbox.messages[0]["To"] == "anna@example.ru"
    assert inbox.messages[0]["From"] == "Shop <shop@example.ru>"
    assert "Hello, Anna!" in inbox.text(0)
    assert f"Tracking number: {number}." in inbox.text(1)
    assert "<p>Hello, Anna!</p>" in inbox.html(0)
    token = public_tracking.tracking_token(potok.uow(), order_id)
    assert f"Follow your order: https://shop.example/track/{token}" in inbox.text(0)
    assert f'<a href="https://shop.example/track/{token}">' in inbox.html(1)

    ret = requests.request_return(
        potok.uow(),
        RequestReturn(order_id, [ReturnLineRequest(1, 1, "defective")], approve=True),
        TESTER,
    )
    handling.receive_return(potok.uow(), ret.number, "SPB", TESTER)
    handling.inspect_return(potok.uow(), ret.number, [Decision(1, Outcome.RESTOCK, 1)], TESTER)
    requests.settle_refund(potok.uow(), ret.number, RefundStatus.PAID, TESTER)
    dispatcher.run_round()
    assert inbox.subjects()[3:] == [
        f"Return {ret.number} received",
        f"Refund for return {ret.number} paid",
    ]
    assert "2490.00 RUB" in inbox.text(4)

    sent, _ = notifications.list_sent(potok.uow(), order_id=order_id)
    assert {(r.topic, r.outcome, r.recipient) for r in sent} == {
        (topic, "sent", "a***@example.ru")
        for topic in (
            "order_accepted",
            "order_shipped",
            "order_delivered",
            "return_received",
            "refund_paid",
        )
    }
    dispatcher.run_round()
    assert len(inbox.messages) == 5  # nothing twice


def test_a_refusing_server_is_tried_again_and_never_holds_the_order(
    potok: Potok, mail: tuple[Inbox, Dispatcher, Clock]
) -> None:
    inbox, dispatcher, clock = mail
    build_world(potok, {("MSK", "KET"): 5})
    inbox.refuse = 1
    placed = place_order(potok.uow(), order_command([("KET", 1)], **CUSTOMER), TESTER)
    assert isinstance(placed, Placement)
    order_id = placed.order.id or 0
    assert dispatcher.run_round().notify_failed == 1
    assert inbox.messages == []
    # the order moves on meanwhile: its change commits whatever the mail server does
    order_service.cancel_order(potok.uow(), CancelOrder(order_id, "changed my mind"), TESTER)
    assert dispatcher.run_round().notified == 0  # still backing off, in order
    clock.moment = T0 + timedelta(minutes=5)
    dispatcher.run_round()
    assert inbox.subjects() == [f"Order {order_id} accepted", f"Order {order_id} cancelled"]
    assert "changed my mind" in inbox.text(1)

    inbox.refuse = 10  # down for good: given up after the last attempt, the next goes
    again = place_order(potok.uow(), order_command([("KET", 1)], **CUSTOMER), TESTER)
    assert isinstance(again, Placement)
    for minutes in (10, 20, 40):
        clock.moment = T0 + timedelta(minutes=minutes)
        dispatcher.run_round()
    outcomes = [
        (r.attempt, r.outcome)
        for r in notifications.list_sent(potok.uow(), order_id=again.order.id)[0]
    ]
    assert outcomes == [(3, "dead"), (2, "failed"), (1, "failed")]
    failed = notifications.list_sent(potok.uow(), order_id=order_id, outcome="failed")[0]
    assert failed[0].error is not None
    assert "451" in failed[0].error


def test_opted_out_customers_and_turned_off_topics_get_nothing(
    potok: Potok, mail: tuple[Inbox, Dispatcher, Clock]
) -> None:
    inbox, dispatcher, _ = mail
    build_world(potok, {("MSK", "KET"): 5})
    assert notifications.opt_out(potok.uow(), " Anna@Example.ru ", TESTER)
    assert not notifications.opt_out(potok.uow(), "anna@example.ru", TESTER)
    place_order(potok.uow(), order_command([("KET", 1)], **CUSTOMER), TESTER)
    dispatcher.run_round()
    assert inbox.messages == []
    (skipped,), _ = notifications.list_sent(potok.uow())
    assert (skipped.outcome, skipped.error) == ("skipped", "the customer opted out")
    assert notifications.opt_in(potok.uow(), "anna@example.ru")
    assert dispatcher.notifier is not None
    dispatcher.notifier.policy = NotificationPolicy(topics_off=frozenset({"order_accepted"}))
    place_order(potok.uow(), order_command([("KET", 1)], **CUSTOMER), TESTER)
    dispatcher.run_round()
    assert inbox.messages == []


def test_an_administrators_template_is_what_the_customer_receives(
    potok: Potok, mail: tuple[Inbox, Dispatcher, Clock]
) -> None:
    inbox, dispatcher, _ = mail
    build_world(potok, {("MSK", "KET"): 5})
    template = (
        '{% extends "en/_base.j2" %}\n'
        "{% block subject %}We have your order {{ order_id }}{% endblock %}\n"
        "{% block body %}Thank you, {{ first_name }}.{% endblock %}\n"
        "{% block html_body %}<p>Thank you, <b>{{ first_name }}</b>.</p>{% endblock %}\n"
    )
    notification_templates.save_template(
        potok.uow(), Topic.ORDER_ACCEPTED, Language.EN, Medium.EMAIL, template, TESTER
    )
    placed = place_order(
        potok.uow(),
        order_command(
            [("KET", 1)], customer_name="<Anna> Smirnova", customer_email="anna@example.ru"
        ),
        TESTER,
    )
    assert isinstance(placed, Placement)
    dispatcher.run_round()
    assert inbox.subjects() == [f"We have your order {placed.order.id}"]
    assert "Thank you, <Anna>." in inbox.text(0)
    assert "<p>Thank you, <b>&lt;Anna&gt;</b>.</p>" in inbox.html(0)


def test_a_message_that_cannot_be_made_holds_back_itself_and_what_follows_only(
    potok: Potok, mail: tuple[Inbox, Dispatcher, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window's messages are composed together; when that fails, each is composed alone,
    so the messages before the failing one still go (in order, as one at a time did)."""
    inbox, dispatcher, _ = mail
    build_world(potok, {("MSK", "KET"): 5})
    placed = [
        place_order(potok.uow(), order_command([("KET", 1)], **CUSTOMER), TESTER) for _ in range(3)
    ]
    ids = [p.order.id for p in placed if isinstance(p, Placement)]
    compose_alone = notifications._drafts

    def fails_for_the_second(*args: object) -> object:
        order = args[3]
        if getattr(order, "id", None) == ids[1]:
            raise RuntimeError("cannot make this message")
        return compose_alone(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(notifications, "_drafts", fails_for_the_second)

    with pytest.raises(RuntimeError, match="cannot make this message"):
        dispatcher.run_round()

    assert inbox.subjects() == [f"Order {ids[0]} accepted"]
    monkeypatch.undo()
    dispatcher.run_round()
    assert inbox.subjects() == [f"Order {i} accepted" for i in ids]  # the first not twice
