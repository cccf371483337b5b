"""Work for operators: queues of tasks (fraud review, manual confirmation, address check...),
each task about an order, given to an operator by the queue's policy, claimed, released and
completed, and escalated to the queue's supervisor when its time (the queue's SLA) is up."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.machine import StateMachine
from potok.domain.validation import CODE_PATTERN

MAX_MEMBERS = 200
MAX_SLA_MINUTES = 60 * 24 * 30
MAX_SKILLS = 30
SKILL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/\-]{0,79}")
"""A skill is a code the shop chooses: what an operator can do (``fraud``, ``returns``),
a language they speak (``en``), a channel they know (``channel:ozon``)."""
CHANNEL_SKILL = "channel:"
"""A queue that routes by channel asks, for a task about an order, the skill
``channel:<the order's channel>``."""


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
    skills: Sequence[str] = ()  # every task of the queue needs these
    by_channel: bool = False  # a task about an order needs its channel's skill too


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
    skills: tuple[str, ...] = ()
    by_channel: bool = False

    def due(self, at: datetime) -> datetime:
        return at + timedelta(minutes=self.sla_minutes)

    def needs(self, asked: Iterable[str] = (), channel: str | None = None) -> tuple[str, ...]:
        """The skills a new task of this queue needs: the queue's own, those asked for
        the task (by a rule or a person), and its order's channel when the queue routes
        by channel."""
        wanted = {*self.skills, *asked}
        if self.by_channel and channel is not None:
            wanted.add(f"{CHANNEL_SKILL}{channel}")
        return tuple(sorted(wanted))


def check_skills(field: str, skills: Sequence[str], errors: list[FieldError]) -> None:
    """Skills must be codes, each once, not too many; each mistake is named by place."""
    if len(skills) > MAX_SKILLS:
        errors.append(FieldError(field, f"at most {MAX_SKILLS} skills", "too-many"))
    if len(set(skills)) != len(skills):
        errors.append(FieldError(field, "each skill once", "duplicate"))
    for index, skill in enumerate(skills[:MAX_SKILLS]):
        if not isinstance(skill, str) or not SKILL_PATTERN.fullmatch(skill):
            errors.append(
                FieldError(
                    f"{field}[{index}]",
                    "a skill is 1-80 letters, digits, '.', '_', ':', '-' or '/', "
                    "e.g. fraud, en, channel:ozon",
                    "bad-skill",
                )
            )


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
    check_skills("skills", draft.skills, errors)
    if errors:
        raise InvalidInput(errors)


def qualified(skills: Iterable[str], needs: Iterable[str]) -> bool:
    """Whether an operator with ``skills`` may take a task that ``needs`` these."""
    return set(needs) <= set(skills)


def pick_assignee(
    queue: Queue,
    loads: Mapping[str, int],
    *,
    needs: Sequence[str] = (),
    skills: Mapping[str, frozenset[str]] | None = None,
) -> str | None:
    """Whom the queue's policy gives a new task to (None: it waits to be claimed, or no
    member has the skills it ``needs``). ``loads``: each member's unfinished tasks;
    ``skills``: each member's skills. Only members who have every skill needed are
    considered: round robin takes the next of them after the last one given a task,
    least loaded the one of them with the fewest unfinished tasks."""
    if queue.policy is Policy.CLAIM or not queue.members:
        return None
    known = skills or {}
    able = [m for m in queue.members if qualified(known.get(m, frozenset()), needs)]
    if not able:
        return None
    if queue.policy is Policy.ROUND_ROBIN:
        if queue.last_assigned in queue.members:
            start = queue.members.index(queue.last_assigned) + 1
            turn = queue.members[start:] + queue.members[:start]
            return next(m for m in turn if m in able)
        return able[0]
    order = {m: i for i, m in enumerate(queue.members)}
    return min(able, key=lambda m: (loads.get(m, 0), order[m]))


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
    skills: tuple[str, ...] = ()  # what whoever takes it must be able to do

    def overdue(self, at: datetime) -> bool:
        return self.state in UNFINISHED and self.due_at <= at
