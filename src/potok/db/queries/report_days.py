"""The daily aggregates of the order facts: counters per day, channel, warehouse, carrier
and currency (``order_days``) and stage-time histograms per day and grouping
(``order_stage_days``). Written as differences - what the replaced facts counted comes
off, what the new ones count goes on - in the transaction that rewrites the facts, so the
days always add up to the facts; read summed per bucket of a period by SQL, so a report
over a year reads days, not orders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from potok.db.engine import is_sqlite
from potok.db.tables import order_days, order_stage_days
from potok.domain.analytics import (
    BIN_KEYS,
    COUNTERS,
    DAY_KEYS,
    BucketSums,
    Dimension,
    Grain,
    OrderFact,
    Period,
    day_deltas,
    full_spans,
    grouping,
)

_d, _s = order_days, order_stage_days


class ReportDays:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.sqlite = is_sqlite(connection)

    # ------------------------------------------------------------------ writing

    def apply(self, removed: Iterable[OrderFact], added: Iterable[OrderFact]) -> None:
        """Take what the removed facts counted off their days, add what the added count.
        Rows are written in key order, so two refreshes lock shared days in one order."""
        days, bins = day_deltas(removed, added)
        day_rows = [dict(zip(DAY_KEYS, k, strict=True)) | v for k, v in days]
        stage_rows = [dict(zip(BIN_KEYS, k, strict=True)) | v for k, v in bins]
        self._add(_d, day_rows, DAY_KEYS, COUNTERS)
        self._add(_s, stage_rows, BIN_KEYS, ("orders", "ms"))

    def clear(self) -> None:
        """Forget every day (a rebuild writes them again with the facts)."""
        self.connection.execute(_s.delete())
        self.connection.execute(_d.delete())

    def _add(
        self,
        table: sa.Table,
        rows: list[dict[str, Any]],
        keys: Sequence[str],
        amounts: Sequence[str],
    ) -> None:
        if not rows:
            return
        insert = sqlite_dialect.insert(table) if self.sqlite else postgresql.insert(table)
        statement = insert.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: table.c[name] + insert.excluded[name] for name in amounts},
        )
        self.connection.execute(statement, rows)

    # ------------------------------------------------------------------ reading

    def sums(
        self,
        period: Period,
        dimension: Dimension,
        *,
        channels: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
        whole: bool = False,
    ) -> list[BucketSums]:
        """The days of the period summed per bucket (or over the whole period), dimension
        value and currency; only buckets that had orders."""
        found: dict[tuple[date, str, str], BucketSums] = {}
        query = self._summed(_d, period, dimension, whole, channels, warehouses)
        query = query.add_columns(*(sa.func.sum(_d.c[n]).label(n) for n in COUNTERS))
        for row in self.connection.execute(query).all():
            if not row.orders:
                continue
            key = self._key(row, period, dimension, whole)
            found[key] = BucketSums(*key, counts={n: row._mapping[n] for n in COUNTERS})
        kept = grouping(dimension, channels=channels is not None, warehouses=warehouses is not None)
        span = "m" if whole or period.grain is Grain.MONTH else period.grain.value[0]
        bins: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
        for part, since, until in full_spans(period, span):
            query = self._summed(
                _s, Period(since, until, period.grain), dimension, whole, channels, warehouses
            )
            query = (
                query.add_columns(
                    _s.c.stage, _s.c.bin, sa.func.sum(_s.c.orders), sa.func.sum(_s.c.ms)
                )
                .where(_s.c.grouping == kept, _s.c.span == part)
                .group_by(_s.c.stage, _s.c.bin)
            )
            for row in self.connection.execute(query).all():
                cell = bins[(self._key(row, period, dimension, whole), row.stage, row.bin)]
                cell[0] += int(row[-2])
                cell[1] += int(row[-1])
        for (key, stage, b), (n, ms) in bins.items():
            sums = found.get(key)
            if sums is not None and n:
                sums.stages[stage].append((b, n, ms))
        return [found[k] for k in sorted(found)]

    def _summed(
        self,
        table: sa.Table,
        period: Period,
        dimension: Dimension,
        whole: bool,
        channels: Sequence[str] | None,
        warehouses: Sequence[str] | None,
    ) -> sa.Select[Any]:
        """A grouped select of a table's days in the period: bucket, dimension, currency."""
        columns: list[Any] = []
        if not whole:
            columns.append(self._bucket(table.c.created_on, period.grain).label("first"))
        if dimension is not Dimension.NONE:
            columns.append(table.c[dimension.value].label("key"))
        columns.append(table.c.currency)
        query = (
            sa.select(*columns)
            .where(table.c.created_on >= period.since, table.c.created_on <= period.until)
            .group_by(*columns)
        )
        if channels is not None:
            query = query.where(table.c.channel.in_(list(channels)))
        if warehouses is not None:
            query = query.where(table.c.warehouse.in_(list(warehouses)))
        return query

    def _bucket(self, day: sa.ColumnElement[date], grain: Grain) -> sa.ColumnElement[date]:
        if grain is Grain.DAY:
            return day
        if self.sqlite:
            shift = ("weekday 0", "-6 days") if grain is Grain.WEEK else ("start of month",)
            return sa.func.date(day, *shift, type_=sa.Date)
        return sa.cast(sa.func.date_trunc(grain.value, day), sa.Date)

    @staticmethod
    def _key(row: Any, period: Period, dimension: Dimension, whole: bool) -> tuple[date, str, str]:
        first = period.since if whole else row.first
        key = "" if dimension is Dimension.NONE else row.key
        return (first, key, row.currency)
