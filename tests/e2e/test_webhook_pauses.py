"""Pausing a webhook subscription over the API: nothing is delivered while it is paused,
nothing is lost, and resuming delivers what waited; replaying its past events; rotating
its secret."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from potok.db.tables import outbox_events
from potok.domain.kernel import Actor
from potok.services import events
from potok.worker.dispatcher import Dispatcher, new_client
from tests.conftest import LiveServer
from tests.receiver import Receiver


@pytest.fixture
def receiver(live: LiveServer) -> Iterator[Receiver]:
    live.potok.settings.events.allow_private_addresses = True
    started = Receiver().start()
    yield started
    started.stop()
    live.potok.settings.events.allow_private_addresses = False


def deliver(live: LiveServer) -> None:
    with new_client() as client:
        dispatcher = Dispatcher(live.potok, client, name="pause-test")
        for _ in range(10):
            if not dispatcher.run_round().busy:
                return


def a_channel(api: httpx.Client, code: str) -> None:
    """A change that makes events of its own (channel.created)."""
    body = {"code": code, "name": code, "type": "web"}
    answer = api.post("/api/v1/channels", json=body)
    assert answer.status_code == 201, answer.text


def test_a_paused_subscription_keeps_its_events_until_resumed(
    live: LiveServer, api: httpx.Client, receiver: Receiver
) -> None:
    made = api.post(
        "/api/v1/webhook-subscriptions",
        json={"url": receiver.url, "event_types": ["channel.created"]},
        headers={"Idempotency-Key": "pause-1"},
    )
    assert made.status_code == 201, made.text
    number = made.json()["subscription"]["id"]
    a_channel(api, "one")
    deliver(live)
    assert len(receiver.received) == 1

    paused = api.post(f"/api/v1/webhook-subscriptions/{number}/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused_at"] is not None
    assert paused.json()["paused_by"].startswith("api_key:")
    again = api.post(f"/api/v1/webhook-subscriptions/{number}/pause")
    assert again.json()["paused_at"] == paused.json()["paused_at"]  # already paused: unchanged
    a_channel(api, "two")
    a_channel(api, "three")
    deliver(live)
    assert len(receiver.received) == 1  # nothing goes out while paused

    resumed = api.post(f"/api/v1/webhook-subscriptions/{number}/resumption")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["paused_at"] is None
    deliver(live)
    codes = [r.event["data"]["code"] for r in receiver.received]
    assert codes[0] == "one"
    assert sorted(codes[1:]) == ["three", "two"]  # what waited (in order per aggregate)


def test_pausing_an_unknown_subscription_is_not_found(api: httpx.Client) -> None:
    for action in ("pause", "resumption"):
        answer = api.post(f"/api/v1/webhook-subscriptions/999/{action}")
        assert answer.status_code == 404
        assert answer.json()["code"] == "webhook-subscription-not-found"


def test_pausing_and_resuming_are_in_the_audit_trail(live: LiveServer, receiver: Receiver) -> None:
    made = events.subscribe(
        live.potok.uow(), receiver.url, ["*"], Actor.system("tests"), allow_private=True
    )
    number = made.subscription.id
    events.pause_subscription(live.potok.uow(), number, Actor.system("tests"))
    events.resume_subscription(live.potok.uow(), number)
    query = sa.select(outbox_events.c.type).where(outbox_events.c.aggregate_type == "webhook")
    with live.potok.engine.connect() as connection:
        logged = list(connection.execute(query.order_by(outbox_events.c.id)).scalars())
    assert logged == ["webhook.subscribed", "webhook.paused", "webhook.resumed"]


def test_a_replay_over_the_api_delivers_past_events_again(
    live: LiveServer, api: httpx.Client, receiver: Receiver
) -> None:
    made = api.post(
        "/api/v1/webhook-subscriptions",
        json={"url": receiver.url, "event_types": ["channel.created"]},
        headers={"Idempotency-Key": "replay-sub-1"},
    )
    number = made.json()["subscription"]["id"]
    a_channel(api, "r1")
    a_channel(api, "r2")
    deliver(live)
    first = sorted(int(r.event["sequence"]) for r in receiver.received)
    assert len(first) == 2

    body = {"from_sequence": str(first[0])}
    url = f"/api/v1/webhook-subscriptions/{number}/replays"
    replayed = api.post(url, json=body, headers={"Idempotency-Key": "replay-1"})
    assert replayed.status_code == 201, replayed.text
    assert replayed.json()["from_sequence"] == str(first[0])
    assert replayed.json()["to_sequence"] == str(first[1])
    again = api.post(url, json=body, headers={"Idempotency-Key": "replay-1"})
    assert again.json()["id"] == replayed.json()["id"]  # a retry makes no second replay
    assert api.get(f"/api/v1/webhook-subscriptions/{number}").json()["replaying"] is True
    deliver(live)

    assert sorted(int(r.event["sequence"]) for r in receiver.received[2:]) == first
    (listed,) = api.get(url).json()
    assert listed["finished_at"] is not None
    log = api.get(f"/api/v1/webhook-subscriptions/{number}/deliveries").json()["items"]
    assert [d["replay_id"] for d in log[:2]] == [listed["id"]] * 2

    both = api.post(url, json={"from_sequence": "1", "since": "2026-01-01T00:00:00Z"})
    assert both.status_code == 422
    nothing = api.post(url, json={"event_id": "no-such-event"})
    assert nothing.status_code == 422
    assert nothing.json()["code"] == "nothing-to-replay"
    unknown = api.post("/api/v1/webhook-subscriptions/999/replays", json=body)
    assert unknown.json()["code"] == "webhook-subscription-not-found"


def test_rotating_the_secret_over_the_api_signs_with_both_for_a_while(
    live: LiveServer, api: httpx.Client, receiver: Receiver
) -> None:
    made = api.post(
        "/api/v1/webhook-subscriptions",
        json={"url": receiver.url, "event_types": ["channel.created"], "channels": ["rot1"]},
    )
    assert made.status_code == 422  # no channel rot1 yet: the filter must name real ones
    assert made.json()["errors"][0]["field"] == "channels[0]"
    made = api.post(
        "/api/v1/webhook-subscriptions",
        json={"url": receiver.url, "event_types": ["channel.created"]},
    )
    number, old = made.json()["subscription"]["id"], made.json()["secret"]
    url = f"/api/v1/webhook-subscriptions/{number}/secret-rotation"
    rotated = api.post(url, json={"keep_old_for_s": 600}, headers={"Idempotency-Key": "rot-1"})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    repeat = api.post(url, json={"keep_old_for_s": 600}, headers={"Idempotency-Key": "rot-1"})
    assert repeat.json()["secret"] == new  # a retry rotates nothing more
    shown = api.get(f"/api/v1/webhook-subscriptions/{number}").json()
    assert shown["old_secret_until"] == rotated.json()["old_secret_until"]
    assert api.post(url, json={"keep_old_for_s": 10**9}).status_code == 422

    a_channel(api, "rot1")
    deliver(live)
    (got,) = receiver.received
    assert Webhook(old).verify(got.body, got.headers)["type"] == "channel.created"
    assert Webhook(new).verify(got.body, got.headers)["type"] == "channel.created"
