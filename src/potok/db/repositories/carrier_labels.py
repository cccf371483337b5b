"""Carriers' labels the worker fetches, kept per shipment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.tables import carrier_labels
from potok.services.carrier_label_ports import LabelJob, LabelState

T = carrier_labels.c
COLUMNS = (
    T.shipment_id,
    T.carrier,
    T.state,
    T.attempts,
    T.next_attempt_at,
    T.last_error,
    T.created_at,
    T.updated_at,
)


class CarrierLabelRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def get(self, shipment_id: int) -> LabelJob | None:
        row = self.connection.execute(
            sa.select(*COLUMNS).where(T.shipment_id == shipment_id)
        ).first()
        return None if row is None else _job(row)

    def pdf(self, shipment_id: int) -> bytes | None:
        found = self.connection.execute(
            sa.select(T.pdf).where(T.shipment_id == shipment_id, T.state == LabelState.READY)
        ).scalar_one_or_none()
        return None if found is None else bytes(found)

    def want(self, shipment_id: int, carrier: str, at: datetime) -> None:
        revived = self.connection.execute(
            sa.update(carrier_labels)
            .where(T.shipment_id == shipment_id, T.state == LabelState.FAILED)
            .values(carrier=carrier, state=LabelState.WAITING, next_attempt_at=at, updated_at=at)
        ).rowcount
        if revived:
            return
        exists = self.connection.execute(
            sa.select(T.shipment_id).where(T.shipment_id == shipment_id)
        ).first()
        if exists is None:
            self.connection.execute(
                sa.insert(carrier_labels).values(
                    shipment_id=shipment_id,
                    carrier=carrier,
                    state=LabelState.WAITING,
                    attempts=0,
                    next_attempt_at=at,
                    created_at=at,
                    updated_at=at,
                )
            )

    def due(self, now: datetime, limit: int) -> list[LabelJob]:
        rows = self.connection.execute(
            sa.select(*COLUMNS)
            .where(T.state == LabelState.WAITING, T.next_attempt_at <= now)
            .order_by(T.next_attempt_at, T.shipment_id)
            .limit(limit)
        )
        return [_job(row) for row in rows]

    def claim(self, job: LabelJob, until: datetime, now: datetime) -> bool:
        taken = self.connection.execute(
            sa.update(carrier_labels)
            .where(
                T.shipment_id == job.shipment_id,
                T.state == LabelState.WAITING,
                T.attempts == job.attempts,
                T.next_attempt_at <= now,
            )
            .values(attempts=T.attempts + 1, next_attempt_at=until, updated_at=now)
        ).rowcount
        return bool(taken)

    def retry_at(self, shipment_id: int, at: datetime, error: str, now: datetime) -> None:
        self._set(shipment_id, now, next_attempt_at=at, last_error=error[:500])

    def done(self, shipment_id: int, pdf: bytes | None, now: datetime) -> None:
        self._set(
            shipment_id,
            now,
            state=LabelState.READY,
            pdf=pdf,
            next_attempt_at=None,
            last_error=None,
        )

    def fail(self, shipment_id: int, error: str, now: datetime) -> None:
        self._set(
            shipment_id, now, state=LabelState.FAILED, next_attempt_at=None, last_error=error[:500]
        )

    def _set(self, shipment_id: int, now: datetime, **values: Any) -> None:
        self.connection.execute(
            sa.update(carrier_labels)
            .where(T.shipment_id == shipment_id)
            .values(updated_at=now, **values)
        )


def _job(row: Any) -> LabelJob:
    return LabelJob(
        shipment_id=row.shipment_id,
        carrier=row.carrier,
        state=LabelState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
