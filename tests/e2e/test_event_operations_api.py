"""Operating the events over HTTP: a subscription's filters changed after subscribing
(checked as when subscribing, kept in the audit trail, followed from the next event), and
the readers of the outbox listed and a stuck one forgotten by an administrator so that
retention goes on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from potok.db.tables import outbox_events
from potok.domain.access import Role
from potok.services import events, intake
from potok.services.events import prune_delivered
from potok.worker.dispatcher import Dispatcher, new_client
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world, order_command
from tests.integration.test_event_delivery import emit
from tests.problems import field_codes, problem
from tests.receiver import Receiver

SUBSCRIPTIONS = "/api/v1/webhook-subscriptions"
READERS = "/api/v1/event-readers"


def drain(dispatcher: Dispatcher) -> None:
    for _ in range(50):
        if not dispatcher.run_round().busy:
            return
    raise AssertionError("the dispatcher was still busy")


def test_a_subscription_s_filters_change_after_subscribing(
    live: LiveServer, api: httpx.Client
) -> None:
    settings = live.potok.settings.events
    settings.allow_private_addresses = True
    build_world(live.potok, stock={("MSK", "KET"): 5, ("SPB", "MUG"): 5})
    events.sequence_events(live.potok.uow(), 1000)
    receiver = Receiver().start()
    try:
        made = api.post(
            SUBSCRIPTIONS,
            json={"url": receiver.url, "event_types": ["order.created"], "channels": ["web"]},
        )
        assert made.status_code == 201, made.text
        number = made.json()["subscription"]["id"]
        path = f"{SUBSCRIPTIONS}/{number}"

        # checked as when subscribing, each wrong field named; nothing changes
        wrong = problem(
            api.patch(path, json={"event_types": ["no.pe"], "channels": ["web", "mars"]}),
            422,
            "invalid-input",
        )
        assert field_codes(wrong) == {"event_types[0]": "unknown-event-type"}
        wrong = problem(
            api.patch(path, json={"channels": ["web", "mars"], "warehouses": ["ZZZ"]}),
            422,
            "invalid-input",
        )
        assert field_codes(wrong) == {
            "channels[1]": "unknown-channel",
            "warehouses[0]": "unknown-warehouse",
        }
        problem(api.patch(path, json={"event_types": []}), 422, "invalid-input")
        problem(
            api.patch(f"{SUBSCRIPTIONS}/999999", json={}), 404, "webhook-subscription-not-found"
        )
        assert api.get(path).json()["event_types"] == ["order.created"]

        web = intake.place_order(live.potok.uow(), order_command([("KET", 1)]), TESTER)
        with new_client() as client:
            dispatcher = Dispatcher(live.potok, client, name="patch-test")
            drain(dispatcher)
            assert [(r.event["type"], r.event["subject"]) for r in receiver.received] == [
                ("order.created", f"order/{web.order.id}")
            ]

            # from now on: stock at SPB only, of any channel
            changed = api.patch(
                path, json={"event_types": ["stock.*"], "channels": [], "warehouses": ["SPB"]}
            )
            assert changed.status_code == 200, changed.text
            body = changed.json()
            assert (body["event_types"], body["channels"], body["warehouses"]) == (
                ["stock.*"],
                [],
                ["SPB"],
            )
            kept = api.patch(path, json={})  # nothing named: nothing changes
            assert kept.json()["event_types"] == ["stock.*"]

            intake.place_order(live.potok.uow(), order_command([("KET", 1)]), TESTER)
            phone = intake.place_order(
                live.potok.uow(), order_command([("MUG", 1)], channel="phone", to=None), TESTER
            )
            drain(dispatcher)
        assert [(r.event["type"], r.event["subject"]) for r in receiver.received[1:]] == [
            ("stock.reserved", f"stock/{phone.order.id}")
        ]

        make_user(live.potok, "ada", Role.ADMIN)
        trail = sign_in(live.url, "ada").request(
            "GET", "/api/v1/audit", params={"action": "webhook.filters_changed"}
        )
        assert trail.status_code == 200, trail.text
        (entry,) = trail.json()["items"]  # one change: the empty one left no trace
        assert (entry["entity_type"], entry["entity_id"]) == ("webhook", str(number))
        assert entry["actor"] == "api_key:tests"
        assert entry["before"] == {
            "event_types": ["order.created"],
            "channels": ["web"],
            "warehouses": [],
        }
        assert entry["after"] == {
            "event_types": ["stock.*"],
            "channels": [],
            "warehouses": ["SPB"],
        }
    finally:
        receiver.stop()
        settings.allow_private_addresses = False


def test_an_administrator_forgets_a_reader_that_no_longer_moves(
    live: LiveServer, api: httpx.Client
) -> None:
    settings = live.potok.settings.events
    make_user(live.potok, "ada", Role.ADMIN)
    make_user(live.potok, "max", Role.MANAGER)
    admin, manager = sign_in(live.url, "ada"), sign_in(live.url, "max")
    emit(live.potok, 1, 2)
    try:
        with new_client() as client:
            dispatcher = Dispatcher(live.potok, client, name="readers-test")
            settings.nats_url = "nats://127.0.0.1:1"  # the stream is on; its server is away
            drain(dispatcher)
            emit(live.potok, 1, 3, start=2)
            dispatcher.run_round()
            dispatcher.close()
            settings.nats_url = None  # ... and then turned off for good
            drain(dispatcher)
    finally:
        settings.nats_url = None

    listed = manager.request("GET", READERS)
    assert listed.status_code == 200, listed.text
    readers = listed.json()
    assert readers[0]["name"] == "nats"  # the slowest first
    assert (readers[0]["behind"], readers[0]["holds_retention"]) == (3, True)
    assert readers[0]["failed_attempts"] == 1
    assert all(not r["holds_retention"] and r["behind"] == 0 for r in readers[1:])
    assert {r["name"] for r in readers} >= {"nats", "reaction:refresh_order_facts"}

    # managers and API keys see the readers, only administrators forget one
    problem(manager.request("DELETE", f"{READERS}/nats"), 403, "forbidden")
    problem(api.delete(f"{READERS}/nats"), 403, "forbidden")
    problem(
        admin.request("DELETE", f"{READERS}/marketplace-stock/gone"), 404, "event-reader-not-found"
    )
    problem(admin.request("DELETE", f"{READERS}/bad name"), 422, "invalid-input")

    later = datetime.now(UTC) + timedelta(days=2)
    held = prune_delivered(
        live.potok.uow(), keep_events=timedelta(days=1), keep_log=None, clock=lambda: later
    )
    assert held.events == int(readers[0]["position"])  # up to the stuck reader's cursor

    forgotten = admin.request("DELETE", f"{READERS}/nats", params={"reason": "NATS retired"})
    assert forgotten.status_code == 200, forgotten.text
    assert (forgotten.json()["name"], forgotten.json()["behind"]) == ("nats", 3)
    assert "nats" not in {r["name"] for r in admin.request("GET", READERS).json()}
    problem(admin.request("DELETE", f"{READERS}/nats"), 404, "event-reader-not-found")

    pruned = prune_delivered(
        live.potok.uow(), keep_events=timedelta(days=1), keep_log=None, clock=lambda: later
    )
    assert pruned.events == 2  # all but the newest now
    with live.potok.engine.connect() as look:
        placed = look.execute(
            sa.select(sa.func.count()).where(outbox_events.c.position.is_not(None))
        ).scalar_one()
    assert placed == 1

    trail = admin.request(
        "GET", "/api/v1/audit", params={"action": "webhook.reader_forgotten"}
    ).json()["items"]
    assert [(e["actor"], e["entity_id"]) for e in trail] == [("user:ada", "nats")]
    assert trail[0]["after"]["reason"] == "NATS retired"
    assert trail[0]["after"]["behind"] == 3
