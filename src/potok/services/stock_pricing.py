"""The job that prices stock for the orders still to come (see
``potok.domain.sourcing.stock_value``): from the order history's demand per product and
region (each SKU's total taken from the latest stored forecast run when it covers the
horizon), the free stock and what arrives within the horizon, and the tariffs; the engine
reads the prices with the rest of the network and weighs them in every decision."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Clock, utc_now
from potok.domain.sourcing.stock_value import PricingInputs, StockPricingRun, price_network
from potok.domain.sourcing.tariffs import TariffTable
from potok.services.unit_of_work import UnitOfWork, atomically, reading

HISTORY_DAYS = (1, 365)
HORIZON_DAYS = (1, 90)


def price_stock(
    uow: UnitOfWork,
    *,
    history_days: int = 28,
    horizon_days: int = 7,
    actor: str = "system",
    clock: Clock = utc_now,
) -> StockPricingRun:
    """Price every position anew from the last ``history_days`` of orders, for the next
    ``horizon_days``; the prices replace the previous run's."""
    errors = []
    for name, value, (lo, hi) in (
        ("history_days", history_days, HISTORY_DAYS),
        ("horizon_days", horizon_days, HORIZON_DAYS),
    ):
        if not lo <= value <= hi:
            errors.append(FieldError(name, f"between {lo} and {hi} days", "out-of-range"))
    if errors:
        raise InvalidInput(errors)
    started = time.perf_counter()
    now = clock()
    since, until = now - timedelta(days=history_days), (now + timedelta(days=horizon_days)).date()

    def read(uow: UnitOfWork) -> tuple[TariffTable, PricingInputs, dict[str, float]]:
        head, series = uow.reports.latest_forecast()
        return (
            uow.sourcing_setup().tariffs,
            uow.sourcing.pricing_inputs(since=since, until=until),
            forecast_units(head, series, now.date(), horizon_days),
        )

    tariffs, inputs, forecast = reading(uow, read)
    prices = price_network(
        inputs, tariffs, history_days=history_days, horizon_days=horizon_days, forecast=forecast
    )
    run = StockPricingRun(
        None,
        now,
        history_days,
        horizon_days,
        len({d.product_id for d in inputs.demand}),
        len(prices),
        time.perf_counter() - started,
        actor,
    )
    return atomically(uow, lambda uow: uow.sourcing.replace_stock_prices(prices, run))


def forecast_units(
    head: Mapping[str, Any] | None,
    series: Sequence[Mapping[str, Any]],
    today: date,
    horizon_days: int,
) -> dict[str, float]:
    """Units per SKU over the ``horizon_days`` from ``today`` by the stored forecast run
    (every warehouse and channel added up); SKUs whose series do not reach the horizon's end
    (an old run, or a short one) are left out, and the history prices them."""
    if head is None:
        return {}
    start = max(0, (today - head["until_on"]).days - 1)  # the series start the day after
    out: dict[str, float] = {}
    short: set[str] = set()
    for row in series:
        days = row["forecast"][start : start + horizon_days]
        if len(days) < horizon_days:
            short.add(row["sku"])
            continue
        out[row["sku"]] = out.get(row["sku"], 0.0) + sum(float(v) for v in days)
    return {sku: units for sku, units in out.items() if sku not in short}


def price_stock_when_due(
    uow: UnitOfWork,
    every_hours: float,
    *,
    history_days: int = 28,
    horizon_days: int = 7,
    clock: Clock = utc_now,
) -> StockPricingRun | None:
    """The scheduled run, when the latest is at least ``every_hours`` old (0: never)."""
    if every_hours <= 0:
        return None
    last = reading(uow, lambda u: u.sourcing.last_stock_pricing())
    if last is not None and clock() - last.computed_at < timedelta(hours=every_hours):
        return None
    return price_stock(
        uow, history_days=history_days, horizon_days=horizon_days, actor="schedule", clock=clock
    )


def priced_positions(uow: UnitOfWork, limit: int = 20) -> list[tuple[str, str, Decimal]]:
    """The dearest positions of the latest run: (warehouse, SKU, price)."""
    return reading(uow, lambda u: list(u.sourcing.priced_positions(limit)))
