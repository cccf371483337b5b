"""Administrators' notification switches, every change kept (the newest in force)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from potok.db.tables import notification_switches as t
from potok.domain.notifications.switches import NotificationSwitch, SwitchKind


def _switch(row: Any) -> NotificationSwitch:
    return NotificationSwitch(
        kind=SwitchKind(row.kind),
        code=row.code,
        enabled=bool(row.enabled),
        changed_at=row.changed_at,
        changed_by=row.changed_by,
    )


_CURRENT = (  # the newest change of one switch
    sa.select(t)
    .where(t.c.kind == sa.bindparam("kind"), t.c.code == sa.bindparam("code"))
    .order_by(t.c.id.desc())
    .limit(1)
)


class NotificationSwitchRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def current(self, kind: SwitchKind, code: str) -> NotificationSwitch | None:
        row = self.connection.execute(_CURRENT, {"kind": kind.value, "code": code}).first()
        return _switch(row) if row is not None else None

    def all_current(self) -> list[NotificationSwitch]:
        newest = sa.select(sa.func.max(t.c.id).label("id")).group_by(t.c.kind, t.c.code).subquery()
        rows = self.connection.execute(
            sa.select(t).join(newest, t.c.id == newest.c.id).order_by(t.c.kind, t.c.code)
        )
        return [_switch(r) for r in rows]

    def history(self, kind: SwitchKind, code: str) -> list[NotificationSwitch]:
        rows = self.connection.execute(
            sa.select(t).where(t.c.kind == kind.value, t.c.code == code).order_by(t.c.id.desc())
        )
        return [_switch(r) for r in rows]

    def add(self, switch: NotificationSwitch) -> None:
        self.connection.execute(
            sa.insert(t).values(
                kind=switch.kind.value,
                code=switch.code,
                enabled=switch.enabled,
                changed_at=switch.changed_at,
                changed_by=switch.changed_by[:255],
            )
        )
