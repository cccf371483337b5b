"""Automation rules on a schedule and the rules' calls outward: a schedule rule acts on
the open orders its condition holds for, once per order and version, at most once per
run across processes (its run claimed by compare-and-set, raced here by two real
connections); a rule's ``notify`` reaches the customer through a real SMTP server and its
``webhook`` the one subscription it names, both after the commit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from potok.bootstrap import Potok
from potok.connectors.messaging import SmtpSender
from potok.domain.automation import RuleDraft
from potok.domain.errors import InvalidInput
from potok.domain.kernel import Actor
from potok.domain.notifications import Language
from potok.domain.orders import HoldType, OrderStatus
from potok.domain.orders.commands import CancelOrder
from potok.services import events, orders
from potok.services.automation import rules
from potok.services.automation.schedules import run_scheduled_rules
from potok.services.intake import Placement, place_order
from potok.services.notifications import NotificationPolicy
from potok.services.unit_of_work import UnitOfWork, atomically, reading
from potok.worker.dispatcher import Dispatcher, new_client
from potok.worker.notifier import Notifier
from tests.factories import TESTER, build_world, order_command
from tests.receiver import Receiver
from tests.smtp import smtp_server

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

LATE = RuleDraft(
    name="Unconfirmed for a day",
    trigger="schedule",
    condition='age_hours >= 24 and not ("late" in tags)',
    actions=[
        {"do": "add_tag", "tag": "late"},
        {"do": "hold", "hold_type": "manual", "reason": "nobody confirmed it"},
    ],
    every_minutes=30,
)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def place(potok: Potok, at: datetime, **extra: Any) -> int:
    placed = place_order(
        potok.uow(), order_command([("MUG", 1)], **extra), TESTER, clock=lambda: at
    )
    assert isinstance(placed, Placement)
    assert placed.order.id is not None
    return placed.order.id


def test_a_schedule_rule_acts_on_the_open_orders_it_holds_for_once_each(potok: Potok) -> None:
    build_world(potok, {("MSK", "MUG"): 10})
    rule = rules.add_rule(potok.uow(), LATE, TESTER)
    old = place(potok, T0)
    young = place(potok, T0 + timedelta(hours=6))
    gone = place(potok, T0)
    orders.cancel_order(potok.uow(), CancelOrder(gone, "changed their mind"), TESTER)
    clock = Clock(T0 + timedelta(hours=25))

    first = run_scheduled_rules(potok.uow(), clock=clock)
    not_yet = run_scheduled_rules(potok.uow(), clock=clock)  # its next run is 30 minutes on

    assert first.rules == [rule.id]
    assert first.looked_at == 2  # the cancelled order is not looked at
    assert not_yet.rules == []
    held = orders.get_order(potok.uow(), old)
    assert [h.type for h in held.order.active_holds] == [HoldType.MANUAL]
    assert held.order.status is OrderStatus.ON_HOLD
    fired = [e for e in held.history if e.action == "rule_fired"]
    assert [e.reason for e in fired] == [
        f"rule {rule.id} v1 'Unconfirmed for a day' matched on schedule"
    ]
    assert orders.get_order(potok.uow(), young).order.active_holds == []

    # the next runs: the young order a day old at the second of them; the old one is not
    # acted on again (once per order and version)
    clock.moment += timedelta(minutes=30)
    later = run_scheduled_rules(potok.uow(), clock=clock)
    clock.moment += timedelta(hours=5)
    again = run_scheduled_rules(potok.uow(), clock=clock)

    assert (later.rules, again.rules) == ([rule.id], [rule.id])
    assert rules.order_firings(potok.uow(), young)[0].fired_at == clock.moment
    assert [f.rule_id for f in rules.order_firings(potok.uow(), young)] == [rule.id]
    assert [f.rule_id for f in rules.order_firings(potok.uow(), old)] == [rule.id]
    assert rules.order_firings(potok.uow(), gone) == []


def test_a_schedule_is_claimed_by_one_process_only(potok: Potok) -> None:
    """Two processes read the same due schedule and both try to claim it at once, on two
    real connections: one wins. (With the compare-and-set's condition on the moment read
    taken out of ``claim_schedule``, both win and the rule runs twice.)"""
    build_world(potok, {("MSK", "MUG"): 10})
    rule = rules.add_rule(potok.uow(), LATE, TESTER)
    due = reading(potok.uow(), lambda uow: uow.automation.due_schedules(T0))
    assert [(r.id, was) for r, was in due] == [(rule.id, None)]
    ready = threading.Barrier(2)
    won: list[bool] = []

    def claim(next_run: datetime) -> None:
        def work(uow: UnitOfWork) -> bool:
            return uow.automation.claim_schedule(rule.id, rule.version, None, next_run)

        ready.wait(timeout=10)  # both read the schedule as due; now both claim it
        won.append(atomically(potok.uow(), work))

    racers = [threading.Thread(target=claim, args=(T0 + timedelta(minutes=m),)) for m in (30, 31)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=30)
    assert sorted(won) == [False, True]
    assert reading(potok.uow(), lambda uow: uow.automation.due_schedules(T0)) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_schedule_rule_is_refused_without_its_interval_and_an_event_rule_with_one(
    potok: Potok,
) -> None:
    build_world(potok)
    cases = [
        (RuleDraft("a", "schedule", "true", [{"do": "add_tag", "tag": "x"}]), "required"),
        (
            RuleDraft("b", "schedule", "true", [{"do": "add_tag", "tag": "x"}], every_minutes=1),
            "out-of-range",
        ),
        (
            RuleDraft(
                "c", "order.created", "true", [{"do": "add_tag", "tag": "x"}], every_minutes=30
            ),
            "not-on-trigger",
        ),
        (
            RuleDraft("d", "order.created", "true", [{"do": "notify", "template": "hello"}]),
            "unknown-template",
        ),
        (
            RuleDraft("e", "order.created", "true", [{"do": "webhook", "subscription": 99}]),
            "unknown-subscription",
        ),
    ]
    for draft, code in cases:
        with pytest.raises(InvalidInput) as refused:
            rules.add_rule(potok.uow(), draft, TESTER)
        assert [e.code for e in refused.value.errors] == [code], draft.name


# ---------------------------------------------------------------------- notify and webhook


@pytest.fixture
def outward(potok: Potok) -> Iterator[tuple[Any, Receiver, Dispatcher]]:
    settings = potok.settings.events
    settings.allow_private_addresses = True
    settings.backoff_s = 0.01
    settings.backoff_max_s = 0.05
    receiver = Receiver().start()
    with smtp_server() as (inbox, port), new_client() as client:
        notifier = Notifier(
            SmtpSender("127.0.0.1", port, sender="Shop <shop@example.ru>"),
            NotificationPolicy(language=Language.EN, shop="Example shop"),
            max_attempts=3,
            backoff_s=60,
            backoff_max_s=600,
        )
        dispatcher = Dispatcher(potok, client, name="outward", notifier=notifier)
        dispatcher.run_round()  # the notifications cursor starts at the end of the outbox
        yield inbox, receiver, dispatcher
    receiver.stop()


def drain(dispatcher: Dispatcher) -> None:
    for _ in range(50):
        if not dispatcher.run_round().busy:
            return
    raise AssertionError("the dispatcher was still busy")


def test_a_rule_tells_the_customer_and_calls_the_webhook_it_names_after_the_commit(
    potok: Potok, outward: tuple[Any, Receiver, Dispatcher]
) -> None:
    inbox, receiver, dispatcher = outward
    build_world(potok, {("MSK", "MUG"): 10})
    admin = Actor.system("tests")
    named = events.subscribe(
        potok.uow(), receiver.url + "/named", ["stock.*"], admin, allow_private=True
    )
    other = events.subscribe(
        potok.uow(), receiver.url + "/other", ["order.*"], admin, allow_private=True
    )
    rule = rules.add_rule(
        potok.uow(),
        RuleDraft(
            "Tell and call",
            "order.created",
            "total > 0",
            [
                {"do": "add_tag", "tag": "told"},
                {"do": "notify", "template": "order_confirmed"},
                {"do": "webhook", "subscription": named.subscription.id},
            ],
        ),
        TESTER,
    )
    order_id = place(
        potok, datetime.now(UTC), customer_name="Anna", customer_email="anna@example.ru"
    )
    drain(dispatcher)
    drain(dispatcher)

    assert sorted(inbox.subjects()) == sorted(
        [f"Order {order_id} accepted", f"Order {order_id} confirmed"]
    )
    to_named = [r.event for r in receiver.received if r.path == "/hooks/named"]
    called = [e for e in to_named if e["type"] == "order.webhook_requested"]
    assert [(e["data"]["rule_id"], e["data"]["order_id"], e["data"]["tags"]) for e in called] == [
        (rule.id, order_id, ["told"])
    ]
    assert {e["type"] for e in to_named} == {"order.webhook_requested", "stock.reserved"}
    to_other = [r.event["type"] for r in receiver.received if r.path == "/hooks/other"]
    assert "order.webhook_requested" not in to_other  # it takes order.*, but was not named
    assert "order.created" in to_other
    assert other.subscription.id != named.subscription.id
    drain(dispatcher)
    assert len(inbox.messages) == 2  # nothing twice
