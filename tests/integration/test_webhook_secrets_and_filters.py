"""Rotating a subscription's signing secret (both secrets sign during the grace period,
checked with the Standard Webhooks library) and filtering a subscription by channel and by
warehouse - on both databases, against a real receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from potok.bootstrap import Potok
from potok.db.tables import outbox_events
from potok.domain.errors import InvalidInput
from potok.domain.kernel import Actor
from potok.domain.webhooks import SubscriptionNotFound
from potok.services import events, intake
from potok.worker.dispatcher import Dispatcher, new_client
from tests.factories import TESTER, build_world, order_command
from tests.integration.test_event_delivery import emit
from tests.receiver import Receiver

ADMIN = Actor.system("tests")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def dispatcher(potok: Potok) -> Iterator[Dispatcher]:
    settings = potok.settings.events
    settings.allow_private_addresses = True
    settings.backoff_s = 0.01
    settings.backoff_max_s = 0.05
    with new_client() as client:
        yield Dispatcher(potok, client, name="tests")


def drain(dispatcher: Dispatcher) -> None:
    for _ in range(50):
        if not dispatcher.run_round().busy:
            return
    raise AssertionError("the dispatcher was still busy")


# ---------------------------------------------------------------------- rotation


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new_one(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    number = made.subscription.id
    old = made.secret

    rotated = events.rotate_secret(potok.uow(), number, keep_old_for=timedelta(hours=1))
    assert rotated.secret.startswith("whsec_")
    assert rotated.secret != old
    assert rotated.subscription.old_secret_until == rotated.old_secret_until
    emit(potok, 1, 1)
    drain(dispatcher)
    (during,) = receiver.wait_for(1)
    assert len(during.headers["webhook-signature"].split()) == 2
    assert Webhook(old).verify(during.body, during.headers)["subject"] == "order/1"
    assert Webhook(rotated.secret).verify(during.body, during.headers)["subject"] == "order/1"

    again = events.rotate_secret(potok.uow(), number, keep_old_for=timedelta(0))
    emit(potok, 1, 1, start=1)
    drain(dispatcher)
    after = receiver.wait_for(2)[1]
    assert len(after.headers["webhook-signature"].split()) == 1
    Webhook(again.secret).verify(after.body, after.headers)
    for stale in (old, rotated.secret):
        with pytest.raises(WebhookVerificationError):
            Webhook(stale).verify(after.body, after.headers)

    with potok.engine.connect() as look:
        logged = look.execute(
            sa.select(outbox_events.c.type, outbox_events.c.payload)
            .where(outbox_events.c.aggregate_type == "webhook")
            .order_by(outbox_events.c.id)
        ).all()
    assert [t for t, _ in logged] == [
        "webhook.subscribed",
        "webhook.secret_rotated",
        "webhook.secret_rotated",
    ]
    assert not any("whsec_" in str(payload) for _, payload in logged)  # never the secrets
    with pytest.raises(SubscriptionNotFound):
        events.rotate_secret(potok.uow(), 999, keep_old_for=timedelta(0))


# ---------------------------------------------------------------------- filters


def test_a_channel_filter_and_a_warehouse_filter_each_take_only_their_events(
    potok: Potok, dispatcher: Dispatcher
) -> None:
    build_world(potok, stock={("MSK", "KET"): 5, ("SPB", "MUG"): 5})
    events.sequence_events(potok.uow(), 1000)  # the receipts: before the subscriptions
    web_only, spb_only, both = Receiver().start(), Receiver().start(), Receiver().start()
    try:
        types = ["order.created", "stock.*"]
        events.subscribe(
            potok.uow(), web_only.url, types, ADMIN, channels=["web"], allow_private=True
        )
        events.subscribe(
            potok.uow(), spb_only.url, types, ADMIN, warehouses=["SPB"], allow_private=True
        )
        events.subscribe(
            potok.uow(),
            both.url,
            types,
            ADMIN,
            channels=["web"],
            warehouses=["SPB"],
            allow_private=True,
        )
        web = intake.place_order(potok.uow(), order_command([("KET", 1)]), TESTER)
        phone = intake.place_order(
            potok.uow(), order_command([("MUG", 1)], channel="phone", to=None), TESTER
        )
        drain(dispatcher)

        def seen(receiver: Receiver) -> list[tuple[str, str]]:
            return sorted((r.event["type"], r.event["subject"]) for r in receiver.received)

        assert seen(web_only) == [
            ("order.created", f"order/{web.order.id}"),
            ("stock.reserved", f"stock/{web.order.id}"),
        ]
        assert seen(spb_only) == [
            ("order.created", f"order/{phone.order.id}"),
            ("stock.reserved", f"stock/{phone.order.id}"),
        ]
        assert seen(both) == []  # the web order's stock is at MSK
        listed = {
            tuple(s.channels) + tuple(s.warehouses) for s in events.list_subscriptions(potok.uow())
        }
        assert listed == {("web",), ("SPB",), ("web", "SPB")}
    finally:
        for receiver in (web_only, spb_only, both):
            receiver.stop()


def test_a_filter_naming_an_unknown_channel_or_warehouse_is_refused(potok: Potok) -> None:
    build_world(potok)
    with pytest.raises(InvalidInput) as refused:
        events.subscribe(
            potok.uow(),
            "http://127.0.0.1:9/",
            ["*"],
            ADMIN,
            channels=["web", "nope"],
            warehouses=["MARS"],
            allow_private=True,
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("channels[1]", "unknown-channel"),
        ("warehouses[0]", "unknown-warehouse"),
    ]
    assert events.list_subscriptions(potok.uow()) == []
