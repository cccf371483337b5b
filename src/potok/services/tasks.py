"""Operators' work: queues with their policies and timers, tasks created by rules, by
Potok or by people, given out, claimed, released, completed and escalated when late."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from potok.domain.access.model import UserNotFound
from potok.domain.alerts import AlertKind
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.orders import OrderNotFound
from potok.domain.tasks import (
    TASK,
    UNFINISHED,
    NoTaskWaiting,
    Queue,
    QueueDraft,
    QueueNotFound,
    Task,
    TaskNeedsSkill,
    TaskNotFound,
    TaskState,
    TaskTaken,
    check_queue,
    check_skills,
    pick_assignee,
    qualified,
)
from potok.domain.tasks.events import (
    TaskClaimed,
    TaskCompleted,
    TaskCreated,
    TaskEscalated,
    TaskReleased,
)
from potok.domain.tasks.system import system_task
from potok.domain.webhooks import StoredEvent
from potok.services.alerts import raise_alert
from potok.services.idempotency import Once, atomically_once
from potok.services.outside import Outside, Settle
from potok.services.task_ports import OperatorLoad, QueueFigures
from potok.services.unit_of_work import UnitOfWork, atomically, reading

MAX_TITLE = 500


def _active_users(uow: UnitOfWork) -> frozenset[str]:
    return frozenset(u.username for u in uow.users.list() if u.active)


def put_queue(uow: UnitOfWork, draft: QueueDraft, *, clock: Clock = utc_now) -> Queue:
    """Set up a queue, or change one: its members, policy, time (SLA) and supervisor."""

    def work(uow: UnitOfWork) -> Queue:
        check_queue(draft, _active_users(uow))
        return uow.tasks.put_queue(draft, clock())

    return atomically(uow, work)


def list_queues(uow: UnitOfWork) -> list[Queue]:
    return reading(uow, lambda uow: uow.tasks.queues())


def queue_codes(uow: UnitOfWork) -> frozenset[str]:
    return reading(uow, lambda uow: frozenset(q.code for q in uow.tasks.queues()))


def create_task_loaded(
    uow: UnitOfWork,
    queue_code: str,
    order_id: int | None,
    title: str,
    at: datetime,
    created_by: str,
    *,
    operator: str | None = None,
    skills: Sequence[str] = (),
    channel: str | None = None,
) -> Task:
    """Put a task in a queue inside the caller's transaction, given out by the queue's
    policy to a member with every skill it needs (the queue's, ``skills``, and the
    order's ``channel`` when the queue routes by channel) - or to ``operator`` when one
    is named. When no member has them, the task waits unassigned (anyone with the skills
    may claim it), an alert says so, and its time runs as any task's."""
    queue = uow.tasks.queue(queue_code, lock=True)  # one assignment at a time per queue
    if queue is None:
        raise QueueNotFound(queue=queue_code)
    needs = queue.needs(skills, channel)
    known = uow.tasks.skills_of(queue.members) if needs else {}
    assignee = operator
    if assignee is None:
        loads = uow.tasks.loads(queue.members)
        assignee = pick_assignee(queue, loads, needs=needs, skills=known)
        if assignee is not None:
            uow.tasks.note_assigned(queue.id, assignee)
    task = uow.tasks.add(queue, order_id, title[:MAX_TITLE], assignee, at, created_by, needs)
    uow.record(
        TaskCreated(
            occurred_at=at,
            task_id=task.id,
            queue=queue.code,
            order_id=order_id,
            title=task.title,
            assignee=assignee,
            due_at=task.due_at,
            created_by=created_by,
            skills=list(needs),
        )
    )
    able = any(qualified(known.get(m, frozenset()), needs) for m in queue.members)
    if assignee is None and needs and queue.members and not able:
        _nobody_qualified(uow, queue, task, at)
    return task


def _nobody_qualified(uow: UnitOfWork, queue: Queue, task: Task, at: datetime) -> None:
    """An alert: the task needs skills no member of its queue has, so it waits."""
    message = (
        f"task {task.id} in queue '{queue.code}' ({task.title}) needs "
        f"{', '.join(task.skills)}: no member of the queue has them; it waits unassigned "
        f"for someone with them to take it, and is escalated at {task.due_at:%Y-%m-%d %H:%M} UTC"
    )
    raise_alert(uow, AlertKind.TASK_UNASSIGNABLE, task.order_id, message, at)


def has_unfinished_task(uow: UnitOfWork, queue_code: str, order_id: int) -> bool:
    return any(
        t.state in UNFINISHED
        for t in uow.tasks.find(
            queue=queue_code, state=None, user=None, order_id=order_id, limit=50
        )
    )


def create_task(
    uow: UnitOfWork,
    queue_code: str,
    order_id: int | None,
    title: str,
    actor: Actor,
    *,
    operator: str | None = None,
    skills: Sequence[str] = (),
    once: Once[Task] | None = None,
    clock: Clock = utc_now,
) -> Task:
    """A task put in a queue by a person; ``skills``: what whoever takes it must have,
    besides what its queue asks."""
    errors: list[FieldError] = []
    if not title.strip() or len(title) > MAX_TITLE:
        errors.append(FieldError("title", f"1-{MAX_TITLE} characters", "required"))
    check_skills("skills", skills, errors)
    if errors:
        raise InvalidInput(errors)

    def work(uow: UnitOfWork) -> Task:
        channel = None
        if order_id is not None:
            order = uow.orders.get(order_id)
            if order is None:
                raise OrderNotFound(order_id=order_id)
            channel = order.channel_code
        if operator is not None and operator not in _active_users(uow):
            raise InvalidInput(
                [FieldError("operator", f"no active user '{operator}'", "unknown-user")]
            )
        return create_task_loaded(
            uow,
            queue_code,
            order_id,
            title,
            clock(),
            str(actor),
            operator=operator,
            skills=skills,
            channel=channel,
        )

    return atomically_once(uow, once, work)


def _changed(
    uow: UnitOfWork,
    task_id: int,
    change: Callable[[UnitOfWork, Task, datetime], None],
    clock: Clock,
) -> Task:
    def work(uow: UnitOfWork) -> Task:
        task = uow.tasks.get(task_id, lock=True)
        if task is None:
            raise TaskNotFound(task_id=task_id)
        change(uow, task, clock())
        uow.tasks.save(task)
        return task

    return atomically(uow, work)


def _taken(task: Task, user: str, action: str) -> TaskTaken:
    whose = f" ({task.assignee}'s)" if task.assignee else ""
    return TaskTaken(task_id=task.id, state=task.state.value, whose=whose, action=action, user=user)


def claim_task(uow: UnitOfWork, task_id: int, user: str, *, clock: Clock = utc_now) -> Task:
    """Take an open task that is nobody's or one's own; of two operators at the same
    moment, one gets it and the other is told it is taken."""

    def work(uow: UnitOfWork) -> Task:
        at = clock()
        wanted = uow.tasks.get(task_id)
        if wanted is None:
            raise TaskNotFound(task_id=task_id)
        if wanted.assignee != user and wanted.skills:
            has = uow.tasks.skills_of([user]).get(user, frozenset())
            if not qualified(has, wanted.skills):
                raise TaskNeedsSkill(
                    task_id=task_id,
                    needs=", ".join(wanted.skills),
                    user=user,
                    has=", ".join(sorted(has)) or "no skills",
                )
        if not uow.tasks.claim(task_id, user, at):
            found = uow.tasks.get(task_id)
            if found is None:
                raise TaskNotFound(task_id=task_id)
            raise _taken(found, user, "claimed")
        task = uow.tasks.get(task_id)
        assert task is not None
        uow.record(
            TaskClaimed(
                occurred_at=at,
                task_id=task.id,
                queue=task.queue,
                order_id=task.order_id,
                assignee=user,
            )
        )
        return task

    return atomically(uow, work)


def claim_next(uow: UnitOfWork, queue_code: str, user: str, *, clock: Clock = utc_now) -> Task:
    """Take the next task of the queue: one's own or nobody's, the soonest due first."""

    def work(uow: UnitOfWork) -> Task:
        queue = uow.tasks.queue(queue_code)
        if queue is None:
            raise QueueNotFound(queue=queue_code)
        has = uow.tasks.skills_of([user]).get(user, frozenset())
        task_id = uow.tasks.next_open(queue, user, has)
        at = clock()
        if task_id is None or not uow.tasks.claim(task_id, user, at):
            raise NoTaskWaiting(queue=queue_code, user=user)
        task = uow.tasks.get(task_id)
        assert task is not None
        uow.record(
            TaskClaimed(
                occurred_at=at,
                task_id=task.id,
                queue=task.queue,
                order_id=task.order_id,
                assignee=user,
            )
        )
        return task

    return atomically(uow, work)


def release_task(uow: UnitOfWork, task_id: int, user: str, *, clock: Clock = utc_now) -> Task:
    """Put a claimed task back in its queue, for anyone to claim."""

    def change(uow: UnitOfWork, task: Task, at: datetime) -> None:
        if task.state is not TaskState.CLAIMED or task.assignee != user:
            raise _taken(task, user, "released")
        task.state = TASK.check(task.state, TaskState.OPEN)
        task.assignee, task.claimed_at = None, None
        uow.record(
            TaskReleased(
                occurred_at=at,
                task_id=task.id,
                queue=task.queue,
                order_id=task.order_id,
                released_by=user,
            )
        )

    return _changed(uow, task_id, change, clock)


def complete_task(
    uow: UnitOfWork, task_id: int, user: str, note: str | None, *, clock: Clock = utc_now
) -> Task:
    """Finish a task one has claimed."""
    if note is not None and len(note) > 500:
        raise InvalidInput([FieldError("note", "at most 500 characters", "too-long")])

    def change(uow: UnitOfWork, task: Task, at: datetime) -> None:
        if task.state is not TaskState.CLAIMED or task.assignee != user:
            raise _taken(task, user, "completed")
        task.state = TASK.check(task.state, TaskState.DONE)
        task.done_at, task.note = at, note
        uow.record(
            TaskCompleted(
                occurred_at=at,
                task_id=task.id,
                queue=task.queue,
                order_id=task.order_id,
                done_by=user,
                late=at > task.due_at,
                note=note,
            )
        )

    return _changed(uow, task_id, change, clock)


def list_tasks(
    uow: UnitOfWork,
    *,
    queue: str | None = None,
    state: TaskState | None = None,
    user: str | None = None,
    order_id: int | None = None,
    limit: int = 100,
) -> list[Task]:
    """Tasks, soonest due first; ``user``: "my tasks" (given or escalated to them)."""
    return reading(
        uow,
        lambda uow: uow.tasks.find(
            queue=queue, state=state, user=user, order_id=order_id, limit=limit
        ),
    )


def escalate_overdue_tasks(
    uow: UnitOfWork, *, clock: Clock = utc_now, limit: int = 200
) -> list[int]:
    """Tasks whose time is up go to their queue's supervisor, with an alert; once each.
    Each task is its own transaction."""
    due = reading(uow, lambda uow: uow.tasks.overdue(clock(), limit))
    escalated: list[int] = []
    for task_id in due:

        def work(uow: UnitOfWork, task_id: int = task_id) -> bool:
            at = clock()
            task = uow.tasks.get(task_id, lock=True)
            if task is None or not task.overdue(at) or task.escalated_at is not None:
                return False
            queue = uow.tasks.queue(task.queue)
            assert queue is not None
            task.escalated_at, task.escalated_to = at, queue.supervisor
            uow.tasks.save(task)
            uow.record(
                TaskEscalated(
                    occurred_at=at,
                    task_id=task.id,
                    queue=task.queue,
                    order_id=task.order_id,
                    escalated_to=queue.supervisor,
                    assignee=task.assignee,
                    due_at=task.due_at,
                )
            )
            who = task.assignee or "nobody"
            needs = f"; it needs {', '.join(task.skills)}" if task.skills else ""
            message = (
                f"task {task.id} in queue '{queue.code}' ({task.title}) is overdue since "
                f"{task.due_at:%Y-%m-%d %H:%M} UTC ({who} has it{needs}); "
                f"escalated to {queue.supervisor or 'no supervisor'}"
            )
            raise_alert(uow, AlertKind.TASK_OVERDUE, task.order_id, message, at)
            return True

        if atomically(uow, work):
            escalated.append(task_id)
    return escalated


@dataclass(frozen=True, slots=True)
class Operator:
    """An operator as work distribution sees them: their skills and their load."""

    user: str
    skills: tuple[str, ...]
    queues: tuple[str, ...]  # the queues they are a member of
    unfinished: int


def set_operator_skills(
    uow: UnitOfWork, user: str, skills: Sequence[str], *, clock: Clock = utc_now
) -> Operator:
    """Say what an operator can do; queues give them the tasks that need it from then on
    (tasks given out before are not moved)."""
    errors: list[FieldError] = []
    check_skills("skills", skills, errors)
    if errors:
        raise InvalidInput(errors)

    def work(uow: UnitOfWork) -> Operator:
        if user not in _active_users(uow):
            raise UserNotFound(username=user)
        uow.tasks.set_skills(user, skills, clock())
        return _operators(uow, [user])[0]

    return atomically(uow, work)


def _operators(uow: UnitOfWork, users: Sequence[str]) -> list[Operator]:
    queues = uow.tasks.queues()
    skills = uow.tasks.skills_of(users)
    loads = uow.tasks.loads(users)
    return [
        Operator(
            user,
            tuple(sorted(skills.get(user, ()))),
            tuple(q.code for q in queues if user in q.members),
            loads.get(user, 0),
        )
        for user in users
    ]


def list_operators(uow: UnitOfWork) -> list[Operator]:
    """Every active user with their skills, queues and unfinished tasks."""
    return reading(uow, lambda uow: _operators(uow, sorted(_active_users(uow))))


@dataclass(frozen=True, slots=True)
class WorkFigures:
    at: datetime
    operators: list[OperatorLoad]
    queues: list[QueueFigures]


def work_figures(uow: UnitOfWork, *, clock: Clock = utc_now) -> WorkFigures:
    """Workload and SLA figures per operator and per queue."""
    at = clock()
    return reading(
        uow, lambda uow: WorkFigures(at, uow.tasks.operator_loads(at), uow.tasks.queue_figures(at))
    )


SYSTEM_ACTOR = str(Actor.system("potok"))


def open_system_task(outside: Outside, event: StoredEvent) -> Settle | None:
    """The task the event calls for (``domain/tasks/system.py``), put in its queue with
    the reaction's cursor moving past the event - when the shop has that queue, and the
    order has no unfinished task there yet."""
    wanted = system_task(event.type, event.payload)
    if wanted is None:
        return None

    def settle(uow: UnitOfWork) -> None:
        if uow.tasks.queue(wanted.queue) is None:
            return  # the shop has not set this queue up
        channel = None
        if wanted.order_id is not None:
            order = uow.orders.get(wanted.order_id)
            if order is None:
                return  # the order is gone
            if has_unfinished_task(uow, wanted.queue, wanted.order_id):
                return
            channel = order.channel_code
        create_task_loaded(
            uow,
            wanted.queue,
            wanted.order_id,
            wanted.title,
            outside.clock(),
            SYSTEM_ACTOR,
            channel=channel,
        )

    return settle
