"""SMS and messenger messages through the generic HTTP provider, received by a real HTTP
server standing in for it: the body in the provider's own shape with its credential, the
customer's chosen media respected (SMS, e-mail, both or none), a refusing provider tried
again without the e-mail going twice, phone opt-outs, an administrator's SMS template, and
numbers masked in the log."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from potok.bootstrap import Potok
from potok.connectors.messaging import HttpSender, SmtpSender
from potok.domain.notifications import Language, Medium, Topic
from potok.services import notification_templates, notifications
from potok.services.intake import Placement, place_order
from potok.services.notifications import NotificationPolicy
from potok.worker.dispatcher import Dispatcher, new_client
from potok.worker.notifier import Notifier
from tests.factories import TESTER, build_world, order_command
from tests.integration.test_returns import T0, Clock
from tests.receiver import Receiver
from tests.smtp import Inbox, smtp_server

CUSTOMER = {
    "customer_name": "Anna Smirnova",
    "customer_email": "anna@example.ru",
    "customer_phone": "8 (916) 123-45-67",
}
BODY = (
    '{"messages": [{"recipient": "{to}", "text": "{text}", "ref": "{message_id}"}],'
    ' "from": "{sender}", "kind": "{topic}/{language}"}'
)


@pytest.fixture
def provider() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def both(potok: Potok, provider: Receiver) -> Iterator[tuple[Inbox, Dispatcher, Clock]]:
    clock = Clock(T0)
    with smtp_server() as (inbox, port), new_client() as client:
        notifier = Notifier(
            SmtpSender("127.0.0.1", port, sender="shop@example.ru"),
            NotificationPolicy(language=Language.RU, shop="Shop"),
            max_attempts=3,
            backoff_s=60,
            backoff_max_s=600,
            more=(
                HttpSender(
                    provider.url,
                    body_template=BODY,
                    sender="SHOP",
                    auth_header="X-Api-Key",
                    auth_value="k-123",
                    client=client,
                ),
            ),
        )
        dispatcher = Dispatcher(potok, client, name="sms", clock=clock, notifier=notifier)
        dispatcher.run_round()
        yield inbox, dispatcher, clock


def _order(potok: Potok, **contact: str) -> tuple[int, int]:
    placed = place_order(potok.uow(), order_command([("KET", 1)], **contact), TESTER)
    assert isinstance(placed, Placement)
    assert placed.order.id is not None
    assert placed.order.customer_id is not None
    return placed.order.id, placed.order.customer_id


def test_a_customer_who_chose_sms_and_email_gets_both_and_a_refusal_is_retried(
    potok: Potok, provider: Receiver, both: tuple[Inbox, Dispatcher, Clock]
) -> None:
    inbox, dispatcher, clock = both
    build_world(potok, {("MSK", "KET"): 5})
    order_id, customer_id = _order(potok, **CUSTOMER)
    assert notifications.set_preference(potok.uow(), customer_id, ["sms", "email"], TESTER) == (
        "email",
        "sms",
    )
    provider.fail_next = 1
    assert dispatcher.run_round().notify_failed == 1
    assert len(inbox.messages) == 1  # the e-mail went; the SMS waits for its retry
    clock.moment = T0 + timedelta(minutes=5)
    dispatcher.run_round()
    assert len(inbox.messages) == 1  # not sent twice
    (sms,) = provider.received
    assert sms.headers["x-api-key"] == "k-123"
    assert sms.headers["content-type"] == "application/json"
    body = json.loads(sms.body)
    (one,) = body.pop("messages")
    assert body == {"from": "SHOP", "kind": "order_accepted/ru"}
    assert one["recipient"] == "+79161234567"
    assert re.fullmatch(rf"Shop: заказ {order_id} принят, \d+\.\d\d RUB\.", one["text"]), one
    assert one["ref"] == provider.refused[0].event["messages"][0]["ref"]  # the same message

    sent, _ = notifications.list_sent(potok.uow(), order_id=order_id)
    assert [(r.medium, r.outcome, r.attempt, r.recipient) for r in sent] == [
        ("sms", "sent", 2, "+7916*****67"),
        ("sms", "failed", 1, "+7916*****67"),
        ("email", "sent", 1, "a***@example.ru"),
    ]
    assert "503" in (sent[1].error or "")
    assert "79161234567" not in (sent[1].error or "")


def test_the_shops_default_media_and_the_customers_choices_and_opt_outs(
    potok: Potok, provider: Receiver, both: tuple[Inbox, Dispatcher, Clock]
) -> None:
    inbox, dispatcher, _ = both
    build_world(potok, {("MSK", "KET"): 5})
    _order(potok, **CUSTOMER)  # no choice made: the shop's default, e-mail
    dispatcher.run_round()
    assert (len(inbox.messages), len(provider.received)) == (1, 0)

    _, customer_id = _order(potok, **CUSTOMER)
    notifications.set_preference(potok.uow(), customer_id, ["sms"], TESTER)
    dispatcher.run_round()
    assert (len(inbox.messages), len(provider.received)) == (1, 1)

    assert notifications.opt_out(potok.uow(), "+7 916 123 45 67", TESTER)
    order_id, _ = _order(potok, **CUSTOMER)
    dispatcher.run_round()
    assert (len(inbox.messages), len(provider.received)) == (1, 1)
    (skipped,), _ = notifications.list_sent(potok.uow(), order_id=order_id)
    assert (skipped.medium, skipped.outcome, skipped.error) == (
        "sms",
        "skipped",
        "the customer opted out",
    )

    notifications.set_preference(potok.uow(), customer_id, [], TESTER)
    order_id, _ = _order(potok, **CUSTOMER)
    dispatcher.run_round()
    (none,), _ = notifications.list_sent(potok.uow(), order_id=order_id)
    assert none.error == "the customer asked for no messages"


def test_an_administrators_sms_template_is_what_the_provider_receives(
    potok: Potok, provider: Receiver, both: tuple[Inbox, Dispatcher, Clock]
) -> None:
    _, dispatcher, _ = both
    build_world(potok, {("MSK", "KET"): 5})
    notification_templates.save_template(
        potok.uow(),
        Topic.ORDER_ACCEPTED,
        Language.RU,
        Medium.SMS,
        '{{ first_name }}, заказ {{ order_id }} у нас. "Спасибо"\n{{ tracking_url }}',
        TESTER,
    )
    order_id, customer_id = _order(potok, **CUSTOMER)
    notifications.set_preference(potok.uow(), customer_id, ["sms"], TESTER)
    dispatcher.run_round()
    (sms,) = provider.received
    assert json.loads(sms.body)["messages"][0]["text"] == (
        f'Anna, заказ {order_id} у нас. "Спасибо"'
    )
