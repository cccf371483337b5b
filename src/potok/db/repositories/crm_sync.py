"""A CRM connection's back-fill and Potok's orders the CRM knows, in and out of their
tables (``crm_backfills``, ``crm_orders``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from potok.db.tables import crm_backfills, crm_orders, orders
from potok.services.crm_ports import Backfill, BackfillStep

_b = crm_backfills.c
_k = crm_orders.c


def _backfill(row: Any) -> Backfill:
    return Backfill(
        state=row.state,
        through_order_id=row.through_order_id,
        after_order_id=row.after_order_id,
        total=row.total,
        sent=row.sent,
        created=row.created,
        updated=row.updated,
        refused=row.refused,
        customers=row.customers,
        requests=row.requests,
        last_error=row.last_error,
        worker=row.worker,
        lease_until=row.lease_until,
        started_at=row.started_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )


class CrmSyncRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _insert(self, table: sa.Table) -> Any:
        dialect: Any = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    # ------------------------------------------------------------------ back-fill

    def backfill(self, connection_id: int) -> Backfill | None:
        row = self.connection.execute(
            sa.select(crm_backfills).where(_b.connection_id == connection_id)
        ).first()
        return _backfill(row) if row is not None else None

    def start_backfill(self, connection_id: int, *, through: int, total: int, at: datetime) -> None:
        """A back-fill from the first order (one that ran before starts over)."""
        values = {
            "state": "running" if total else "done",
            "through_order_id": through,
            "after_order_id": 0,
            "total": total,
            "sent": 0,
            "created": 0,
            "updated": 0,
            "refused": 0,
            "customers": 0,
            "requests": 0,
            "last_error": None,
            "worker": None,
            "lease_until": None,
            "started_at": at,
            "updated_at": at,
            "finished_at": None if total else at,
        }
        statement = self._insert(crm_backfills).values(connection_id=connection_id, **values)
        self.connection.execute(
            statement.on_conflict_do_update(index_elements=["connection_id"], set_=values)
        )

    def claim_backfill(
        self, connection_id: int, worker: str, at: datetime, until: datetime
    ) -> bool:
        """Run the back-fill from here until ``until``: when it is running and nobody else
        runs it (or their lease is over)."""
        claimed = self.connection.execute(
            sa.update(crm_backfills)
            .where(
                _b.connection_id == connection_id,
                _b.state == "running",
                sa.or_(_b.worker.is_(None), _b.worker == worker, _b.lease_until < at),
            )
            .values(worker=worker, lease_until=until)
        )
        return claimed.rowcount == 1

    def advance_backfill(
        self,
        connection_id: int,
        worker: str,
        step: BackfillStep,
        *,
        at: datetime,
        until: datetime,
        done: bool,
    ) -> bool:
        """Add one batch to the counts and move the cursor - only while ``worker`` holds
        it (False: somebody else took it over)."""
        moved = self.connection.execute(
            sa.update(crm_backfills)
            .where(
                _b.connection_id == connection_id,
                _b.worker == worker,
                _b.state == "running",
                _b.after_order_id <= step.after_order_id,
            )
            .values(
                after_order_id=step.after_order_id,
                sent=_b.sent + step.sent,
                created=_b.created + step.created,
                updated=_b.updated + step.updated,
                refused=_b.refused + step.refused,
                customers=_b.customers + step.customers,
                requests=_b.requests + step.requests,
                last_error=None,
                lease_until=until,
                updated_at=at,
                state="done" if done else "running",
                finished_at=at if done else None,
            )
        )
        return moved.rowcount == 1

    def fail_backfill(self, connection_id: int, worker: str, error: str, at: datetime) -> None:
        self.connection.execute(
            sa.update(crm_backfills)
            .where(_b.connection_id == connection_id, _b.worker == worker)
            .values(last_error=error[:1000], updated_at=at)
        )

    def release_backfill(self, connection_id: int, worker: str) -> None:
        self.connection.execute(
            sa.update(crm_backfills)
            .where(_b.connection_id == connection_id, _b.worker == worker)
            .values(worker=None, lease_until=None)
        )

    def orders_to_tell(self, channel_id: int, *, after: int, through: int, limit: int) -> list[int]:
        o = orders.c
        return list(
            self.connection.scalars(
                sa.select(o.id)
                .where(o.channel_id != channel_id, o.id > after, o.id <= through)
                .order_by(o.id)
                .limit(limit)
            )
        )

    def count_to_tell(self, channel_id: int) -> tuple[int, int]:
        o = orders.c
        row = self.connection.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(o.id), 0)).where(
                o.channel_id != channel_id
            )
        ).one()
        return int(row[0]), int(row[1])

    # ------------------------------------------------------------------ orders the CRM knows

    def note_told(self, connection_id: int, order_ids: Collection[int], at: datetime) -> None:
        rows = [
            {"connection_id": connection_id, "order_id": i, "told_at": at, "updated_at": at}
            for i in sorted(set(order_ids))
        ]
        if rows:
            statement = self._insert(crm_orders)
            statement = statement.on_conflict_do_update(
                index_elements=["connection_id", "order_id"],
                set_={"told_at": sa.func.coalesce(_k.told_at, statement.excluded.told_at)},
            )
            self.connection.execute(statement, rows)

    def told(self, connection_id: int, order_ids: Collection[int]) -> set[int]:
        if not order_ids:
            return set()
        return set(
            self.connection.scalars(
                sa.select(_k.order_id).where(
                    _k.connection_id == connection_id,
                    _k.order_id.in_(sorted(set(order_ids))),
                    _k.told_at.is_not(None),
                )
            )
        )

    def history_mark(self, connection_id: int, order_id: int) -> int:
        found = self.connection.scalar(
            sa.select(_k.history_id).where(
                _k.connection_id == connection_id, _k.order_id == order_id
            )
        )
        return int(found or 0)

    def mark_history(
        self, connection_id: int, order_id: int, history_id: int, at: datetime
    ) -> None:
        statement = self._insert(crm_orders).values(
            connection_id=connection_id, order_id=order_id, history_id=history_id, updated_at=at
        )
        self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=["connection_id", "order_id"],
                set_={"history_id": history_id, "updated_at": at},
            )
        )
