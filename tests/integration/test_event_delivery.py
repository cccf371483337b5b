"""Events leave Potok: in commit order on the change feed, and signed to webhook receivers,
in order, surviving receiver outages, with retries and dead letters - on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from potok.bootstrap import Potok
from potok.db.tables import event_consumers, outbox_events
from potok.domain.errors import InvalidInput
from potok.domain.kernel import Actor
from potok.domain.orders.events import OrderStatusChanged
from potok.domain.webhooks import DeliveryOutcome, cloud_event
from potok.services import events
from potok.worker.dispatcher import Dispatcher, Round, new_client
from tests.conftest import LiveServer, key_for
from tests.factories import build_world
from tests.receiver import Receiver

ADMIN = Actor.system("tests")


def emit(potok: Potok, order_id: int, count: int, start: int = 0) -> None:
    """``count`` status changes of one order, each committed on its own."""
    for n in range(start, start + count):
        uow = potok.uow()
        with uow:
            uow.record(
                OrderStatusChanged(
                    occurred_at=datetime.now(UTC),
                    order_id=order_id,
                    from_status=f"s{n}",
                    to_status=f"s{n + 1}",
                    reason=None,
                )
            )
            uow.commit()


def steps(received: list[dict[str, object]], order_id: int) -> list[str]:
    return [
        str(e["data"]["from_status"])  # type: ignore[index]
        for e in received
        if e["subject"] == f"order/{order_id}"
    ]


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


def drain(dispatcher: Dispatcher, rounds: int = 50) -> None:
    """Rounds until one finds nothing to do."""
    for _ in range(rounds):
        if not dispatcher.run_round().busy:
            return
    raise AssertionError("the dispatcher was still busy")


# ---------------------------------------------------------------------- the change feed


def test_the_feed_gives_events_in_commit_order_after_the_cursor(potok: Potok) -> None:
    emit(potok, 7, 3)
    assert events.read_feed(potok.uow(), 0).items == []  # not placed in order yet

    assert events.sequence_events(potok.uow(), 100) == 3
    first = events.read_feed(potok.uow(), 0, limit=2)
    assert [e.payload["from_status"] for e in first.items] == ["s0", "s1"]
    rest = events.read_feed(potok.uow(), first.cursor)
    assert [e.payload["from_status"] for e in rest.items] == ["s2"]
    assert events.read_feed(potok.uow(), rest.cursor).items == []
    assert events.read_feed(potok.uow(), rest.cursor).cursor == rest.cursor

    emit(potok, 8, 1)
    events.sequence_events(potok.uow(), 100)
    (late,) = events.read_feed(potok.uow(), rest.cursor).items
    assert (late.type, late.aggregate_id) == ("order.status_changed", "8")
    assert events.read_feed(potok.uow(), 0, types=["stock.*"]).items == []
    assert len(events.read_feed(potok.uow(), 0, types=["order.*"]).items) == 4


def test_an_unknown_type_in_the_feed_filter_is_refused(potok: Potok) -> None:
    with pytest.raises(InvalidInput) as refused:
        events.read_feed(potok.uow(), 0, types=["order.teleported"])
    assert refused.value.errors[0].code == "unknown-event-type"


def _outbox_row(n: int) -> dict[str, object]:
    return {
        "event_id": f"00000000-0000-0000-0000-00000000000{n}",
        "type": "order.status_changed",
        "aggregate_type": "order",
        "aggregate_id": "1",
        "payload": {"n": n},
        "occurred_at": datetime.now(UTC),
    }


@pytest.mark.parametrize("backend", ["postgresql"])
def test_an_event_committed_late_by_a_slower_transaction_is_not_skipped(
    potok: Potok,
) -> None:
    """Ids are handed out at insert, commits happen later: the slow transaction's event
    has the smaller id but becomes visible second. A reader going by id would have moved
    past it; the feed's cursor goes by the order events became visible."""
    slow = potok.engine.connect()
    fast = potok.engine.connect()
    try:
        slow.begin()
        slow.execute(sa.insert(outbox_events), [_outbox_row(1)])  # the smaller id
        with fast.begin():
            fast.execute(sa.insert(outbox_events), [_outbox_row(2)])

        events.sequence_events(potok.uow(), 100)
        page = events.read_feed(potok.uow(), 0)
        assert [e.payload["n"] for e in page.items] == [2]
        with potok.engine.connect() as look:  # what a reader going by id would keep
            by_id = look.execute(sa.select(sa.func.max(outbox_events.c.id))).scalar_one()
            ids = look.execute(sa.select(outbox_events.c.id).order_by("id")).scalars().all()
        assert ids == [by_id]  # ... and the slow event's id is below it: skipped forever

        slow.commit()
        events.sequence_events(potok.uow(), 100)
        after = events.read_feed(potok.uow(), page.cursor)
        assert [e.payload["n"] for e in after.items] == [1]
        with potok.engine.connect() as look:
            slow_id = look.execute(
                sa.select(outbox_events.c.id).where(outbox_events.c.payload["n"].as_integer() == 1)
            ).scalar_one()
        assert slow_id < by_id
    finally:
        slow.close()
        fast.close()


