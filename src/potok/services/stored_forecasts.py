"""Reading the stored forecast run (``potok forecast run`` or the worker's schedule) instead
of forecasting again: one SKU's days with their interval, and the reorder suggestions of
every position built on the run and the stock as it is now."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from math import sqrt
from typing import Any

from potok.domain.analytics import ForecastTooShort, NoForecastRun
from potok.domain.analytics.forecast import Accuracy
from potok.domain.errors import FieldError, InvalidInput
from potok.services.forecasting import (
    Z_FOR,
    ForecastRun,
    ReorderSuggestion,
    SeriesForecast,
    StoredForecast,
    reorder_suggestions,
    stock_positions,
)
from potok.services.pages import page_after
from potok.services.unit_of_work import UnitOfWork, reading


def _accuracy(mase: Any, wape: Any = None, bias: Any = None) -> Accuracy | None:
    if mase is None and wape is None and bias is None:
        return None
    return Accuracy(mase, wape, bias)


def latest_forecast(
    uow: UnitOfWork, *, sku: str | None = None, warehouses: Sequence[str] | None = None
) -> StoredForecast:
    """The newest stored run, with its series (of one SKU, at these warehouses, if asked)."""
    head, rows = reading(uow, lambda u: u.reports.latest_forecast(sku))
    if head is None:
        raise NoForecastRun()
    series = [
        SeriesForecast(
            r["sku"],
            r["warehouse"],
            r["method"],
            [float(v) for v in r["forecast"]],
            float(r["sigma"]),
            _accuracy(r["mase"], r["wape"], r["bias"]),
            _accuracy(r["mase_seasonal_naive"]),
            r["note"],
            r["channel"],
        )
        for r in rows
        if warehouses is None or r["warehouse"] in warehouses
    ]
    until = head["until_on"]
    run = ForecastRun(
        until - timedelta(days=head["days"] - 1),
        head["days"],
        head["horizon"],
        series,
        _accuracy(head["mase"], head["wape"], head["bias"]),
        _accuracy(head["mase_seasonal_naive"]),
        list(head["notes"] or []),
    )
    return StoredForecast(
        int(head["id"]), head["ran_at"], until, run, bool(head["by_channel"]), int(head["series"])
    )


def per_position(run: ForecastRun) -> ForecastRun:
    """A run per channel folded into one series per SKU and warehouse: the channels'
    forecasts added day by day, their spreads as independent ones (root of the summed
    squares); a run without channels as it is."""
    if not any(s.channel for s in run.series):
        return run
    parts: dict[tuple[str, str], list[SeriesForecast]] = defaultdict(list)
    for s in run.series:
        parts[s.sku, s.warehouse].append(s)
    folded = []
    for (sku, warehouse), found in sorted(parts.items()):
        days = max(len(s.forecast) for s in found)
        forecast = [
            round(sum(s.forecast[j] for s in found if j < len(s.forecast)), 3) for j in range(days)
        ]
        methods = "+".join(sorted({s.method for s in found}))
        notes = "; ".join(f"{s.channel}: {s.note}" for s in found if s.note)
        sigma = sqrt(sum(s.sigma**2 for s in found))
        folded.append(SeriesForecast(sku, warehouse, methods, forecast, sigma, note=notes))
    return ForecastRun(
        run.first, run.days, run.horizon, folded, run.total, run.total_baseline, run.notes
    )


def reorder_from_latest(
    uow: UnitOfWork,
    *,
    lead_days: int = 7,
    review_days: int = 7,
    service_level: float = 0.95,
    warehouses: Sequence[str] | None = None,
) -> tuple[StoredForecast, list[ReorderSuggestion]]:
    """Reorder point, order-up-to level and the quantity to order of every position the
    newest stored run forecast, against the stock position now (available + incoming), with
    the min/max rule beside it and why."""
    if service_level not in Z_FOR:
        levels = ", ".join(str(z) for z in Z_FOR)
        raise InvalidInput(
            [FieldError("service_level", f"give one of {levels}", "unknown-service-level")]
        )
    stored = latest_forecast(uow, warehouses=warehouses)
    needed = lead_days + review_days
    if needed > stored.run.horizon:
        raise ForecastTooShort(
            lead_days=lead_days,
            review_days=review_days,
            needed=needed,
            run=stored.id,
            horizon=stored.run.horizon,
        )
    positions, rules = stock_positions(uow)
    found = reorder_suggestions(
        per_position(stored.run),
        positions,
        rules,
        lead_days=lead_days,
        review_days=review_days,
        service_level=service_level,
    )
    return stored, found


@dataclass(frozen=True, slots=True)
class ReorderPage:
    run: StoredForecast
    items: list[ReorderSuggestion]
    next_cursor: str | None


def reorder_page(
    uow: UnitOfWork,
    *,
    lead_days: int = 7,
    review_days: int = 7,
    service_level: float = 0.95,
    warehouses: Sequence[str] | None = None,
    sku: str | None = None,
    to_order_only: bool = True,
    cursor: str | None = None,
    limit: int = 100,
) -> ReorderPage:
    """The suggestions a page at a time, in (warehouse, SKU) order; ``to_order_only``: the
    positions below their reorder point."""
    stored, found = reorder_from_latest(
        uow,
        lead_days=lead_days,
        review_days=review_days,
        service_level=service_level,
        warehouses=warehouses,
    )
    kept = [
        s
        for s in found
        if (sku is None or s.sku == sku) and (s.suggested_quantity > 0 or not to_order_only)
    ]
    items, next_cursor = page_after(kept, lambda s: (s.warehouse, s.sku), cursor, limit)
    return ReorderPage(stored, items, next_cursor)
