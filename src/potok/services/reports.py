"""Reports: order KPIs, reasons and per-employee work over a period, read from the order
facts read model; the reaction that keeps that model current and the rebuild from history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from potok.domain.analytics import (
    STAGES,
    BucketSums,
    Dimension,
    EmployeeFigures,
    KpiRow,
    Period,
    ReasonCount,
    employee_figures,
    kpi_rows,
    reason_counts,
)
from potok.domain.kernel import Clock, utc_now
from potok.domain.webhooks import StoredEvent
from potok.services.outside import Outside, Settle
from potok.services.unit_of_work import UnitOfWork, atomically, reading

FACT_EVENTS: tuple[str, ...] = (
    "order.created",
    "order.confirmed",
    "order.cancelled",
    "order.backordered",
    "order.reserved",
    "order.replanned",
    "order.edited",
    "order.status_changed",
    "shipment.created",
    "shipment.picking_started",
    "shipment.short_picked",
    "shipment.packed",
    "shipment.handed_over",
    "shipment.in_transit",
    "shipment.ready_for_pickup",
    "shipment.delivered",
    "shipment.delivery_failed",
    "shipment.returning",
    "shipment.returned_to_sender",
    "shipment.cancelled",
    "shipment.reopened",
    "return.requested",
    "return.received",
    "return.closed",
    "return.exchanged",
)
"""The events after which an order's facts may read differently."""


def refresh_facts_of_many(outside: Outside, events: Sequence[StoredEvent]) -> Settle | None:
    """The orders a window of events is about get their facts written afresh, each once
    and all in one statement per step, however many of the events name it (an order
    placed and reserved a moment later is read once). Idempotent: the facts are recomputed
    from what is stored, so a second run writes the same rows."""
    ids = sorted(
        {
            int(event.payload[k])
            for event in events
            for k in ("order_id", "exchange_order_id")
            if event.payload.get(k) is not None
        }
    )
    if not ids:
        return None
    at = outside.clock()

    def settle(uow: UnitOfWork) -> None:
        uow.reports.refresh(ids, at)

    return settle


def _next_ids(uow: UnitOfWork, *, after: int, limit: int) -> list[int]:
    return uow.reports.order_ids_after(after, limit)


def _refresh(uow: UnitOfWork, *, ids: list[int], at: datetime) -> int:
    return uow.reports.refresh(ids, at)


def _clear(uow: UnitOfWork) -> None:
    uow.reports.clear()


def refresh_order_facts(
    uow: UnitOfWork, order_ids: Sequence[int], *, clock: Clock = utc_now
) -> int:
    """Write these orders' facts and days afresh now, as the reaction would after their
    events (idempotent); returns how many were written."""
    return atomically(uow, partial(_refresh, ids=list(order_ids), at=clock()))


def rebuild_order_facts(
    uow: UnitOfWork,
    *,
    batch: int = 1000,
    clock: Clock = utc_now,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every order's facts and days afresh from the history, a batch per
    transaction (the old ones are dropped first, in a transaction of their own)."""
    atomically(uow, _clear)
    after, done = 0, 0
    while True:
        ids = reading(uow, partial(_next_ids, after=after, limit=batch))
        if not ids:
            return done
        done += atomically(uow, partial(_refresh, ids=ids, at=clock()))
        after = ids[-1]
        if progress is not None:
            progress(len(ids))


@dataclass(frozen=True, slots=True)
class OrderReport:
    period: Period
    dimension: Dimension
    rows: list[KpiRow]
    totals: list[KpiRow]  # the whole period, one row per currency


def order_report(
    uow: UnitOfWork,
    period: Period,
    dimension: Dimension = Dimension.NONE,
    *,
    channels: Sequence[str] | None = None,
    warehouses: Sequence[str] | None = None,
) -> OrderReport:
    """Order KPIs per bucket (and per channel, warehouse or carrier) of the period, and the
    period's totals: read from the daily aggregates, so a year costs a few hundred days."""

    def read(u: UnitOfWork) -> tuple[list[BucketSums], list[BucketSums]]:
        return (
            u.reports.sums(period, dimension, channels=channels, warehouses=warehouses),
            u.reports.sums(
                period, Dimension.NONE, channels=channels, warehouses=warehouses, whole=True
            ),
        )

    series, totals = reading(uow, read)
    return OrderReport(
        period,
        dimension,
        kpi_rows(series, period, dimension),
        kpi_rows(totals, period, whole=True),
    )


def reasons_report(
    uow: UnitOfWork, period: Period, *, channels: Sequence[str] | None = None
) -> list[ReasonCount]:
    """Why orders accepted in the period were cancelled or returned."""
    return reason_counts(reading(uow, lambda u: u.reports.facts(period, channels)), period)


def employee_report(
    uow: UnitOfWork, period: Period, *, warehouses: Sequence[str] | None = None
) -> list[EmployeeFigures]:
    """Units picked per person and warehouse in the period, and picks per working hour."""
    return employee_figures(reading(uow, lambda u: u.reports.pick_scans(period, warehouses)))


KPI_FIELDS: tuple[str, ...] = (
    "period",
    "key",
    "currency",
    "orders",
    "cancelled",
    "revenue",
    "average_order",
    "cancellation_rate",
    "delivered",
    "on_time_rate",
    "backorder_rate",
    "fill_rate",
    "return_rate",
    "shipping_cost_per_order",
    "shipping_estimate_per_order",
    *(f"{stage}_{q}_s" for stage in STAGES for q in ("median", "p90")),
)
"""The columns of a flat KPI row, as files and the command line show it."""


def flat(row: KpiRow) -> dict[str, object]:
    """One KPI row as plain columns (stage times as median and 90th percentile seconds)."""
    record: dict[str, object] = {
        "period": row.period,
        "key": row.key,
        "currency": row.currency,
        "orders": row.orders,
        "cancelled": row.cancelled,
        "revenue": row.revenue,
        "average_order": row.average_order,
        "cancellation_rate": row.cancellation_rate,
        "delivered": row.delivered,
        "on_time_rate": row.on_time_rate,
        "backorder_rate": row.backorder_rate,
        "fill_rate": row.fill_rate,
        "return_rate": row.return_rate,
        "shipping_cost_per_order": row.shipping_cost_per_order,
        "shipping_estimate_per_order": row.shipping_estimate_per_order,
    }
    for stage in row.stages:
        record[f"{stage.stage}_median_s"] = stage.median_s
        record[f"{stage.stage}_p90_s"] = stage.p90_s
    return record
