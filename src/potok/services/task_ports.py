"""What the operators' work use cases need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from potok.domain.tasks import Queue, QueueDraft, Task, TaskState


@dataclass(frozen=True, slots=True)
class OperatorLoad:
    """An operator's work as the statistics show it."""

    user: str
    open: int  # given to them, not started
    claimed: int  # on it now
    overdue: int  # unfinished past their time
    done: int
    done_late: int


@dataclass(frozen=True, slots=True)
class QueueFigures:
    queue: str
    open: int
    claimed: int
    overdue: int
    done: int
    done_in_time: int


class TaskStore(Protocol):
    def queue(self, code: str, *, lock: bool = False) -> Queue | None: ...
    def queues(self) -> list[Queue]: ...
    def put_queue(self, draft: QueueDraft, at: datetime) -> Queue: ...
    def note_assigned(self, queue_id: int, user: str) -> None: ...
    def loads(self, users: Sequence[str]) -> dict[str, int]: ...
    def skills_of(self, users: Sequence[str]) -> dict[str, frozenset[str]]: ...
    def set_skills(self, user: str, skills: Sequence[str], at: datetime) -> None: ...
    def all_skills(self) -> dict[str, frozenset[str]]: ...
    def add(
        self,
        queue: Queue,
        order_id: int | None,
        title: str,
        assignee: str | None,
        at: datetime,
        created_by: str,
        skills: Sequence[str] = (),
    ) -> Task: ...
    def get(self, task_id: int, *, lock: bool = False) -> Task | None: ...
    def claim(self, task_id: int, user: str, at: datetime) -> bool: ...
    def next_open(self, queue: Queue, user: str, skills: frozenset[str]) -> int | None: ...
    def save(self, task: Task) -> None: ...
    def find(
        self,
        *,
        queue: str | None,
        state: TaskState | None,
        user: str | None,
        order_id: int | None,
        limit: int,
    ) -> list[Task]: ...
    def overdue(self, at: datetime, limit: int) -> list[int]: ...
    def operator_loads(self, at: datetime) -> list[OperatorLoad]: ...
    def queue_figures(self, at: datetime) -> list[QueueFigures]: ...
