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
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from potok.db.bulk import Prepared, prepare, run
from potok.db.engine import is_sqlite
from potok.db.tables import order_category_days, order_days, order_stage_days
from potok.domain.analytics import (
    BIN_KEYS,
    CATEGORY_KEYS,
    COUNTERS,
    DAY_KEYS,
    SPANS,
    BucketSums,
    Dimension,
    Grain,
    Histogram,
    OrderFact,
    Period,
    day_deltas,
    full_spans,
    grouping,
)

_d, _s, _k = order_days, order_stage_days, order_category_days
_CELL = ("orders", "ms")


@lru_cache(maxsize=16)
def _upsert(
    dialect: sa.Dialect, table: sa.Table, keys: tuple[str, ...], amounts: tuple[str, ...]
) -> Prepared:
    """The upsert of rows of ``keys`` then ``amounts``, the amounts added to a stored
    row's, compiled for the dialect."""
    insert = (
        postgresql.insert(table) if dialect.name == "postgresql" else sqlite_dialect.insert(table)
    )
    statement = insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + insert.excluded[name] for name in amounts},
    )
    return prepare(dialect, statement, table, (*keys, *amounts))


class ReportDays:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.sqlite = is_sqlite(connection)

    # ------------------------------------------------------------------ writing

    def apply(self, removed: Iterable[OrderFact], added: Iterable[OrderFact]) -> None:
        """Take what the removed facts counted off their days, add what the added count.
        Rows are written in key order, so two refreshes lock shared days in one order."""
        days, bins, kinds = day_deltas(removed, added)
        self._add(_d, [(*k, *(v[n] for n in COUNTERS)) for k, v in days], DAY_KEYS, COUNTERS)
        self._add(_s, [(*k, v["orders"], v["ms"]) for k, v in bins], BIN_KEYS, _CELL)
        self._add(_k, [(*k, *(v[n] for n in COUNTERS)) for k, v in kinds], CATEGORY_KEYS, COUNTERS)

    def clear(self) -> None:
        """Forget every day (a rebuild writes them again with the facts)."""
        self.connection.execute(_s.delete())
        self.connection.execute(_d.delete())
        self.connection.execute(_k.delete())

    def _add(
        self,
        table: sa.Table,
        rows: list[tuple[Any, ...]],
        keys: Sequence[str],
        amounts: Sequence[str],
    ) -> None:
        """Upsert rows of ``keys`` then ``amounts`` values, adding the amounts to a stored
        row's. A rebuild writes hundreds of thousands of histogram cells: one compiled
        statement takes them all (``potok.db.bulk``)."""
        if rows:
            prepared = _upsert(self.connection.dialect, table, tuple(keys), tuple(amounts))
            run(self.connection, prepared, rows)

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
        by_category = dimension is Dimension.CATEGORY
        table = _k if by_category else _d
        query = self._summed(table, period, dimension, whole, channels, warehouses)
        query = query.add_columns(*(sa.func.sum(table.c[n]).label(n) for n in COUNTERS))
        for row in self.connection.execute(query).all():
            if not row.orders:
                continue
            key = self._key(row, period, dimension, whole)
            found[key] = BucketSums(*key, counts={n: row._mapping[n] for n in COUNTERS})
        if by_category:  # stage times are the orders', not their categories': not cut so
            return [found[k] for k in sorted(found)]
        kept = grouping(dimension, channels=channels is not None, warehouses=warehouses is not None)
        span = "m" if whole or period.grain is Grain.MONTH else period.grain.value[0]
        query = self._stage_cells(
            period,
            full_spans(period, span),
            dimension,
            whole,
            channels,
            warehouses,
            kept=kept,
        )
        cells: dict[tuple[Any, ...], list[tuple[int, int, int]]] = defaultdict(list)
        totals: dict[tuple[Any, ...], int] = {}
        for first, key, currency, stage, upto, n, ms, total in self.connection.execute(query):
            where = (period.since if whole else first, key, currency, stage)
            cells[where].append((upto, n, ms))
            totals[where] = total
        for (first, key, currency, stage), kept_cells in cells.items():
            sums = found.get((first, key, currency))
            if sums is not None:
                sums.stages[stage] = Histogram(totals[first, key, currency, stage], kept_cells)
        return [found[k] for k in sorted(found)]

    def _stage_cells(
        self,
        period: Period,
        parts: list[tuple[str, date, date]],
        dimension: Dimension,
        whole: bool,
        channels: Sequence[str] | None,
        warehouses: Sequence[str] | None,
        *,
        kept: str,
    ) -> sa.Select[Any]:
        """The stage-time histograms of the period's buckets, read from the stored rows of one
        grouping (whole weeks or months where the period has them, days around them): per
        bucket, dimension value, currency and stage, only the bins the median and the 90th
        percentile read (:func:`near_ranks`), each with the rank just past it and the
        histogram's total - a year by week is a few rows per week, not every bin.

        Each part of the period is read on its own (so the key's index finds it), and summed
        only where several stored rows fall into one bin: days into a week or month, and
        every channel's (or warehouse's) row when a report filters by it but is not cut by
        it; a whole week's row of the same grouping is a bin as it stands."""
        key = None if dimension is Dimension.NONE else _s.c[dimension.value]
        cut_alike = kept == grouping(dimension, channels=False, warehouses=False)
        selects = []
        for span, since, until in parts:
            same_grain = SPANS[span] is period.grain
            bucket = _s.c.created_on if same_grain else self._bucket(_s.c.created_on, period.grain)
            shown = [
                (sa.null() if whole else bucket).label("first"),
                (sa.literal_column("''") if key is None else key).label("key"),
                _s.c.currency.label("currency"),
                _s.c.stage.label("stage"),
                _s.c.bin.label("bin"),
            ]
            if whole or (same_grain and cut_alike):  # whole: summed once, below
                part = sa.select(*shown, _s.c.orders.label("n"), _s.c.ms.label("ms"))
                part = part.where(_s.c.orders > 0)
            else:
                grouped = [c for c in (bucket, key) if c is not None]
                part = (
                    sa.select(
                        *shown,
                        sa.cast(sa.func.sum(_s.c.orders), sa.BigInteger).label("n"),
                        sa.cast(sa.func.sum(_s.c.ms), sa.BigInteger).label("ms"),
                    )
                    .group_by(*grouped, _s.c.currency, _s.c.stage, _s.c.bin)
                    .having(sa.func.sum(_s.c.orders) > 0)
                )
            part = part.where(
                _s.c.grouping == kept,
                _s.c.span == span,
                _s.c.created_on >= since,
                _s.c.created_on <= until,
            )
            if channels is not None:
                part = part.where(_s.c.channel.in_(list(channels)))
            if warehouses is not None:
                part = part.where(_s.c.warehouse.in_(list(warehouses)))
            selects.append(part)
        cells = (selects[0] if len(selects) == 1 else sa.union_all(*selects)).subquery("cells")
        c = cells.c
        if whole:
            summed = [sa.null().label("first"), c.key, c.currency, c.stage, c.bin]
            cells = (
                sa.select(
                    *summed,
                    sa.cast(sa.func.sum(c.n), sa.BigInteger).label("n"),
                    sa.cast(sa.func.sum(c.ms), sa.BigInteger).label("ms"),
                )
                .group_by(c.key, c.currency, c.stage, c.bin)
                .subquery("summed")
            )
            c = cells.c
        histogram = [c.first, c.key, c.currency, c.stage]
        used = (not whole, key is not None, True, True)
        per = [column for column, use in zip(histogram, used, strict=True) if use]
        ranked = sa.select(
            *histogram,
            c.n,
            c.ms,
            sa.cast(
                sa.func.sum(c.n).over(partition_by=per, order_by=c.bin, rows=(None, 0)),
                sa.BigInteger,
            ).label("upto"),
            sa.cast(sa.func.sum(c.n).over(partition_by=per), sa.BigInteger).label("total"),
        ).subquery("ranked")
        r = ranked.c
        near = sa.or_(
            *(
                sa.and_(r.upto >= low + 1, r.upto - r.n <= high)
                for low, high in _near_ranks(r.total)
            )
        )
        return sa.select(r.first, r.key, r.currency, r.stage, r.upto, r.n, r.ms, r.total).where(
            near
        )

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


def _near_ranks(total: sa.ColumnElement[int]) -> list[tuple[Any, Any]]:
    """:func:`near_ranks` in SQL: the same whole-number arithmetic on a histogram's total."""
    return [(low - 1, low + 2) for low in ((total - 1) // 2, (9 * (total - 1)) // 10)]
