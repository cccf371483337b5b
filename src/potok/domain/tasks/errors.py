"""Errors of operators' work: queues and tasks."""

from __future__ import annotations

from potok.domain.errors import Conflict, NotFound, Rejected


class QueueNotFound(NotFound):
    code = "queue-not-found"
    title = "Task queue not found"
    template = "There is no task queue '{queue}'."


class TaskNotFound(NotFound):
    code = "task-not-found"
    title = "Task not found"
    template = "There is no task {task_id}."


class TaskTaken(Conflict):
    code = "task-taken"
    title = "The task is someone else's or already done"
    template = "Task {task_id} is {state}{whose}; it cannot be {action} by {user}."


class NoTaskWaiting(NotFound):
    code = "no-task-waiting"
    title = "No task is waiting in the queue"
    template = "Queue '{queue}' has no open task for {user}."


class TaskNeedsSkill(Rejected):
    code = "task-needs-skill"
    title = "The task needs a skill the operator does not have"
    template = (
        "Task {task_id} needs {needs}; {user} has {has}. Give {user} the skill "
        "(PUT /api/v1/operators/{user}/skills) or leave the task to someone who has it."
    )
