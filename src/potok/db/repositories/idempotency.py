"""Answers to create requests, kept under the caller's Idempotency-Key for replays.

An answer shows the customer's data as the order does, so it is kept sealed (encrypted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.personal import open_json, seal_json
from potok.db.pg import Section
from potok.db.tables import idempotency_keys
from potok.domain.errors import TransientConflict
from potok.security.data import DataProtector
from potok.services.ports import StoredAnswer

_GET = sa.select(
    idempotency_keys.c.request_hash, idempotency_keys.c.status_code, idempotency_keys.c.response
).where(
    idempotency_keys.c.scope == sa.bindparam("scope"),
    idempotency_keys.c.key == sa.bindparam("key"),
)
_ADD = sa.insert(idempotency_keys)  # statements built once: building one per call cost more


class IdempotencyKeys:
    def __init__(
        self,
        connection: sa.Connection,
        protector: DataProtector,
        staged: list[Section] | None = None,
    ) -> None:
        self.connection = connection
        self.protector = protector
        self.staged = staged

    def get(self, scope: str, key: str) -> StoredAnswer | None:
        row = self.connection.execute(_GET, {"scope": scope, "key": key}).first()
        if row is None:
            return None
        return StoredAnswer(
            row.request_hash, row.status_code, open_json(self.protector, row.response)
        )

    def add(
        self, scope: str, key: str, request_hash: str, status_code: int, response: Any, at: datetime
    ) -> None:
        try:
            self.connection.execute(
                _ADD,
                {
                    "scope": scope,
                    "key": key,
                    "request_hash": request_hash,
                    "status_code": status_code,
                    "response": seal_json(self.protector, response),
                    "created_at": at,
                },
            )
        except sa.exc.IntegrityError as error:
            # the same key arrived twice at once: retrying replays the first answer
            raise TransientConflict(detail=f"Idempotency-Key '{key}' is in use") from error

    def stage(
        self, scope: str, key: str, request_hash: str, status_code: int, response: Any, at: datetime
    ) -> None:
        """:meth:`add`, written with the commit where the unit of work pipelines it
        (PostgreSQL: no round trip of its own). A key taken meanwhile by the same request
        sent twice at once fails the commit as a duplicate, which is retried and then
        replays the winner's answer."""
        if self.staged is None:
            self.add(scope, key, request_hash, status_code, response, at)
            return
        self.staged.append(
            (
                idempotency_keys,
                [
                    {
                        "scope": scope,
                        "key": key,
                        "request_hash": request_hash,
                        "status_code": status_code,
                        "response": seal_json(self.protector, response),
                        "created_at": at,
                    }
                ],
            )
        )

    def forget_older_than(self, moment: datetime) -> int:
        return self.connection.execute(
            sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < moment)
        ).rowcount
