"""Operators' work: task queues (policy, members, SLA, supervisor), tasks created by rules
or by people, claimed, released and completed; "my tasks" and the workload figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.tasks import (
    OperatorLoadOut,
    OperatorOut,
    QueueFiguresOut,
    QueueIn,
    QueueOut,
    SkillsIn,
    TaskDoneIn,
    TaskIn,
    TaskOut,
    WorkFiguresOut,
)
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.access.model import UserNotFound
from potok.domain.errors import InvalidInput
from potok.domain.orders import OrderNotFound
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.domain.tasks import (
    NoTaskWaiting,
    QueueDraft,
    QueueNotFound,
    TaskNeedsSkill,
    TaskNotFound,
    TaskState,
    TaskTaken,
)
from potok.services import tasks

router = APIRouter(prefix="/api/v1", tags=["tasks"])

QueuePath = Annotated[str, Path(min_length=1, max_length=64, description="The queue's code.")]
TaskIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="The task's number.")]
UserPath = Annotated[str, Path(min_length=1, max_length=64, description="The user's name.")]


@router.put(
    "/task-queues/{queue}",
    response_model=QueueOut,
    summary="Set up a task queue, or change one",
    description="Members are users, in the order round robin gives them tasks. Every task "
    "gets `sla_minutes` to be done; a late one is escalated to `supervisor` with an alert. "
    "A task is given only to a member with every skill it needs (the queue's `skills`, "
    "`channel:<channel>` when `by_channel`, and its own); when none has them it waits "
    "unassigned, with an alert, for someone with them to take it.",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def put_queue(queue: QueuePath, body: QueueIn, uow: Uow) -> QueueOut:
    draft = QueueDraft(
        queue,
        body.name,
        body.policy,
        body.members,
        body.sla_minutes,
        body.supervisor,
        body.skills,
        body.by_channel,
    )
    return QueueOut.of(tasks.put_queue(uow, draft))


@router.get(
    "/task-queues",
    response_model=list[QueueOut],
    summary="Every task queue",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def list_queues(uow: Uow) -> list[QueueOut]:
    return [QueueOut.of(q) for q in tasks.list_queues(uow)]


@router.post(
    "/tasks",
    status_code=201,
    response_model=TaskOut,
    summary="Put a task in a queue",
    description="Given out by the queue's policy, or to `operator` when named.",
    responses=responses(QueueNotFound, OrderNotFound, InvalidInput, IdempotencyKeyReused),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def create_task(
    body: TaskIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return answer(
        request,
        "task",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: tasks.create_task(
            uow,
            body.queue,
            body.order_id,
            body.title,
            caller.actor,
            operator=body.operator,
            skills=body.skills,
            once=once,
        ),
        lambda task: (201, TaskOut.of(task).model_dump(mode="json")),
    )


@router.get(
    "/tasks",
    response_model=list[TaskOut],
    summary="Tasks, soonest due first",
    description="`mine=true`: the caller's own tasks (given to them, or escalated to them).",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def list_tasks(
    uow: Uow,
    caller: Caller,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    state: TaskState | None = None,
    mine: bool = False,
    order_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TaskOut]:
    found = tasks.list_tasks(
        uow,
        queue=queue,
        state=state,
        user=caller.name if mine else None,
        order_id=order_id,
        limit=limit,
    )
    return [TaskOut.of(t) for t in found]


@router.post(
    "/tasks/{task_id}/claim",
    response_model=TaskOut,
    summary="Take a task: it must be open and nobody's or the caller's",
    description="A task that needs skills (`skills`) is taken only by someone who has them "
    "all (422 `task-needs-skill` otherwise), unless it was given to the caller.",
    responses=responses(TaskNotFound, TaskTaken, TaskNeedsSkill),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def claim_task(task_id: TaskIdPath, uow: Uow, caller: Caller) -> TaskOut:
    return TaskOut.of(tasks.claim_task(uow, task_id, caller.name))


@router.post(
    "/task-queues/{queue}/next-task",
    response_model=TaskOut,
    summary="Take the next task of a queue (the caller's own or nobody's, soonest due first)",
    description="Nobody's tasks that need a skill the caller lacks are passed over.",
    responses=responses(QueueNotFound, NoTaskWaiting),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def claim_next(queue: QueuePath, uow: Uow, caller: Caller) -> TaskOut:
    return TaskOut.of(tasks.claim_next(uow, queue, caller.name))


@router.post(
    "/tasks/{task_id}/release",
    response_model=TaskOut,
    summary="Put a claimed task back in its queue, for anyone to take",
    responses=responses(TaskNotFound, TaskTaken),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def release_task(task_id: TaskIdPath, uow: Uow, caller: Caller) -> TaskOut:
    return TaskOut.of(tasks.release_task(uow, task_id, caller.name))


@router.post(
    "/tasks/{task_id}/completion",
    response_model=TaskOut,
    summary="Finish a task the caller has claimed",
    responses=responses(TaskNotFound, TaskTaken, InvalidInput),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def complete_task(task_id: TaskIdPath, body: TaskDoneIn, uow: Uow, caller: Caller) -> TaskOut:
    return TaskOut.of(tasks.complete_task(uow, task_id, caller.name, body.note))


@router.get(
    "/task-figures",
    response_model=WorkFiguresOut,
    summary="Workload and SLA figures per operator and per queue",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def task_figures(uow: Uow) -> WorkFiguresOut:
    figures = tasks.work_figures(uow)
    return WorkFiguresOut(
        at=figures.at,
        operators=[
            OperatorLoadOut(
                **vars_of(o),
                in_time_pct=round(100 * (o.done - o.done_late) / o.done, 1) if o.done else None,
            )
            for o in figures.operators
        ],
        queues=[
            QueueFiguresOut(
                **vars_of(q),
                in_time_pct=round(100 * q.done_in_time / q.done, 1) if q.done else None,
            )
            for q in figures.queues
        ],
    )


@router.get(
    "/operators",
    response_model=list[OperatorOut],
    summary="Every active user with their skills, the queues they are in and their load",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def list_operators(uow: Uow) -> list[OperatorOut]:
    return [OperatorOut.of(o) for o in tasks.list_operators(uow)]


@router.put(
    "/operators/{username}/skills",
    response_model=OperatorOut,
    summary="Say what an operator can do: the skills queues give tasks by",
    description="The whole list replaces the one before. Queues give an operator new tasks "
    "that need these skills from then on; tasks given out before stay where they are.",
    responses=responses(UserNotFound, InvalidInput),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def set_skills(username: UserPath, body: SkillsIn, uow: Uow) -> OperatorOut:
    return OperatorOut.of(tasks.set_operator_skills(uow, username, body.skills))


def vars_of(figures: object) -> dict[str, object]:
    return {name: getattr(figures, name) for name in figures.__slots__}  # type: ignore[attr-defined]
