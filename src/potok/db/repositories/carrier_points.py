"""Carriers' pickup points kept in Potok (the directory)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.tables import carrier_points
from potok.services.carrier_point_ports import Box, DirectoryPoint

T = carrier_points.c
FIELDS = (
    "name",
    "kind",
    "city",
    "address",
    "latitude",
    "longitude",
    "hours",
    "storage_days",
    "cash_on_delivery",
    "cards",
    "weight_max_g",
    "cells",
    "active",
    "synced_at",
)
CHUNK = 500


class CarrierPointRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def upsert(self, points: Sequence[DirectoryPoint]) -> tuple[int, int]:
        added = updated = 0
        by_carrier: dict[str, list[DirectoryPoint]] = {}
        for point in points:
            by_carrier.setdefault(point.carrier, []).append(point)
        for carrier, batch in by_carrier.items():
            known = {
                row.code: row.id
                for row in self.connection.execute(
                    sa.select(T.id, T.code).where(T.carrier == carrier)
                )
            }
            fresh = [_values(p) for p in batch if p.code not in known]
            for start in range(0, len(fresh), CHUNK):
                self.connection.execute(sa.insert(carrier_points), fresh[start : start + CHUNK])
            added += len(fresh)
            changes = [
                {"row_id": known[p.code], **{f: getattr(p, f) for f in FIELDS}}
                for p in batch
                if p.code in known
            ]
            if changes:
                statement = (
                    sa.update(carrier_points)
                    .where(T.id == sa.bindparam("row_id"))
                    .values({f: sa.bindparam(f) for f in FIELDS})
                )
                for start in range(0, len(changes), CHUNK):
                    self.connection.execute(statement, changes[start : start + CHUNK])
            updated += len(changes)
        return added, updated

    def close_missing(self, carrier: str, synced_before: datetime) -> int:
        result = self.connection.execute(
            sa.update(carrier_points)
            .where(T.carrier == carrier, T.active.is_(True), T.synced_at < synced_before)
            .values(active=False)
        )
        return int(result.rowcount or 0)

    def get(self, carrier: str, code: str) -> DirectoryPoint | None:
        row = self.connection.execute(
            sa.select(carrier_points).where(T.carrier == carrier, T.code == code)
        ).first()
        return _point(row) if row else None

    def carriers_of(self, code: str) -> list[str]:
        return [
            str(c)
            for c in self.connection.execute(
                sa.select(T.carrier).where(T.code == code).order_by(T.carrier)
            ).scalars()
        ]

    def search(
        self,
        *,
        carrier: str | None,
        city: str | None,
        box: Box | None,
        text: str | None,
        limit: int,
    ) -> list[DirectoryPoint]:
        query = sa.select(carrier_points).where(T.active.is_(True))
        if carrier is not None:
            query = query.where(T.carrier == carrier)
        if city is not None:
            query = query.where(sa.func.lower(T.city) == city.lower())
        if box is not None:
            query = query.where(
                T.latitude.between(box.south, box.north),
                T.longitude.between(box.west, box.east),
            )
        if text:
            pattern = "%" + text.lower().replace("%", "").replace("_", "") + "%"
            query = query.where(
                sa.or_(sa.func.lower(T.address).like(pattern), sa.func.lower(T.name).like(pattern))
            )
        query = query.order_by(T.carrier, T.code).limit(limit)
        return [_point(r) for r in self.connection.execute(query)]


def _values(point: DirectoryPoint) -> dict[str, Any]:
    return {"carrier": point.carrier, "code": point.code, **{f: getattr(point, f) for f in FIELDS}}


def _point(row: sa.Row[Any]) -> DirectoryPoint:
    return DirectoryPoint(
        carrier=row.carrier,
        code=row.code,
        name=row.name,
        kind=row.kind,
        city=row.city,
        address=row.address,
        latitude=float(row.latitude),
        longitude=float(row.longitude),
        hours=row.hours,
        storage_days=int(row.storage_days),
        cash_on_delivery=bool(row.cash_on_delivery),
        cards=bool(row.cards),
        weight_max_g=row.weight_max_g,
        cells=row.cells or "",
        active=bool(row.active),
        synced_at=row.synced_at,
    )
