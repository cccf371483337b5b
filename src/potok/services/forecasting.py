"""Demand forecasts per SKU x warehouse from the orders' history: the daily series (with
stock-out days censored), the rolling-origin backtest that picks a method per series, the
forecast with an interval, and reorder points and order-up-to levels built on it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from math import sqrt
from typing import Any

import numpy as np

from potok.domain.analytics import Grain, Period
from potok.domain.analytics.forecast import (
    FOLDS,
    HORIZON,
    MIN_DAYS,
    Accuracy,
    Backtest,
    backtest,
    forecast_with,
)
from potok.domain.kernel import Clock, utc_now
from potok.services.unit_of_work import UnitOfWork, atomically, reading

HISTORY_DAYS = 365
Z_FOR = {0.8: 0.842, 0.9: 1.282, 0.95: 1.645, 0.98: 2.054, 0.99: 2.326}
"""The standard normal quantile of a target service level (cycle service level)."""


@dataclass
class Demand:
    """Daily units per series (SKU, warehouse) over the days from ``first``."""

    keys: list[tuple[str, str]]
    first: date
    units: np.ndarray[Any, np.dtype[np.float64]]
    censored: np.ndarray[Any, np.dtype[np.bool_]]
    on_hand: np.ndarray[Any, np.dtype[np.float64]]  # as each day began
    channels: list[str] = field(default_factory=list)  # per series, when asked per channel

    @property
    def days(self) -> int:
        return int(self.units.shape[1])

    def day(self, index: int) -> date:
        return self.first + timedelta(days=index)


def load_demand(
    uow: UnitOfWork,
    until: date,
    *,
    days: int = HISTORY_DAYS,
    skus: Sequence[str] | None = None,
    warehouses: Sequence[str] | None = None,
    all_stock: bool = False,
    by_channel: bool = False,
) -> Demand:
    """The demand of every series that had any in the ``days`` up to ``until`` (and with
    ``all_stock``, of every position the ledger knows); a day that began with nothing on
    hand and sold nothing is censored (unknown, not zero). ``by_channel``: a series per
    SKU, warehouse and sales channel (the channels share the position's stock-outs)."""
    period = Period(until - timedelta(days=days - 1), until, Grain.DAY)

    def read(u: UnitOfWork) -> tuple[list[Any], list[Any]]:
        return (
            u.reports.demand(period, by_channel=by_channel, skus=skus, warehouses_=warehouses),
            u.reports.stock_moves(period, skus=skus, warehouses_=warehouses),
        )

    rows, moves = reading(uow, read)
    if skus is not None:
        rows = [r for r in rows if r.sku in skus]
    if warehouses is not None:
        rows = [r for r in rows if r.warehouse in warehouses]
        moves = [m for m in moves if m.warehouse in warehouses]
    series = sorted(
        {(r.sku, r.warehouse, r.channel) for r in rows}
        | ({(m.sku, m.warehouse, "") for m in moves} if all_stock else set())
    )
    index = {k: i for i, k in enumerate(series)}
    places: dict[tuple[str, str], list[int]] = defaultdict(list)  # the series of a position
    for i, (sku, warehouse, _) in enumerate(series):
        places[sku, warehouse].append(i)
    units = np.zeros((len(series), days))
    for r in rows:
        units[index[r.sku, r.warehouse, r.channel], (r.day - period.since).days] += r.units
    change = np.zeros((len(series), days + 1))  # column 0: the opening balance
    for m in moves:
        column = 0 if m.at is None else (m.at.date() - period.since).days + 1
        for i in places.get((m.sku, m.warehouse), ()):
            change[i, column] += m.quantity
    at_start = np.cumsum(change, axis=1)[:, :days]  # on hand as each day began
    censored = (at_start <= 0) & (units == 0)
    return Demand(
        [(sku, warehouse) for sku, warehouse, _ in series],
        period.since,
        units,
        censored,
        at_start,
        [channel for *_, channel in series] if by_channel else [],
    )


@dataclass
class SeriesForecast:
    sku: str
    warehouse: str
    method: str
    forecast: list[float]
    sigma: float  # the spread of a day's error on held-out days
    accuracy: Accuracy | None = None
    baseline: Accuracy | None = None
    note: str = ""
    channel: str = ""  # "" when the series is every channel together


@dataclass
class ForecastRun:
    first: date
    days: int
    horizon: int
    series: list[SeriesForecast]
    total: Accuracy | None = None
    total_baseline: Accuracy | None = None
    notes: list[str] = field(default_factory=list)


def forecast_demand(demand: Demand, horizon: int = HORIZON) -> ForecastRun:
    """Pick each series' method by the backtest (the seasonal naive where the history is
    too short, with a note) and forecast ``horizon`` days from the day after the history."""
    n = len(demand.keys)
    run = ForecastRun(demand.first, demand.days, horizon, [])
    if n == 0:
        return run
    tested: Backtest | None = None
    if demand.days >= MIN_DAYS + FOLDS * horizon:
        tested = backtest(demand.units, demand.censored, horizon)
        run.total, run.total_baseline = tested.total, tested.total_baseline
    else:
        run.notes.append(
            f"{demand.days} days of history: too few for a backtest "
            f"({MIN_DAYS + FOLDS * horizon} needed); every series gets the seasonal naive"
        )
    known = (~demand.censored).sum(axis=1)
    methods = [
        tested.chosen[i] if tested is not None and known[i] >= MIN_DAYS else "seasonal_naive"
        for i in range(n)
    ]
    by_method: dict[str, list[int]] = defaultdict(list)
    for i, method in enumerate(methods):
        by_method[method].append(i)
    values = np.zeros((n, horizon))
    for method, rows in by_method.items():
        values[rows] = forecast_with(method, demand.units[rows], demand.censored[rows], horizon)
    for i, (sku, warehouse) in enumerate(demand.keys):
        note = ""
        if known[i] < MIN_DAYS:
            note = f"{int(known[i])} days of known demand: the baseline, not a fitted method"
        accuracy = tested.accuracy[i] if tested is not None else None
        baseline = tested.baseline[i] if tested is not None else None
        run.series.append(
            SeriesForecast(
                sku,
                warehouse,
                methods[i],
                [round(float(v), 3) for v in values[i]],
                _sigma(demand, i),
                accuracy,
                baseline,
                note,
                demand.channels[i] if demand.channels else "",
            )
        )
    return run


def _sigma(demand: Demand, i: int) -> float:
    """A day's demand spread around its weekday's usual (known days only)."""
    known = demand.units[i][~demand.censored[i]]
    if known.size < 2:
        return float(known.mean()) if known.size else 0.0
    return float(known.std(ddof=1))


@dataclass(frozen=True, slots=True)
class ReorderSuggestion:
    """Reorder point and order-up-to level of one SKU at one warehouse, and why."""

    sku: str
    warehouse: str
    method: str
    lead_days: int
    lead_demand: float  # forecast units over the lead time
    safety_stock: float  # z x sigma x sqrt(lead time)
    reorder_point: int
    order_up_to: int  # the reorder point plus the forecast over the review period
    position: int  # on hand - reserved - unavailable + incoming
    suggested_quantity: int
    min_level: int | None  # the min/max rule beside it, when there is one
    max_level: int | None
    why: str


def reorder_suggestions(
    run: ForecastRun,
    positions: dict[tuple[str, str], int],
    rules: dict[tuple[str, str], tuple[int, int]],
    *,
    lead_days: int = 7,
    review_days: int = 7,
    service_level: float = 0.95,
) -> list[ReorderSuggestion]:
    """For each series: reorder point = forecast over the lead time + safety stock for the
    service level; below it, order up to the reorder point plus the review period's
    forecast."""
    z = Z_FOR[service_level]
    found = []
    for s in run.series:
        lead = sum(s.forecast[:lead_days])
        review = sum(s.forecast[lead_days : lead_days + review_days])
        safety = z * s.sigma * sqrt(lead_days)
        rop = int(np.ceil(lead + safety))
        up_to = int(np.ceil(lead + safety + review))
        position = positions.get((s.warehouse, s.sku), 0)
        quantity = max(0, up_to - position) if position < rop else 0
        rule = rules.get((s.warehouse, s.sku))
        why = (
            f"{s.method}: {lead:.1f} units over {lead_days} d of lead time + safety "
            f"{safety:.1f} ({int(service_level * 100)} % service, sigma {s.sigma:.2f}/d) = "
            f"reorder point {rop}; position {position} "
            + (f"is below it: order up to {up_to}" if quantity else "covers it")
        )
        found.append(
            ReorderSuggestion(
                s.sku,
                s.warehouse,
                s.method,
                lead_days,
                round(lead, 2),
                round(safety, 2),
                rop,
                up_to,
                position,
                quantity,
                rule[0] if rule else None,
                rule[1] if rule else None,
                why,
            )
        )
    return found


def stock_positions(
    uow: UnitOfWork,
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], tuple[int, int]]]:
    """Each (warehouse, SKU)'s stock position (available + incoming) and its min/max rule."""
    # imported here: the stock services reach the reactions registry, which reaches reports
    from potok.services import inventory, replenishment

    positions: dict[tuple[str, str], int] = defaultdict(int)
    cursor: str | None = None
    while True:
        page = inventory.list_levels(uow, cursor=cursor, limit=1000)
        for row in page.items:
            positions[row.warehouse, row.sku] += row.available + row.incoming
        cursor = page.next_cursor
        if cursor is None:
            break
    rules: dict[tuple[str, str], tuple[int, int]] = {}
    cursor = None
    while True:
        rule_page = replenishment.list_rules(uow, cursor=cursor, limit=1000)
        for state in rule_page.items:
            rules[state.warehouse, state.sku] = (state.min_level, state.max_level)
        cursor = rule_page.next_cursor
        if cursor is None:
            break
    return dict(positions), rules


