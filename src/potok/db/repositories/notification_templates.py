"""Administrators' message templates, every version kept."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from potok.db.tables import notification_templates as t
from potok.domain.notifications.templates import TemplateVersion


def _version(row: Any) -> TemplateVersion:
    return TemplateVersion(
        topic=row.topic,
        language=row.language,
        medium=row.medium,
        version=row.version,
        source=row.source,
        created_at=row.created_at,
        created_by=row.created_by,
    )


_CURRENT = (  # the newest version of one template
    sa.select(t)
    .where(
        t.c.topic == sa.bindparam("topic"),
        t.c.language == sa.bindparam("language"),
        t.c.medium == sa.bindparam("medium"),
    )
    .order_by(t.c.version.desc())
    .limit(1)
)


class NotificationTemplateRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def current(self, topic: str, language: str, medium: str) -> TemplateVersion | None:
        row = self.connection.execute(
            _CURRENT, {"topic": topic, "language": language, "medium": medium}
        ).first()
        return _version(row) if row is not None else None

    def all_current(self) -> list[TemplateVersion]:
        newest = (
            sa.select(t.c.topic, t.c.language, t.c.medium, sa.func.max(t.c.version).label("v"))
            .group_by(t.c.topic, t.c.language, t.c.medium)
            .subquery()
        )
        rows = self.connection.execute(
            sa.select(t).join(
                newest,
                sa.and_(
                    t.c.topic == newest.c.topic,
                    t.c.language == newest.c.language,
                    t.c.medium == newest.c.medium,
                    t.c.version == newest.c.v,
                ),
            )
        )
        return [_version(r) for r in rows]

    def history(self, topic: str, language: str, medium: str) -> list[TemplateVersion]:
        rows = self.connection.execute(
            sa.select(t)
            .where(t.c.topic == topic, t.c.language == language, t.c.medium == medium)
            .order_by(t.c.version.desc())
        )
        return [_version(r) for r in rows]

    def add(self, version: TemplateVersion) -> None:
        """A version taken by another save meanwhile is a lost race (the unique key)."""
        self.connection.execute(
            sa.insert(t).values(
                topic=version.topic,
                language=version.language,
                medium=version.medium,
                version=version.version,
                source=version.source,
                created_at=version.created_at,
                created_by=version.created_by[:255],
            )
        )
