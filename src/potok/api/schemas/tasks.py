"""Task queues and operators' tasks in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from potok.api.schemas.common import JSON_INTEGER, Flag, Id, Schema
from potok.domain.tasks import Policy, Queue, Task
from potok.services.tasks import Operator

Short = Annotated[str, StringConstraints(max_length=64)]
Skill = Annotated[str, StringConstraints(max_length=80)]
Skills = Annotated[list[Skill], Field(max_length=30)]


class QueueIn(Schema):
    name: Annotated[str, StringConstraints(max_length=120)]
    policy: Policy = Field(
        description="round_robin: to each member in turn; least_loaded: to the member with "
        "the fewest unfinished tasks; claim: to nobody, operators take the next one."
    )
    members: list[Short] = Field(default_factory=list, max_length=200)
    sla_minutes: Annotated[int, Field(ge=1, le=43_200), JSON_INTEGER] = Field(
        description="How long a task may wait before it is escalated."
    )
    supervisor: Short | None = Field(None, description="The user told when a task is late.")
    skills: Skills = Field(
        default_factory=list,
        description="Skills every task of the queue needs: it is given only to members who "
        "have them all (see PUT /api/v1/operators/{username}/skills).",
    )
    by_channel: Flag = Field(
        False,
        description="A task about an order also needs the skill channel:<the order's "
        "channel>, e.g. channel:ozon.",
    )


class QueueOut(BaseModel):
    code: str
    name: str
    policy: Policy
    members: list[str]
    sla_minutes: int
    supervisor: str | None
    skills: list[str]
    by_channel: bool

    @classmethod
    def of(cls, queue: Queue) -> QueueOut:
        return cls(
            code=queue.code,
            name=queue.name,
            policy=queue.policy,
            members=list(queue.members),
            sla_minutes=queue.sla_minutes,
            supervisor=queue.supervisor,
            skills=list(queue.skills),
            by_channel=queue.by_channel,
        )


class TaskIn(Schema):
    queue: Short
    title: Annotated[str, StringConstraints(max_length=500)]
    order_id: Id | None = None
    operator: Short | None = Field(None, description="Give it to this user, not by policy.")
    skills: Skills = Field(
        default_factory=list,
        description="Skills whoever takes it must have, besides what its queue asks.",
    )


class TaskDoneIn(Schema):
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class TaskOut(BaseModel):
    id: int
    queue: str
    order_id: int | None
    title: str
    state: str
    assignee: str | None
    created_at: datetime
    created_by: str
    due_at: datetime
    claimed_at: datetime | None
    done_at: datetime | None
    escalated_at: datetime | None
    escalated_to: str | None
    note: str | None
    skills: list[str]

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls(
            id=task.id,
            queue=task.queue,
            order_id=task.order_id,
            title=task.title,
            state=task.state.value,
            assignee=task.assignee,
            created_at=task.created_at,
            created_by=task.created_by,
            due_at=task.due_at,
            claimed_at=task.claimed_at,
            done_at=task.done_at,
            escalated_at=task.escalated_at,
            escalated_to=task.escalated_to,
            note=task.note,
            skills=list(task.skills),
        )


class OperatorLoadOut(BaseModel):
    user: str
    open: int
    claimed: int
    overdue: int
    done: int
    done_late: int
    in_time_pct: float | None


class QueueFiguresOut(BaseModel):
    queue: str
    open: int
    claimed: int
    overdue: int
    done: int
    done_in_time: int
    in_time_pct: float | None


class WorkFiguresOut(BaseModel):
    at: datetime
    operators: list[OperatorLoadOut]
    queues: list[QueueFiguresOut]


class SkillsIn(Schema):
    skills: Skills = Field(
        description="What the operator can do, as codes: fraud, returns, en (a language), "
        "channel:ozon (a channel a queue routing by channel asks for). The whole list: "
        "it replaces the one before."
    )


class OperatorOut(BaseModel):
    user: str
    skills: list[str]
    queues: list[str]
    unfinished: int

    @classmethod
    def of(cls, operator: Operator) -> OperatorOut:
        return cls(
            user=operator.user,
            skills=list(operator.skills),
            queues=list(operator.queues),
            unfinished=operator.unfinished,
        )