FORECASTS_KEPT = 14
"""Stored runs kept; older ones are dropped when a new one is stored."""


@dataclass(frozen=True, slots=True)
class StoredForecast:
    """A forecast run as stored: its id, when it ran and the forecasts themselves."""

    id: int
    ran_at: datetime
    until: date
    run: ForecastRun
    by_channel: bool = False
    series: int = 0  # in the whole run (``run.series`` may hold one SKU's only)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def run_forecast(
    uow: UnitOfWork,
    until: date,
    *,
    days: int = HISTORY_DAYS,
    horizon: int = HORIZON,
    by_channel: bool = False,
    actor: str = "cli",
    clock: Clock = utc_now,
) -> StoredForecast:
    """Forecast every series from the history up to ``until`` (per channel too, if asked)
    and store the run with each series' method, forecast and accuracy; the newest
    ``FORECASTS_KEPT`` runs are kept."""
    run = forecast_demand(load_demand(uow, until, days=days, by_channel=by_channel), horizon)
    at = clock()
    total, base = run.total, run.total_baseline
    head = {
        "ran_at": at,
        "until_on": until,
        "days": days,
        "horizon": horizon,
        "by_channel": by_channel,
        "series": len(run.series),
        "mase": _rounded(total.mase if total else None),
        "mase_seasonal_naive": _rounded(base.mase if base else None),
        "wape": _rounded(total.wape if total else None),
        "bias": _rounded(total.bias if total else None),
        "notes": run.notes,
        "actor": actor,
    }
    series = [
        {
            "sku": s.sku,
            "warehouse": s.warehouse,
            "channel": s.channel,
            "method": s.method,
            "forecast": s.forecast,
            "sigma": round(s.sigma, 4),
            "mase": _rounded(s.accuracy.mase if s.accuracy else None),
            "mase_seasonal_naive": _rounded(s.baseline.mase if s.baseline else None),
            "wape": _rounded(s.accuracy.wape if s.accuracy else None),
            "bias": _rounded(s.accuracy.bias if s.accuracy else None),
            "note": s.note[:500],
        }
        for s in run.series
    ]

    def store(u: UnitOfWork) -> int:
        run_id = u.reports.add_forecast(head, series)
        u.reports.forget_forecasts(FORECASTS_KEPT)
        return run_id

    return StoredForecast(atomically(uow, store), at, until, run, by_channel, len(run.series))


def forecast_when_due(
    uow: UnitOfWork, every_hours: float, *, clock: Clock = utc_now
) -> StoredForecast | None:
    """The scheduled run: forecast from the history up to yesterday (the last whole day)
    when the newest stored run is at least ``every_hours`` old (0: never)."""
    if every_hours <= 0:
        return None
    last = reading(uow, lambda u: u.reports.last_forecast_at())
    now = clock()
    if last is not None and now - last < timedelta(hours=every_hours):
        return None
    return run_forecast(uow, now.date() - timedelta(days=1), actor="schedule", clock=clock)
