"""Operators' work: queues give tasks out by their policy, operators claim, release and
complete them - two never get the same task -, late tasks go to the supervisor once, with
an alert; a rule puts risky orders in a queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from potok.bootstrap import Potok
from potok.domain.access import Role
from potok.domain.alerts import AlertKind
from potok.domain.automation import RuleDraft
from potok.domain.errors import InvalidInput
from potok.domain.kernel import Actor
from potok.domain.tasks import NoTaskWaiting, Policy, QueueDraft, TaskState, TaskTaken
from potok.services import alerts, tasks
from potok.services.automation import rules
from tests.auth import make_user
from tests.factories import TESTER, build_world
from tests.integration.test_automation_rules import drain, place
from tests.racing import RACE_LIMIT, race, start_line

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
BOSS = Actor.system("tests")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def staff(potok: Potok, *names: str) -> None:
    for name in names:
        make_user(potok, name, Role.OPERATOR)


def queue(potok: Potok, policy: Policy, members: tuple[str, ...], **extra: object) -> None:
    draft = QueueDraft("fraud", "Fraud review", policy, members, 30, **extra)  # type: ignore[arg-type]
    tasks.put_queue(potok.uow(), draft)


def test_round_robin_gives_each_member_a_task_in_turn(potok: Potok) -> None:
    staff(potok, "anna", "boris", "vera")
    queue(potok, Policy.ROUND_ROBIN, ("anna", "boris", "vera"))
    given = [
        tasks.create_task(potok.uow(), "fraud", None, f"check {n}", BOSS).assignee for n in range(5)
    ]
    assert given == ["anna", "boris", "vera", "anna", "boris"]


def test_least_loaded_gives_the_task_to_whoever_has_least_unfinished_work(
    potok: Potok,
) -> None:
    staff(potok, "anna", "boris")
    queue(potok, Policy.LEAST_LOADED, ("anna", "boris"))
    first = tasks.create_task(potok.uow(), "fraud", None, "one", BOSS)
    second = tasks.create_task(potok.uow(), "fraud", None, "two", BOSS)
    assert (first.assignee, second.assignee) == ("anna", "boris")
    tasks.claim_task(potok.uow(), first.id, "anna")
    tasks.complete_task(potok.uow(), first.id, "anna", "fine")
    third = tasks.create_task(potok.uow(), "fraud", None, "three", BOSS)
    assert third.assignee == "anna"  # anna finished hers; boris still has one


def test_claiming_releasing_and_completing(potok: Potok) -> None:
    staff(potok, "anna", "boris")
    queue(potok, Policy.CLAIM, ("anna", "boris"))
    task = tasks.create_task(potok.uow(), "fraud", None, "look", BOSS)
    assert task.assignee is None

    claimed = tasks.claim_next(potok.uow(), "fraud", "anna")
    assert (claimed.id, claimed.state, claimed.assignee) == (task.id, TaskState.CLAIMED, "anna")
    with pytest.raises(TaskTaken):
        tasks.claim_task(potok.uow(), task.id, "boris")
    with pytest.raises(TaskTaken):
        tasks.complete_task(potok.uow(), task.id, "boris", None)
    with pytest.raises(NoTaskWaiting):
        tasks.claim_next(potok.uow(), "fraud", "boris")

    tasks.release_task(potok.uow(), task.id, "anna")
    done = tasks.claim_task(potok.uow(), task.id, "boris")
    done = tasks.complete_task(potok.uow(), task.id, "boris", "a real buyer")
    assert (done.state, done.assignee, done.note) == (TaskState.DONE, "boris", "a real buyer")
    assert [t.id for t in tasks.list_tasks(potok.uow(), user="boris")] == [task.id]
    assert tasks.list_tasks(potok.uow(), user="anna") == []


def test_a_queue_of_unknown_people_is_refused(potok: Potok) -> None:
    staff(potok, "anna")
    with pytest.raises(InvalidInput) as caught:
        queue(potok, Policy.ROUND_ROBIN, ("anna", "ghost"), supervisor="nobody")
    assert {(e.field, e.code) for e in caught.value.errors} == {
        ("members[1]", "unknown-user"),
        ("supervisor", "unknown-user"),
    }


def test_a_late_task_is_escalated_to_the_supervisor_once_with_an_alert(potok: Potok) -> None:
    staff(potok, "anna", "olga")
    queue(potok, Policy.ROUND_ROBIN, ("anna",), supervisor="olga")
    clock = Clock(T0)
    early = tasks.create_task(potok.uow(), "fraud", None, "early", BOSS, clock=clock)
    clock.now = T0 + timedelta(minutes=20)
    later = tasks.create_task(potok.uow(), "fraud", None, "later", BOSS, clock=clock)

    clock.now = T0 + timedelta(minutes=29)
    assert tasks.escalate_overdue_tasks(potok.uow(), clock=clock) == []
    clock.now = T0 + timedelta(minutes=30)
    assert tasks.escalate_overdue_tasks(potok.uow(), clock=clock) == [early.id]
    assert tasks.escalate_overdue_tasks(potok.uow(), clock=clock) == []  # once

    mine = tasks.list_tasks(potok.uow(), user="olga")
    assert [(t.id, t.escalated_to, t.escalated_at) for t in mine] == [(early.id, "olga", clock.now)]
    raised = [a for a in alerts.list_alerts(potok.uow()).items if a.kind is AlertKind.TASK_OVERDUE]
    assert len(raised) == 1
    assert f"task {early.id}" in raised[0].message
    figures = tasks.work_figures(potok.uow(), clock=clock)
    assert [(o.user, o.open, o.overdue) for o in figures.operators] == [("anna", 2, 1)]
    assert later.id not in [t.id for t in mine]


def test_a_rule_written_once_holds_risky_orders_and_gives_them_to_the_fraud_queue(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    staff(potok, "anna", "boris")
    queue(potok, Policy.ROUND_ROBIN, ("anna", "boris"))
    rules.add_rule(
        potok.uow(),
        RuleDraft(
            "Risky",
            "order.created",
            "total > 5000",
            [
                {"do": "hold", "hold_type": "fraud", "reason": "check"},
                {"do": "assign", "queue": "fraud", "reason": "fraud check"},
            ],
        ),
        TESTER,
    )
    first = place(potok, [("KET", 3)])
    second = place(potok, [("KET", 3)])
    drain(potok)

    given = tasks.list_tasks(potok.uow(), queue="fraud")
    assert [(t.order_id, t.assignee, t.title) for t in given] == [
        (first, "anna", "fraud check"),
        (second, "boris", "fraud check"),
    ]
    with pytest.raises(InvalidInput) as caught:
        rules.add_rule(
            potok.uow(),
            RuleDraft("X", "order.created", "true", [{"do": "assign", "queue": "nope"}]),
            TESTER,
        )
    assert [e.code for e in caught.value.errors] == ["unknown-queue"]


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_operators_racing_for_the_next_task_never_get_the_same_one(potok: Potok) -> None:
    """Eight operators, each on a connection of their own, take tasks from one queue at
    once until none is left: every task is taken by exactly one of them. Two guards hold
    this each on its own - the pick locks the row it returns and passes over rows others
    hold (``skip_locked``), and the claim is a conditional update - so taking out the
    condition alone leaves this green; the next test races the condition alone."""
    names = [f"op{n}" for n in range(8)]
    staff(potok, *names)
    queue(potok, Policy.CLAIM, tuple(names))
    made = [tasks.create_task(potok.uow(), "fraud", None, f"t{n}", BOSS).id for n in range(40)]
    start = start_line(len(names))

    def operator(name: str) -> list[int]:
        start.wait()
        got: list[int] = []
        while True:
            try:
                got.append(tasks.claim_next(potok.uow(), "fraud", name).id)
            except NoTaskWaiting:
                if not tasks.list_tasks(potok.uow(), queue="fraud", state=TaskState.OPEN):
                    return got

    taken = race([lambda n=n: operator(n) for n in names])

    every = [task_id for got in taken for task_id in got]
    assert sorted(every) == sorted(made)  # each task once, none twice, none left
    for name, got in zip(names, taken, strict=True):
        for task_id in got:
            assert [
                t.assignee for t in tasks.list_tasks(potok.uow(), queue="fraud") if t.id == task_id
            ] == [name]


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_operators_racing_for_one_task_leave_it_with_one_of_them(potok: Potok) -> None:
    """Eight operators claim the same task at once: one gets it, the others are told it is
    taken. (With the claim's ``state = 'open'`` condition taken out of
    ``TaskRepository.claim``, every one of them 'gets' it.)"""
    names = [f"op{n}" for n in range(8)]
    staff(potok, *names)
    queue(potok, Policy.CLAIM, tuple(names))
    task = tasks.create_task(potok.uow(), "fraud", None, "one", BOSS)
    start = start_line(len(names))

    def operator(name: str) -> str | None:
        start.wait()
        try:
            return tasks.claim_task(potok.uow(), task.id, name).assignee
        except TaskTaken:
            return None

    got = [g for g in race([lambda n=n: operator(n) for n in names]) if g is not None]

    assert len(got) == 1
    (stored,) = tasks.list_tasks(potok.uow(), queue="fraud")
    assert (stored.state, stored.assignee) == (TaskState.CLAIMED, got[0])
