"""Work for operators: queues of tasks (fraud review, manual confirmation, address check...),
each task about an order, given to an operator by the queue's policy, claimed, released and
completed, and escalated to the queue's supervisor when its time (the queue's SLA) is up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.machine import StateMachine
from potok.domain.validation import CODE_PATTERN

MAX_MEMBERS = 200
MAX_SLA_MINUTES = 60 * 24 * 30


class Policy(StrEnum):
    """How a queue gives out new tasks."""

    ROUND_ROBIN = "round_robin"  # to each member in turn
    LEAST_LOADED = "least_loaded"  # to the member with the fewest unfinished tasks
    CLAIM = "claim"  # to nobody: operators claim the next one themselves


class TaskState(StrEnum):
    OPEN = "open"  # waiting (for its assignee, or for anyone to claim it)
    CLAIMED = "claimed"  # someone is on it
    DONE = "done"
    CANCELLED = "cancelled"


TASK = StateMachine(
    "task",
    {
        TaskState.OPEN: frozenset({TaskState.CLAIMED, TaskState.CANCELLED}),
        TaskState.CLAIMED: frozenset({TaskState.OPEN, TaskState.DONE, TaskState.CANCELLED}),
    },
)

UNFINISHED = (TaskState.OPEN, TaskState.CLAIMED)


@dataclass(frozen=True, slots=True)
class QueueDraft:
    code: str
    name: str
    policy: Policy
    members: Sequence[str]
    sla_minutes: int
    supervisor: str | None = None


@dataclass(slots=True)
class Queue:
    id: int
    code: str
    name: str
    policy: Policy
    members: tuple[str, ...]
    sla_minutes: int
    supervisor: str | None
    last_assigned: str | None

    def due(self, at: datetime) -> datetime:
        return at + timedelta(minutes=self.sla_minutes)


def check_queue(draft: QueueDraft, known_users: frozenset[str]) -> None:
    """Refuse a queue that cannot work, naming each field."""
    errors: list[FieldError] = []
    if not CODE_PATTERN.fullmatch(draft.code):
        errors.append(FieldError("code", "1-64 letters, digits, '.', '_', '-' or '/'", "bad-code"))
    if not draft.name.strip() or len(draft.name) > 120:
        errors.append(FieldError("name", "a name of 1-120 characters", "required"))
    if not 1 <= draft.sla_minutes <= MAX_SLA_MINUTES:
        errors.append(
            FieldError("sla_minutes", f"minutes from 1 to {MAX_SLA_MINUTES}", "out-of-range")
        )
    if len(draft.members) > MAX_MEMBERS:
        errors.append(FieldError("members", f"at most {MAX_MEMBERS} members", "too-many"))
    if len(set(draft.members)) != len(draft.members):
        errors.append(FieldError("members", "each member once", "duplicate"))
    for index, member in enumerate(draft.members):
        if member not in known_users:
            errors.append(
                FieldError(f"members[{index}]", f"no active user '{member}'", "unknown-user")
            )
    if draft.policy is not Policy.CLAIM and not draft.members:
        errors.append(
            FieldError("members", f"a {draft.policy.value} queue needs members", "required")
        )
    if draft.supervisor is not None and draft.supervisor not in known_users:
        errors.append(
            FieldError("supervisor", f"no active user '{draft.supervisor}'", "unknown-user")
        )
    if errors:
        raise InvalidInput(errors)


def pick_assignee(queue: Queue, loads: Mapping[str, int]) -> str | None:
    """Whom the queue's policy gives a new task to (None: it waits to be claimed).
    ``loads``: each member's unfinished tasks."""
    if queue.policy is Policy.CLAIM or not queue.members:
        return None
    if queue.policy is Policy.ROUND_ROBIN:
        if queue.last_assigned in queue.members:
            after = queue.members.index(queue.last_assigned) + 1
            return queue.members[after % len(queue.members)]
        return queue.members[0]
    order = {m: i for i, m in enumerate(queue.members)}
    return min(queue.members, key=lambda m: (loads.get(m, 0), order[m]))


@dataclass(slots=True)
class Task:
    id: int
    queue: str
    order_id: int | None
    title: str
    state: TaskState
    assignee: str | None
    created_at: datetime
    created_by: str
    due_at: datetime
    claimed_at: datetime | None = None
    done_at: datetime | None = None
    escalated_at: datetime | None = None
    escalated_to: str | None = None
    note: str | None = None

    def overdue(self, at: datetime) -> bool:
        return self.state in UNFINISHED and self.due_at <= at