# ---------------------------------------------------------------------- webhooks


def test_a_receiver_gets_every_event_signed_in_order_as_a_cloud_event(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    assert made.secret.startswith("whsec_")
    emit(potok, 1, 3)
    emit(potok, 2, 2)

    drain(dispatcher)

    got = receiver.wait_for(5)
    verifier = Webhook(made.secret)
    bodies = [verifier.verify(r.body, r.headers) for r in got]  # raises on a bad signature
    assert steps(bodies, 1) == ["s0", "s1", "s2"]
    assert steps(bodies, 2) == ["s0", "s1"]
    first = got[0]
    assert first.headers["content-type"] == "application/cloudevents+json"
    assert first.headers["webhook-id"] == first.event["id"]
    assert first.event["specversion"] == "1.0"
    assert first.event["type"] == "order.status_changed"
    assert first.event["source"] == "urn:potok"
    for subject in ("order/1", "order/2"):  # in commit order per order; orders side by side
        sequence = [int(e["sequence"]) for e in bodies if e["subject"] == subject]
        assert sequence == sorted(sequence)
    tampered = first.body.replace(b"s0", b"s9")
    with pytest.raises(Exception, match="No matching signature"):
        verifier.verify(tampered, first.headers)

    log = events.list_deliveries(potok.uow(), made.subscription.id)
    assert [d.outcome for d in log.items] == [DeliveryOutcome.DELIVERED] * 5
    assert all(d.status_code == 204 for d in log.items)
    assert events.get_subscription(potok.uow(), made.subscription.id).position == max(
        int(e["sequence"]) for e in bodies
    )


def test_events_before_the_subscription_and_of_other_types_are_not_sent(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    emit(potok, 1, 2)
    drain(dispatcher)
    events.subscribe(potok.uow(), receiver.url, ["stock.changed"], ADMIN, allow_private=True)
    emit(potok, 1, 2, start=2)

    drain(dispatcher)

    assert receiver.received == []
    (subscription,) = events.list_subscriptions(potok.uow())
    with potok.engine.connect() as look:
        last = look.execute(sa.select(sa.func.max(outbox_events.c.position))).scalar_one()
    assert subscription.position == last  # passed over, not stuck


def test_a_receiver_outage_delays_deliveries_and_loses_none(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["*"], ADMIN, allow_private=True)
    receiver.fail_next = 3  # three 503s, then healthy again
    emit(potok, 5, 4)

    for _ in range(200):
        dispatcher.run_round()
        if len(receiver.received) == 4:
            break
    got = receiver.wait_for(4)

    assert steps([r.event for r in got], 5) == ["s0", "s1", "s2", "s3"]
    assert len(receiver.refused) == 3
    assert {r.headers["webhook-id"] for r in receiver.refused} == {got[0].event["id"]}
    log = events.list_deliveries(potok.uow(), made.subscription.id, limit=50).items
    assert [(d.attempt, d.outcome) for d in reversed(log)] == [
        (1, DeliveryOutcome.FAILED),
        (2, DeliveryOutcome.FAILED),
        (3, DeliveryOutcome.FAILED),
        (4, DeliveryOutcome.DELIVERED),
        (1, DeliveryOutcome.DELIVERED),
        (1, DeliveryOutcome.DELIVERED),
        (1, DeliveryOutcome.DELIVERED),
    ]
    assert log[-1].status_code == 503
    assert "503" in (log[-1].error or "")


def test_an_order_whose_event_fails_waits_alone_and_the_others_flow(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    receiver.refused_subjects = {"order/1"}
    emit(potok, 1, 2)
    emit(potok, 2, 3)
    emit(potok, 1, 1, start=2)

    for _ in range(5):
        dispatcher.run_round()

    assert steps([r.event for r in receiver.received], 2) == ["s0", "s1", "s2"]
    assert {r.event["subject"] for r in receiver.refused} == {"order/1"}
    assert {r.event["data"]["from_status"] for r in receiver.refused} == {"s0"}  # never s1
    stuck = events.get_subscription(potok.uow(), made.subscription.id)
    first = min(int(r.event["sequence"]) for r in receiver.refused)
    assert stuck.position < first  # the cursor waits before order 1's first event

    receiver.refused_subjects = set()
    for _ in range(200):
        dispatcher.run_round()
        if len(receiver.received) == 6:
            break

    got = receiver.wait_for(6)
    assert steps([r.event for r in got], 1) == ["s0", "s1", "s2"]
    assert len({r.headers["webhook-id"] for r in got}) == 6  # order 2's were not sent again
    log = events.list_deliveries(potok.uow(), made.subscription.id, limit=100).items
    assert {d.outcome for d in log} == {DeliveryOutcome.DELIVERED, DeliveryOutcome.FAILED}
    assert events.get_subscription(potok.uow(), made.subscription.id).position == max(
        int(r.event["sequence"]) for r in got
    )


def test_a_receiver_that_is_down_gets_everything_once_it_is_back(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    receiver.stop()
    emit(potok, 3, 3)
    for _ in range(3):
        dispatcher.run_round()
    (subscription,) = events.list_subscriptions(potok.uow())
    assert subscription.attempts >= 1  # tried, refused at the door, waiting

    receiver.start()  # the same port
    for _ in range(200):
        dispatcher.run_round()
        if len(receiver.received) == 3:
            break

    assert steps([r.event for r in receiver.wait_for(3)], 3) == ["s0", "s1", "s2"]


def test_an_event_that_keeps_failing_becomes_a_dead_letter_and_the_rest_flow(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    potok.settings.events.max_attempts = 3
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    receiver.fail_next = 3
    receiver.fail_status = 500
    emit(potok, 4, 2)

    for _ in range(200):
        dispatcher.run_round()
        if receiver.received:
            break

    assert steps([r.event for r in receiver.wait_for(1)], 4) == ["s1"]
    dead = events.list_deliveries(
        potok.uow(), made.subscription.id, outcome=DeliveryOutcome.DEAD
    ).items
    assert [(d.attempt, d.status_code) for d in dead] == [(3, 500)]
    assert dead[0].event_id == receiver.refused[0].headers["webhook-id"]


def test_a_private_address_or_a_bad_url_is_refused_when_subscribing(potok: Potok) -> None:
    for url, code in [
        ("http://127.0.0.1:9/hooks", "bad-webhook-url"),
        ("http://169.254.169.254/latest/meta-data", "bad-webhook-url"),
        ("http://10.0.0.7/hooks", "bad-webhook-url"),
        ("ftp://example.com/hooks", "bad-webhook-url"),
        ("https://user:pw@example.com/hooks", "bad-webhook-url"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            events.subscribe(potok.uow(), url, ["*"], ADMIN)
        assert [(e.field, e.code) for e in refused.value.errors] == [("url", code)], url
    with pytest.raises(InvalidInput) as refused:
        events.subscribe(
            potok.uow(), "http://127.0.0.1:9/", ["order.*", "nope"], ADMIN, allow_private=True
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("event_types[1]", "unknown-event-type")
    ]
    assert events.list_subscriptions(potok.uow()) == []


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["*"], ADMIN, allow_private=True)
    receiver.fail_next, receiver.fail_status = 1, 307
    emit(potok, 9, 1)

    dispatcher.run_round()

    (attempt,) = events.list_deliveries(potok.uow(), made.subscription.id).items
    assert (attempt.outcome, attempt.status_code) == (DeliveryOutcome.FAILED, 307)


def test_unsubscribing_stops_deliveries(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["*"], ADMIN, allow_private=True)
    events.unsubscribe(potok.uow(), made.subscription.id)
    emit(potok, 1, 2)

    drain(dispatcher)

    assert receiver.received == []
    assert events.list_subscriptions(potok.uow()) == []
    with potok.engine.connect() as look:
        audit = look.execute(
            sa.text("SELECT action FROM audit_log WHERE entity_type = 'webhook' ORDER BY id")
        ).scalars()
        assert list(audit) == ["webhook.subscribed", "webhook.unsubscribed"]


def test_the_feed_and_a_subscription_over_http(live: LiveServer, receiver: Receiver) -> None:
    live.potok.settings.events.allow_private_addresses = True
    headers = {"Authorization": f"Bearer {key_for(live.potok)}"}
    with live.client(headers=headers) as api:
        made = api.post(
            "/api/v1/webhook-subscriptions",
            json={"url": receiver.url, "event_types": ["order.*"]},
            headers={"Idempotency-Key": "sub-1"},
        )
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        subscription_id = made.json()["subscription"]["id"]
        listed = api.get("/api/v1/webhook-subscriptions").json()
        assert [s["id"] for s in listed] == [subscription_id]
        assert "secret" not in listed[0]

        bad = api.post(
            "/api/v1/webhook-subscriptions", json={"url": "http://x", "event_types": ["no.pe"]}
        )
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"url"}

        emit(live.potok, 11, 2)
        events.sequence_events(live.potok.uow(), 100)
        feed = api.get("/api/v1/events", params={"after": "0", "type": "order.*"})
        assert feed.status_code == 200, feed.text
        items = feed.json()["items"]
        assert [i["data"]["from_status"] for i in items] == ["s0", "s1"]
        assert items[0]["subject"] == "order/11"
        cursor = feed.json()["next_cursor"]
        empty = api.get("/api/v1/events", params={"after": cursor, "wait": "0.3"})
        assert empty.json() == {"items": [], "next_cursor": cursor}

        with new_client() as client:
            Dispatcher(live.potok, client, name="http-test").run_round()
        got = receiver.wait_for(2)
        assert [Webhook(secret).verify(r.body, r.headers)["id"] for r in got] == [
            i["id"] for i in items
        ]
        deliveries = api.get(f"/api/v1/webhook-subscriptions/{subscription_id}/deliveries")
        assert [d["outcome"] for d in deliveries.json()["items"]] == ["delivered"] * 2

        assert api.delete(f"/api/v1/webhook-subscriptions/{subscription_id}").status_code == 204
        gone = api.get(f"/api/v1/webhook-subscriptions/{subscription_id}")
        assert gone.status_code == 404
        assert gone.json()["code"] == "webhook-subscription-not-found"

    build_world(live.potok)
    bound = key_for(live.potok, channel="web", name="bound")
    with live.client(headers={"Authorization": f"Bearer {bound}"}) as limited:
        refused = limited.get("/api/v1/events")
        assert refused.status_code == 404
        assert refused.json()["code"] == "out-of-reach"


def test_the_envelope_is_json(potok: Potok) -> None:
    """The body is exactly the JSON document (receivers verify the raw bytes)."""
    emit(potok, 1, 1)
    events.sequence_events(potok.uow(), 10)
    (event,) = events.read_feed(potok.uow(), 0).items

    document = json.loads(json.dumps(cloud_event(event, "urn:x")))
    assert set(document) == {
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "datacontenttype",
        "sequence",
        "data",
    }
    assert document["time"].endswith("Z")


def test_a_subscription_deleted_during_a_round_gets_nothing_more(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["*"], ADMIN, allow_private=True)
    emit(potok, 1, 2)
    events.sequence_events(potok.uow(), 100)
    seen_at_round_start = events.get_subscription(potok.uow(), made.subscription.id)
    events.unsubscribe(potok.uow(), made.subscription.id)

    report = Round()
    dispatcher._serve(seen_at_round_start, report)  # the round's list was read before

    assert receiver.received == receiver.refused == []
    with potok.engine.connect() as look:
        assert look.execute(sa.select(sa.func.count()).select_from(event_consumers)).scalar() == 0
