"""Task queues and tasks; claiming is a conditional update, so two operators never both
get one task."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from potok.db.engine import is_sqlite
from potok.db.tables import operator_skills, task_queues, tasks
from potok.domain.tasks import Policy, Queue, QueueDraft, Task, TaskState
from potok.services.task_ports import OperatorLoad, QueueFigures

_UNFINISHED = ("open", "claimed")


def _queue(row: sa.Row[Any]) -> Queue:
    return Queue(
        id=int(row.id),
        code=row.code,
        name=row.name,
        policy=Policy(row.policy),
        members=tuple(row.members),
        sla_minutes=row.sla_minutes,
        supervisor=row.supervisor,
        last_assigned=row.last_assigned,
        skills=tuple(row.skills or ()),
        by_channel=bool(row.by_channel),
    )


_TASK_COLUMNS = [*tasks.c, task_queues.c.code.label("queue_code")]


def _task(row: sa.Row[Any]) -> Task:
    return Task(
        id=int(row.id),
        queue=row.queue_code,
        order_id=None if row.order_id is None else int(row.order_id),
        title=row.title,
        state=TaskState(row.state),
        assignee=row.assignee,
        created_at=row.created_at,
        created_by=row.created_by,
        due_at=row.due_at,
        claimed_at=row.claimed_at,
        done_at=row.done_at,
        escalated_at=row.escalated_at,
        escalated_to=row.escalated_to,
        note=row.note,
        skills=tuple(row.skills or ()),
    )


def _select() -> sa.Select[Any]:
    return sa.select(*_TASK_COLUMNS).select_from(
        tasks.join(task_queues, tasks.c.queue_id == task_queues.c.id)
    )


class TaskRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    # ------------------------------------------------------------------ queues

    def queue(self, code: str, *, lock: bool = False) -> Queue | None:
        query = sa.select(task_queues).where(task_queues.c.code == code)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return _queue(row) if row is not None else None

    def queues(self) -> list[Queue]:
        rows = self.connection.execute(sa.select(task_queues).order_by(task_queues.c.code))
        return [_queue(r) for r in rows]

    def put_queue(self, draft: QueueDraft, at: datetime) -> Queue:
        values = {
            "name": draft.name,
            "policy": draft.policy.value,
            "members": list(draft.members),
            "sla_minutes": draft.sla_minutes,
            "supervisor": draft.supervisor,
            "skills": sorted(set(draft.skills)),
            "by_channel": draft.by_channel,
            "updated_at": at,
        }
        found = self.queue(draft.code, lock=True)
        if found is None:
            self.connection.execute(
                sa.insert(task_queues).values(code=draft.code, created_at=at, **values)
            )
        else:
            self.connection.execute(
                sa.update(task_queues).where(task_queues.c.id == found.id).values(**values)
            )
        stored = self.queue(draft.code)
        assert stored is not None
        return stored

    def note_assigned(self, queue_id: int, user: str) -> None:
        self.connection.execute(
            sa.update(task_queues).where(task_queues.c.id == queue_id).values(last_assigned=user)
        )

    def loads(self, users: Sequence[str]) -> dict[str, int]:
        if not users:
            return {}
        rows = self.connection.execute(
            sa.select(tasks.c.assignee, sa.func.count())
            .where(tasks.c.assignee.in_(list(users)), tasks.c.state.in_(_UNFINISHED))
            .group_by(tasks.c.assignee)
        )
        return {r[0]: int(r[1]) for r in rows}

    # ------------------------------------------------------------------ skills

    def skills_of(self, users: Sequence[str]) -> dict[str, frozenset[str]]:
        """Each named operator's skills (none: no entry)."""
        if not users:
            return {}
        rows = self.connection.execute(
            sa.select(operator_skills.c.username, operator_skills.c.skills).where(
                operator_skills.c.username.in_(list(users))
            )
        )
        return {r[0]: frozenset(r[1] or ()) for r in rows}

    def all_skills(self) -> dict[str, frozenset[str]]:
        rows = self.connection.execute(
            sa.select(operator_skills.c.username, operator_skills.c.skills)
        )
        return {r[0]: frozenset(r[1] or ()) for r in rows}

    def set_skills(self, user: str, skills: Sequence[str], at: datetime) -> None:
        values = {"skills": sorted(set(skills)), "updated_at": at}
        changed = self.connection.execute(
            sa.update(operator_skills).where(operator_skills.c.username == user).values(**values)
        )
        if changed.rowcount == 0:
            self.connection.execute(sa.insert(operator_skills).values(username=user, **values))

    # ------------------------------------------------------------------ tasks

    def add(
        self,
        queue: Queue,
        order_id: int | None,
        title: str,
        assignee: str | None,
        at: datetime,
        created_by: str,
        skills: Sequence[str] = (),
    ) -> Task:
        needs = tuple(sorted(set(skills)))
        task_id = self.connection.execute(
            sa.insert(tasks)
            .values(
                queue_id=queue.id,
                order_id=order_id,
                title=title,
                state=TaskState.OPEN.value,
                assignee=assignee,
                created_at=at,
                created_by=created_by,
                due_at=queue.due(at),
                skills=list(needs),
            )
            .returning(tasks.c.id)
        ).scalar_one()
        return Task(
            int(task_id),
            queue.code,
            order_id,
            title,
            TaskState.OPEN,
            assignee,
            at,
            created_by,
            queue.due(at),
            skills=needs,
        )

    def get(self, task_id: int, *, lock: bool = False) -> Task | None:
        query = _select().where(tasks.c.id == task_id)
        if lock:
            query = query.with_for_update(of=tasks)
        row = self.connection.execute(query).first()
        return _task(row) if row is not None else None

    def claim(self, task_id: int, user: str, at: datetime) -> bool:
        """Take an open task that is nobody's or the user's own: true for the one who got it."""
        result = self.connection.execute(
            sa.update(tasks)
            .where(
                tasks.c.id == task_id,
                tasks.c.state == TaskState.OPEN.value,
                sa.or_(tasks.c.assignee.is_(None), tasks.c.assignee == user),
            )
            .values(state=TaskState.CLAIMED.value, assignee=user, claimed_at=at)
        )
        return result.rowcount == 1

    def next_open(self, queue: Queue, user: str, skills: frozenset[str]) -> int | None:
        """The open task the user should take next in the queue (theirs, or nobody's that
        needs no skill beyond ``skills``; the soonest due first), locked; on PostgreSQL
        tasks another operator is taking are passed over rather than waited for."""
        query = (
            sa.select(tasks.c.id)
            .where(
                tasks.c.queue_id == queue.id,
                tasks.c.state == TaskState.OPEN.value,
                sa.or_(
                    tasks.c.assignee == user,
                    sa.and_(tasks.c.assignee.is_(None), self._needs_within(skills)),
                ),
            )
            .order_by(tasks.c.due_at, tasks.c.id)
            .limit(1)
        )
        if not is_sqlite(self.connection):
            query = query.with_for_update(skip_locked=True)
        found = self.connection.execute(query).scalar()
        return None if found is None else int(found)

    def _needs_within(self, skills: frozenset[str]) -> sa.ColumnElement[bool] | sa.TextClause:
        """The task needs no skill beyond ``skills``."""
        mine = sorted(skills)
        if is_sqlite(self.connection):
            return sa.text(
                "NOT EXISTS (SELECT 1 FROM json_each(tasks.skills) AS needed "
                "WHERE needed.value NOT IN (SELECT value FROM json_each(:mine)))"
            ).bindparams(mine=json.dumps(mine))
        return tasks.c.skills.op("<@")(sa.literal(mine, type_=postgresql.JSONB))

    def save(self, task: Task) -> None:
        self.connection.execute(
            sa.update(tasks)
            .where(tasks.c.id == task.id)
            .values(
                state=task.state.value,
                assignee=task.assignee,
                claimed_at=task.claimed_at,
                done_at=task.done_at,
                escalated_at=task.escalated_at,
                escalated_to=task.escalated_to,
                note=task.note,
            )
        )

    def find(
        self,
        *,
        queue: str | None,
        state: TaskState | None,
        user: str | None,
        order_id: int | None,
        limit: int,
    ) -> list[Task]:
        query = _select()
        if queue is not None:
            query = query.where(task_queues.c.code == queue)
        if state is not None:
            query = query.where(tasks.c.state == state.value)
        if user is not None:  # "my tasks": given to me, or escalated to me
            query = query.where(sa.or_(tasks.c.assignee == user, tasks.c.escalated_to == user))
        if order_id is not None:
            query = query.where(tasks.c.order_id == order_id)
        rows = self.connection.execute(query.order_by(tasks.c.due_at, tasks.c.id).limit(limit))
        return [_task(r) for r in rows]

    def overdue(self, at: datetime, limit: int) -> list[int]:
        rows = self.connection.execute(
            sa.select(tasks.c.id)
            .where(
                tasks.c.state.in_(_UNFINISHED),
                tasks.c.due_at <= at,
                tasks.c.escalated_at.is_(None),
            )
            .order_by(tasks.c.due_at, tasks.c.id)
            .limit(limit)
        )
        return [int(r[0]) for r in rows]

    # ------------------------------------------------------------------ figures

    def operator_loads(self, at: datetime) -> list[OperatorLoad]:
        state, due, done_at = tasks.c.state, tasks.c.due_at, tasks.c.done_at

        def count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
            return sa.func.sum(sa.case((condition, 1), else_=0))

        rows = self.connection.execute(
            sa.select(
                tasks.c.assignee,
                count(state == "open"),
                count(state == "claimed"),
                count(sa.and_(state.in_(_UNFINISHED), due <= at)),
                count(state == "done"),
                count(sa.and_(state == "done", done_at > due)),
            )
            .where(tasks.c.assignee.is_not(None))
            .group_by(tasks.c.assignee)
            .order_by(tasks.c.assignee)
        )
        return [OperatorLoad(r[0], *(int(v or 0) for v in r[1:])) for r in rows]

    def queue_figures(self, at: datetime) -> list[QueueFigures]:
        state, due, done_at = tasks.c.state, tasks.c.due_at, tasks.c.done_at

        def count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
            return sa.func.sum(sa.case((condition, 1), else_=0))

        rows = self.connection.execute(
            sa.select(
                task_queues.c.code,
                count(state == "open"),
                count(state == "claimed"),
                count(sa.and_(state.in_(_UNFINISHED), due <= at)),
                count(state == "done"),
                count(sa.and_(state == "done", done_at <= due)),
            )
            .select_from(task_queues.outerjoin(tasks, tasks.c.queue_id == task_queues.c.id))
            .group_by(task_queues.c.code)
            .order_by(task_queues.c.code)
        )
        return [QueueFigures(r[0], *(int(v or 0) for v in r[1:])) for r in rows]
