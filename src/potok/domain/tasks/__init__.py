"""Operators' work: queues of tasks, their policies and timers."""

from potok.domain.tasks.errors import NoTaskWaiting, QueueNotFound, TaskNotFound, TaskTaken
from potok.domain.tasks.model import (
    TASK,
    UNFINISHED,
    Policy,
    Queue,
    QueueDraft,
    Task,
    TaskState,
    check_queue,
    pick_assignee,
)

__all__ = [
    "TASK",
    "UNFINISHED",
    "NoTaskWaiting",
    "Policy",
    "Queue",
    "QueueDraft",
    "QueueNotFound",
    "Task",
    "TaskNotFound",
    "TaskState",
    "TaskTaken",
    "check_queue",
    "pick_assignee",
]
