"""Operators' work: queues of tasks, their policies and timers."""

from potok.domain.tasks.errors import (
    NoTaskWaiting,
    QueueNotFound,
    TaskNeedsSkill,
    TaskNotFound,
    TaskTaken,
)
from potok.domain.tasks.model import (
    CHANNEL_SKILL,
    SKILL_PATTERN,
    TASK,
    UNFINISHED,
    Policy,
    Queue,
    QueueDraft,
    Task,
    TaskState,
    check_queue,
    check_skills,
    pick_assignee,
    qualified,
)

__all__ = [
    "CHANNEL_SKILL",
    "SKILL_PATTERN",
    "TASK",
    "UNFINISHED",
    "NoTaskWaiting",
    "Policy",
    "Queue",
    "QueueDraft",
    "QueueNotFound",
    "Task",
    "TaskNeedsSkill",
    "TaskNotFound",
    "TaskState",
    "TaskTaken",
    "check_queue",
    "check_skills",
    "pick_assignee",
    "qualified",
]
