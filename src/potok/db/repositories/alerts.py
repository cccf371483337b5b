"""Alerts for operators: raised by use cases, listed newest first, acknowledged once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from potok.db.engine import is_sqlite
from potok.db.queries.orders import order_ids_within
from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import operator_alerts, warehouses
from potok.domain.alerts import Alert, AlertKind, AlertState
from potok.services.read_models import OrderFilter


class AlertRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add(self, kind: AlertKind, order_id: int | None, message: str, at: datetime) -> Alert:
        alert_id = self.connection.execute(
            sa.insert(operator_alerts)
            .values(raised_at=at, kind=kind.value, order_id=order_id, message=message)
            .returning(operator_alerts.c.id)
        ).scalar_one()
        return Alert(int(alert_id), at, kind, order_id, message)

    def add_once(
        self,
        kind: AlertKind,
        subject: str,
        order_id: int | None,
        message: str,
        at: datetime,
        *,
        warehouse_id: int | None = None,
    ) -> Alert | None:
        """The alert, unless one of this kind about this subject was ever raised (None):
        racing transactions raise it once."""
        insert = (
            sqlite_dialect.insert(operator_alerts)
            if is_sqlite(self.connection)
            else postgresql.insert(operator_alerts)
        )
        alert_id = self.connection.execute(
            insert.values(
                raised_at=at,
                kind=kind.value,
                subject=subject,
                order_id=order_id,
                warehouse_id=warehouse_id,
                message=message,
            )
            .on_conflict_do_nothing(index_elements=["kind", "subject"])
            .returning(operator_alerts.c.id)
        ).scalar_one_or_none()
        if alert_id is None:
            return None
        return Alert(
            int(alert_id),
            at,
            kind,
            order_id,
            message,
            subject=subject,
            warehouse_id=warehouse_id,
        )

    def get(self, alert_id: int, *, lock: bool = False) -> Alert | None:
        query = sa.select(operator_alerts).where(operator_alerts.c.id == alert_id)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return _alert(row) if row is not None else None

    def acknowledge(self, alert_id: int, at: datetime, by: str) -> None:
        self.connection.execute(
            sa.update(operator_alerts)
            .where(operator_alerts.c.id == alert_id)
            .values(acknowledged_at=at, acknowledged_by=by)
        )

    def list_page(
        self,
        *,
        state: AlertState,
        order_id: int | None,
        cursor: str | None,
        limit: int,
        within: OrderFilter | None = None,
    ) -> tuple[list[Alert], str | None]:
        """Newest first; ``within`` keeps the alerts of the orders of its channels and
        warehouses, those of its warehouses (a location's), and those of neither, which
        every reader of alerts sees."""
        query = sa.select(operator_alerts).order_by(operator_alerts.c.id.desc()).limit(limit + 1)
        if within is not None:
            query = query.where(_within(within))
        if state is AlertState.OPEN:
            query = query.where(operator_alerts.c.acknowledged_at.is_(None))
        elif state is AlertState.ACKNOWLEDGED:
            query = query.where(operator_alerts.c.acknowledged_at.is_not(None))
        if order_id is not None:
            query = query.where(operator_alerts.c.order_id == order_id)
        if cursor:
            (last_id,) = decode_int_cursor(cursor, 1)
            query = query.where(operator_alerts.c.id < min(max(last_id, 0), 2**63 - 1))
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return [_alert(r) for r in rows], encode_cursor(rows[-1].id) if more else None


def _within(flt: OrderFilter) -> sa.ColumnElement[bool]:
    """The alerts a caller limited to these channels and warehouses may see."""
    alerts = operator_alerts.c
    of_location: sa.ColumnElement[bool] = alerts.warehouse_id.is_not(None)
    if flt.warehouses:
        of_location = alerts.warehouse_id.in_(
            sa.select(warehouses.c.id).where(warehouses.c.code.in_(list(flt.warehouses)))
        )
    return sa.or_(
        alerts.order_id.in_(order_ids_within(flt)),
        sa.and_(alerts.order_id.is_(None), sa.or_(alerts.warehouse_id.is_(None), of_location)),
    )


def _alert(row: Any) -> Alert:
    return Alert(
        id=int(row.id),
        raised_at=row.raised_at,
        kind=AlertKind(row.kind),
        order_id=row.order_id,
        message=row.message,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        subject=row.subject,
        warehouse_id=row.warehouse_id,
    )
