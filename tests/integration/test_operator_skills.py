"""Assignment by skill: operators carry skills (what they can do, languages, channels), a
queue or a task asks for some, and the queue's policy gives the task only to members who
have them all - least loaded or in turn among them. A task nobody has the skills for stays
unassigned, is announced by an alert, can be taken only by someone with them and is
escalated when its time runs out. Two assigners at once on PostgreSQL share the work."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from potok.bootstrap import Potok
from potok.domain.access import Role
from potok.domain.access.model import UserNotFound
from potok.domain.alerts import AlertKind
from potok.domain.automation import RuleDraft
from potok.domain.errors import InvalidInput
from potok.domain.kernel import Actor
from potok.domain.tasks import NoTaskWaiting, Policy, QueueDraft, TaskNeedsSkill, TaskState
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


def staff(potok: Potok, **skills: str) -> None:
    """Operators and their skills: ``anna="fraud,en"``."""
    for name, given in skills.items():
        make_user(potok, name, Role.OPERATOR)
        tasks.set_operator_skills(potok.uow(), name, [s for s in given.split(",") if s])


def queue(potok: Potok, policy: Policy, members: tuple[str, ...], **extra: object) -> None:
    draft = QueueDraft("fraud", "Fraud review", policy, members, 30, **extra)  # type: ignore[arg-type]
    tasks.put_queue(potok.uow(), draft)


def given(potok: Potok, *skills: str, clock: Clock | None = None) -> str | None:
    task = tasks.create_task(
        potok.uow(), "fraud", None, "look", BOSS, skills=skills, clock=clock or Clock(T0)
    )
    return task.assignee


def test_least_loaded_gives_a_task_to_the_least_loaded_of_those_with_its_skills(
    potok: Potok,
) -> None:
    staff(potok, anna="fraud", boris="fraud,en", vera="")
    queue(potok, Policy.LEAST_LOADED, ("vera", "anna", "boris"), skills=["fraud"])
    # vera has no work at all, but not the queue's skill: never given one
    assert [given(potok) for _ in range(4)] == ["anna", "boris", "anna", "boris"]
    assert given(potok, "en") == "boris"  # the only one speaking English, busy or not
    assert given(potok) == "anna"  # anna 2, boris 3
    loads = {o.user: o.unfinished for o in tasks.list_operators(potok.uow())}
    assert loads == {"anna": 3, "boris": 3, "vera": 0}


def test_round_robin_takes_turns_among_those_with_the_skills(potok: Potok) -> None:
    staff(potok, anna="en", boris="", vera="en,zh")
    queue(potok, Policy.ROUND_ROBIN, ("anna", "boris", "vera"))
    assert [given(potok, "en") for _ in range(3)] == ["anna", "vera", "anna"]
    assert given(potok) == "boris"  # next after anna, and needing nothing
    assert given(potok, "zh") == "vera"


def test_a_queue_by_channel_gives_an_orders_task_to_who_knows_the_channel(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    staff(potok, anna="fraud,channel:web", boris="fraud,channel:phone")
    queue(potok, Policy.LEAST_LOADED, ("anna", "boris"), skills=["fraud"], by_channel=True)
    web = place(potok, [("KET", 1)], channel="web")
    phone = place(potok, [("KET", 1)], channel="phone")
    first = tasks.create_task(potok.uow(), "fraud", web, "web one", BOSS)
    second = tasks.create_task(potok.uow(), "fraud", web, "web two", BOSS)
    third = tasks.create_task(potok.uow(), "fraud", phone, "phone one", BOSS)
    assert [(t.assignee, t.skills) for t in (first, second, third)] == [
        ("anna", ("channel:web", "fraud")),
        ("anna", ("channel:web", "fraud")),
        ("boris", ("channel:phone", "fraud")),
    ]
    loose = tasks.create_task(potok.uow(), "fraud", None, "no order", BOSS)
    assert (loose.assignee, loose.skills) == ("boris", ("fraud",))


def test_a_task_nobody_has_the_skills_for_waits_unassigned_and_escalates_on_time(
    potok: Potok,
) -> None:
    staff(potok, anna="fraud", boris="fraud", olga="")
    queue(potok, Policy.LEAST_LOADED, ("anna", "boris"), supervisor="olga")
    clock = Clock(T0)
    task = tasks.create_task(
        potok.uow(), "fraud", None, "call in Chinese", BOSS, skills=["zh"], clock=clock
    )
    assert (task.assignee, task.state, task.skills) == (None, TaskState.OPEN, ("zh",))

    raised = [
        a for a in alerts.list_alerts(potok.uow()).items if a.kind is AlertKind.TASK_UNASSIGNABLE
    ]
    assert len(raised) == 1
    assert f"task {task.id} in queue 'fraud'" in raised[0].message
    assert "needs zh" in raised[0].message

    with pytest.raises(TaskNeedsSkill):
        tasks.claim_task(potok.uow(), task.id, "anna")
    with pytest.raises(NoTaskWaiting):
        tasks.claim_next(potok.uow(), "fraud", "anna")  # passed over, not handed out

    clock.now = T0 + timedelta(minutes=31)
    assert tasks.escalate_overdue_tasks(potok.uow(), clock=clock) == [task.id]
    (escalated,) = tasks.list_tasks(potok.uow(), user="olga")
    assert (escalated.id, escalated.assignee, escalated.escalated_to) == (task.id, None, "olga")
    overdue = [a for a in alerts.list_alerts(potok.uow()).items if a.kind is AlertKind.TASK_OVERDUE]
    assert len(overdue) == 1
    assert "nobody has it; it needs zh" in overdue[0].message

    # the supervisor gives boris the language: he may take it now
    tasks.set_operator_skills(potok.uow(), "boris", ["fraud", "zh"])
    taken = tasks.claim_next(potok.uow(), "fraud", "boris")
    assert (taken.id, taken.assignee, taken.state) == (task.id, "boris", TaskState.CLAIMED)


def test_a_claim_queue_passes_over_tasks_one_lacks_the_skills_for(potok: Potok) -> None:
    staff(potok, anna="", boris="en")
    queue(potok, Policy.CLAIM, ("anna", "boris"))
    english = tasks.create_task(potok.uow(), "fraud", None, "english", BOSS, skills=["en"])
    plain = tasks.create_task(potok.uow(), "fraud", None, "plain", BOSS)
    # a member has the skill: no alert
    assert not [
        a for a in alerts.list_alerts(potok.uow()).items if a.kind is AlertKind.TASK_UNASSIGNABLE
    ]
    assert tasks.claim_next(potok.uow(), "fraud", "anna").id == plain.id  # english skipped
    with pytest.raises(NoTaskWaiting):
        tasks.claim_next(potok.uow(), "fraud", "anna")
    assert tasks.claim_next(potok.uow(), "fraud", "boris").id == english.id


def test_a_task_given_by_name_is_the_named_operators_whatever_their_skills(
    potok: Potok,
) -> None:
    staff(potok, anna="", boris="en")
    queue(potok, Policy.LEAST_LOADED, ("anna", "boris"))
    task = tasks.create_task(
        potok.uow(), "fraud", None, "hers", BOSS, operator="anna", skills=["en"]
    )
    assert task.assignee == "anna"
    assert tasks.claim_task(potok.uow(), task.id, "anna").state is TaskState.CLAIMED


def test_a_rule_asks_for_a_skill_when_it_assigns(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    staff(potok, anna="", boris="en")
    queue(potok, Policy.LEAST_LOADED, ("anna", "boris"))
    rules.add_rule(
        potok.uow(),
        RuleDraft(
            "Foreign buyers",
            "order.created",
            "total > 0",
            [{"do": "assign", "queue": "fraud", "skill": "en", "reason": "call in English"}],
        ),
        TESTER,
    )
    orders = [place(potok, [("KET", 1)]) for _ in range(2)]
    drain(potok)
    found = tasks.list_tasks(potok.uow(), queue="fraud")
    assert [(t.order_id, t.assignee, t.skills) for t in found] == [
        (orders[0], "boris", ("en",)),
        (orders[1], "boris", ("en",)),
    ]


def test_bad_skills_and_unknown_operators_are_refused_with_their_place(potok: Potok) -> None:
    staff(potok, anna="")
    with pytest.raises(InvalidInput) as caught:
        queue(potok, Policy.CLAIM, ("anna",), skills=["fraud", "two words", "fraud"])
    assert {(e.field, e.code) for e in caught.value.errors} == {
        ("skills", "duplicate"),
        ("skills[1]", "bad-skill"),
    }
    with pytest.raises(InvalidInput) as caught:
        tasks.set_operator_skills(potok.uow(), "anna", ["ok", ""])
    assert [(e.field, e.code) for e in caught.value.errors] == [("skills[1]", "bad-skill")]
    with pytest.raises(UserNotFound):
        tasks.set_operator_skills(potok.uow(), "ghost", ["en"])
    queue(potok, Policy.CLAIM, ("anna",))
    with pytest.raises(InvalidInput) as caught:
        rules.add_rule(
            potok.uow(),
            RuleDraft(
                "X", "order.created", "true", [{"do": "assign", "queue": "fraud", "skill": "a b"}]
            ),
            TESTER,
        )
    assert [(e.field, e.code) for e in caught.value.errors] == [("actions[0].skill", "bad-skill")]
    with pytest.raises(InvalidInput) as caught:  # nobody could ever take such a task
        rules.add_rule(
            potok.uow(),
            RuleDraft(
                "X",
                "order.created",
                "true",
                [{"do": "assign", "queue": "fraud", "operator": "ghost"}],
            ),
            TESTER,
        )
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("actions[0].operator", "unknown-user")
    ]


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_assigners_at_the_same_moment_share_the_work_by_load(potok: Potok) -> None:
    """Eight tasks put in a least-loaded queue at once, each on a connection of its own,
    between the two members with the skill: four each. The queue's row is locked while a
    task is given out (``create_task_loaded``: ``queue(..., lock=True)``), so each
    assigner counts the loads the ones before it left; without that lock they all count
    the same loads and pile the tasks on one operator."""
    staff(potok, anna="fraud", boris="fraud", vera="")
    queue(potok, Policy.LEAST_LOADED, ("vera", "anna", "boris"), skills=["fraud"])
    start = start_line(8)

    def assigner(n: int) -> str | None:
        start.wait()
        return tasks.create_task(potok.uow(), "fraud", None, f"t{n}", BOSS).assignee

    got = race([lambda n=n: assigner(n) for n in range(8)])

    assert Counter(got) == {"anna": 4, "boris": 4}
