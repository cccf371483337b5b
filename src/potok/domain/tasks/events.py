"""What happens to operators' tasks, as facts for the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "task"
    task_id: int
    queue: str
    order_id: int | None

    def aggregate_id(self) -> str:
        return str(self.task_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskCreated(TaskEvent):
    """A task was put in a queue (by a rule, by Potok or by a person), given to
    ``assignee`` by the queue's policy (or to nobody: to be claimed, or because no member
    has the ``skills`` it needs)."""

    title: str
    assignee: str | None
    due_at: datetime
    created_by: str
    skills: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskClaimed(TaskEvent):
    assignee: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskReleased(TaskEvent):
    """The operator put the task back in its queue, for anyone to claim."""

    released_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskCompleted(TaskEvent):
    done_by: str
    late: bool
    note: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskEscalated(TaskEvent):
    """The task's time (its queue's SLA) ran out; the supervisor is told."""

    escalated_to: str | None
    assignee: str | None
    due_at: datetime
