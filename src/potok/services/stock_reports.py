"""Stock KPIs: per SKU and warehouse, turnover and days of cover over a period, dead stock,
and the value on hand and about to expire (at the products' prices)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from potok.domain.analytics import Grain, Period
from potok.domain.analytics.stock import StockFigures
from potok.services import expiry, forecasting
from potok.services.pages import cursor_after, key_of
from potok.services.report_ports import PositionRow, PositionTotals
from potok.services.unit_of_work import UnitOfWork, reading


def _period(until: date, days: int) -> Period:
    """The days the figures judge by (as the demand's history reads them)."""
    return Period(until - timedelta(days=days - 1), until, Grain.DAY)


def _figures(
    uow: UnitOfWork,
    until: date,
    positions: Sequence[PositionRow],
    *,
    days: int,
    expiring_within: int,
    whole: bool,
    warehouses: list[str] | None,
) -> list[StockFigures]:
    """The figures of these positions (read for their SKUs and warehouses only, unless
    ``whole``: every position in ``warehouses``)."""
    if not positions:
        return []
    skus = None if whole else sorted({p.sku for p in positions})
    codes = warehouses if whole else sorted({p.warehouse for p in positions})
    demand = forecasting.load_demand(
        uow, until, days=days, skus=skus, warehouses=codes, all_stock=True
    )
    prices = reading(uow, lambda u: u.reports.prices())
    expiring: dict[tuple[str, str], int] = defaultdict(int)
    for lot in expiry.expiring_lots(uow, within_days=expiring_within, within=codes):
        expiring[lot.warehouse, lot.sku] += lot.on_hand
    index = {key: i for i, key in enumerate(demand.keys)}
    found = []
    for position in positions:
        warehouse, sku = position.warehouse, position.sku
        i = index.get((sku, warehouse))
        sold = int(demand.units[i].sum()) if i is not None else 0
        average = float(demand.on_hand[i].mean()) if i is not None else 0.0
        price = prices.get(sku, Decimal("0.00"))
        found.append(
            StockFigures(
                warehouse,
                sku,
                position.on_hand,
                position.available,
                sold,
                round(average, 2),
                days,
                price * position.on_hand,
                expiring[warehouse, sku],
                price * expiring[warehouse, sku],
            )
        )
    return found


def stock_figures(
    uow: UnitOfWork,
    until: date,
    *,
    days: int = 90,
    expiring_within: int = 30,
    warehouses: list[str] | None = None,
) -> list[StockFigures]:
    """Every position on hand or sold in the ``days`` up to ``until``, in (warehouse, SKU)
    order."""
    period = _period(until, days)
    positions = reading(uow, lambda u: u.reports.stock_positions(period, warehouses_=warehouses))
    return _figures(
        uow,
        until,
        positions,
        days=days,
        expiring_within=expiring_within,
        whole=True,
        warehouses=warehouses,
    )


@dataclass(frozen=True, slots=True)
class StockPage:
    items: list[StockFigures]
    next_cursor: str | None
    positions: int = 0  # on every page, as the totals below
    value: Decimal = Decimal("0.00")
    dead: int = 0
    dead_value: Decimal = Decimal("0.00")
    expiring_value: Decimal = Decimal("0.00")


def stock_report(
    uow: UnitOfWork,
    until: date,
    *,
    days: int = 90,
    expiring_within: int = 30,
    warehouses: list[str] | None = None,
    dead_only: bool = False,
    cursor: str | None = None,
    limit: int = 100,
) -> StockPage:
    """The stock figures a page at a time, in (warehouse, SKU) order; ``dead_only``: only
    what lay there unasked for. The database picks the page's positions (and the dead
    ones) and sums the totals; only the page's positions are worked out here."""
    period = _period(until, days)
    after = key_of(cursor, 2) if cursor is not None else None

    def read(u: UnitOfWork) -> tuple[list[PositionRow], PositionTotals]:
        rows = u.reports.stock_positions(
            period,
            warehouses_=warehouses,
            dead_only=dead_only,
            after=(after[0], after[1]) if after is not None else None,
            limit=limit + 1,
        )
        return rows, u.reports.stock_totals(period, warehouses_=warehouses, dead_only=dead_only)

    rows, totals = reading(uow, read)
    shown = rows[:limit]
    items = _figures(
        uow,
        until,
        shown,
        days=days,
        expiring_within=expiring_within,
        whole=False,
        warehouses=warehouses,
    )
    last = shown[-1] if shown else None
    return StockPage(
        items,
        cursor_after((last.warehouse, last.sku)) if last and len(rows) > limit else None,
        totals.positions,
        totals.value,
        totals.dead,
        totals.dead_value,
        _expiring_value(
            uow, period, within=expiring_within, warehouses=warehouses, dead_only=dead_only
        ),
    )


def _expiring_value(
    uow: UnitOfWork,
    period: Period,
    *,
    within: int,
    warehouses: list[str] | None,
    dead_only: bool,
) -> Decimal:
    """The value of the units in lots expiring within ``within`` days (of dead positions
    only, with ``dead_only``), at the products' prices. Lots are few: summed here."""
    units: dict[tuple[str, str], int] = defaultdict(int)
    for lot in expiry.expiring_lots(uow, within_days=within, within=warehouses):
        units[lot.warehouse, lot.sku] += lot.on_hand
    if not units:
        return Decimal("0.00")
    codes = sorted({warehouse for warehouse, _ in units})

    def read(u: UnitOfWork) -> tuple[dict[str, Decimal], set[tuple[str, str]] | None]:
        dead = None
        if dead_only:
            rows = u.reports.stock_positions(period, warehouses_=codes, dead_only=True)
            dead = {(r.warehouse, r.sku) for r in rows}
        return u.reports.prices(), dead

    prices, dead = reading(uow, read)
    return sum(
        (
            prices.get(sku, Decimal("0.00")) * n
            for (warehouse, sku), n in units.items()
            if dead is None or (warehouse, sku) in dead
        ),
        Decimal("0.00"),
    )
